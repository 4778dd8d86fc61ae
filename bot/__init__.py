"""ai-intake: the intake desk for AI requests, a Slack bot. `bot.app.build_app` makes it; `bot.cli` runs it."""
