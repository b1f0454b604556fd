"""One router per area: `auth` (login, logout, password), `findings` (overview, lists, a finding's
workflow page, trace, trail, evidence files), `workflow` (the actions), `runs` (import, verify),
`admin` (users), `selfcheck` (自查), `api` (the JSON API)."""
