"""History of audits and the rectification ledger (复查、整改台账、销号、督办).

`store` keeps audits, their findings and the ledger in SQLite or PostgreSQL (`database` turns
`--db` into an engine; `schema` declares the tables; `migrations` runs the Alembic revisions of
`alembic/`); `documents` checks a findings.json before it is stored;
`diff` classifies a re-inspection's findings against an earlier audit; `ledger` moves items
through the lifecycle of `rules/lifecycle.yaml` (compiled and evaluated by `lifecycle` on the
Rete engine) and records every change as a hash-chained event; `integrity` recomputes the
sha256 of an audit's inputs, rule packs and outputs and walks the event chain; `replay` recomputes
the ledger's items from the chain; `checks` and `verification` are `inspector verify` (and the check
every ledger-changing command makes first); `trends` gives each area's indicator values per audit year.
"""
