"""Runtime plumbing: config loading, settings, the clock, logs, metrics, leases and the outbox's wakeup."""
