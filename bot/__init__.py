"""ai-intake: the intake desk for AI requests, a Slack bot. `bot.entry.app.build_app` makes it; `bot.entry.cli` runs it."""
