"""Every Slack id the bot uses, spelled once: command, callback, action and block ids."""

COMMAND = "/ai-request"

# Modals and shortcuts (callback_id)
REQUEST_MODAL = "ai_request.submit"
FROM_MESSAGE = "ai_request.from_message"
DISCLAIM_MODAL = "request.disclaim_reason"

# Card buttons (action_id); each button's value is the request key.
CLAIM = "request.claim"
REASSIGN = "request.reassign"
RESOLVE = "request.resolve"
WAIT = "request.wait"
REOPEN = "request.reopen"
OWN = "request.own"
DISCLAIM = "request.disclaim"
SNOOZE = "request.snooze"
HAND = "request.hand"  # the lead's user select: hand an unowned regression to a named person
EDIT = "request.edit"
WITHDRAW = "request.withdraw"
REVIEW_START = "review.start"
REVIEW_APPROVE = "review.approve"
REVIEW_CHANGES = "review.changes"

# Modal input blocks (block_id) and their elements (action_id)
TITLE = "title"
KIND = "kind"
DOMAIN = "domain"
PRIORITY = "priority"
DESCRIPTION = "description"
LINKS = "links"
CONFIDENTIAL = "confidential"
REASON = "reason"
INPUT = "value"  # the action_id of the one element inside each input block

TICKET_REACTION = "ticket"
