"""Thin Bolt adapters, one module per surface. Each acks, calls one use case, responds."""

from slack_bolt import App

from bot.listeners import actions, changes, commands, events, middleware, search, shortcuts, trust, views


def register(app: App) -> None:
    trust.register(app)
    middleware.register(app)
    commands.register(app)
    events.register(app)
    actions.register(app)
    views.register(app)
    shortcuts.register(app)
    changes.register(app)
    search.register(app)
