"""What the bot learnt of Slack channels: whether each is private, and when that was checked (a request filed in
a private channel stays private). Reached as `tx.channels`."""

from datetime import datetime

from sqlite_utils import Database

from storage.rows import to_db_time


class ChannelsTx:
    """Channels as last seen, in one transaction or read (`tx.channels`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def channel_private(self, channel: str, *, checked_since: datetime) -> bool | None:
        """Whether `channel` is private, as learnt at `checked_since` or later; None when not known that recently."""
        row = next(
            self.db.query(
                "SELECT private FROM channels WHERE channel = ? AND checked_at >= ?",
                [channel, to_db_time(checked_since)],
            ),
            None,
        )
        return bool(row["private"]) if row else None

    def remember_channel(self, channel: str, *, private: bool, at: datetime) -> None:
        self.db.execute(
            """INSERT INTO channels (channel, private, checked_at) VALUES (?, ?, ?) ON CONFLICT(channel)
               DO UPDATE SET private = excluded.private, checked_at = excluded.checked_at""",
            [channel, int(private), to_db_time(at)],
        )
