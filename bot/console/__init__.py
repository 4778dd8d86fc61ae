"""`ai-intake console`: try the bot with no Slack workspace.

main.py      the command: config and database, the banner, a script or the prompt
session.py   one person typing: lines become Slack requests to the real Bolt app; what Slack shows is printed
workspace.py the stand-in for Slack's Web API (channels, threads, ephemerals, forms, App Home) on 127.0.0.1
screen.py    what appeared, as printed: a header per thing, its buttons numbered, and what pressing one sends
render.py    Block Kit and mrkdwn as terminal text, buttons numbered
payloads.py  what Slack sends an app, as Slack sends it, signed
hooks.py     `/hook`: a body posted to the bot's hooks, signed as its source
forms.py     a modal as a form: prompts, or `/submit field=value …`
timeline.py  the clock, and when the scheduler's jobs run while it moves
directory.py names for the ids in the config (@ben, #support)
"""
