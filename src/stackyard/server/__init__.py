"""``stackyard server``: the control plane. A JSON API over the apps service layer, Slack
slash commands, GitHub continuous delivery, environment locks, users and scoped tokens, and a
dashboard, all on the apps database (SQLite locally, PostgreSQL for a team)."""
