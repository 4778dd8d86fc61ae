"""The outbox: Slack messages the use cases queued in their transaction, sent after Slack was acknowledged.

`kinds` spells what may be queued, `worker` sends what is due, `senders` holds one sender per kind.
"""
