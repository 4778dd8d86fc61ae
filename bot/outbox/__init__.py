"""The outbox worker's side: sending what the use cases queued (storage/outbox.py), after Slack was acknowledged.

`worker` drains the queue (lease, pacing, retries); `senders` holds one sender per kind; `slack` makes
the Web API calls; `pacing` spaces posts per channel; `working_hours` knows when a person works.
"""
