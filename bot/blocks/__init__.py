"""Block Kit rendering: pure functions from what a request, its events, the config and the time say."""
