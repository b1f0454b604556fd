"""History of audits and the rectification ledger (复查、整改台账、销号、督办).

`store` keeps audits, their findings and the ledger in SQLite (schema by `migrations`);
`diff` classifies a re-inspection's findings against an earlier audit; `ledger` moves items
through the lifecycle of `rules/lifecycle.yaml` (compiled and evaluated by `lifecycle` on the
Rete engine) and records every change as a hash-chained event; `integrity` recomputes the
sha256 of an audit's inputs, rule packs and outputs and walks the event chain; `trends`
gives each area's indicator values per audit year.
"""
