"""Entry points: the Bolt app, the HTTP server, the webhook endpoint, the command line and the scheduler."""
