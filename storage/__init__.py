"""Storage: SQLite through sqlite-utils, one transaction per use case; returns domain models."""
