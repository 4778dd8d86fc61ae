"""What the bot remembers of people: what each requester chose to be told, who is away (until when, covered by
whom), their time zone, when each was last assigned, and who looks at the App Home. Reached as `tx.people`."""

from collections.abc import Sequence
from datetime import date, datetime

from sqlite_utils import Database

from bot.domain.models import Away
from storage.rows import to_db_time


class PeopleTx:
    """People's settings and whereabouts, in one transaction or read (`tx.people`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def set_notify_level(self, user: str, level: str, *, since: datetime) -> None:
        self.db.execute(
            """INSERT INTO notify_levels (user_id, level, since) VALUES (?, ?, ?) ON CONFLICT(user_id)
               DO UPDATE SET level = excluded.level, since = excluded.since""",
            [user, level, to_db_time(since)],
        )

    def notify_level(self, user: str) -> str | None:
        """What `user` chose to be told of the requests they filed; None when they never chose."""
        rows = list(self.db.query("SELECT level FROM notify_levels WHERE user_id = ?", [user]))
        return rows[0]["level"] if rows else None

    def set_away(self, user: str, *, until: date | None, since: datetime, cover: str | None = None) -> None:
        self.db.execute(
            """INSERT INTO away (user_id, until, since, cover) VALUES (?, ?, ?, ?) ON CONFLICT(user_id)
               DO UPDATE SET until = excluded.until, since = excluded.since, cover = excluded.cover""",
            [user, until.isoformat() if until else None, to_db_time(since), cover],
        )

    def clear_away(self, user: str) -> bool:
        """Forget that `user` is away; False when they were not."""
        return self.db.execute("DELETE FROM away WHERE user_id = ?", [user]).rowcount == 1

    def away_among(self, people: Sequence[str], *, on: date) -> list[Away]:
        """Those of `people` who are away on the day `on` (their `until` is later, or open)."""
        people = sorted(set(people))
        if not people:
            return []
        marks = ", ".join("?" for _ in people)
        rows = self.db.query(
            f"SELECT user_id, until, cover FROM away WHERE user_id IN ({marks}) AND (until IS NULL OR until > ?)",
            [*people, on.isoformat()],
        )
        return [
            Away(r["user_id"], date.fromisoformat(r["until"]) if r["until"] else None, cover=r["cover"]) for r in rows
        ]

    def mark_assigned(self, user: str, at: datetime) -> None:
        self.db.execute(
            "INSERT INTO people (user_id, last_assigned_at) VALUES (?, ?) ON CONFLICT(user_id) DO UPDATE SET last_assigned_at = excluded.last_assigned_at",
            [user, to_db_time(at)],
        )

    def person_tz(self, user: str) -> str | None:
        row = next(self.db.query("SELECT tz FROM people WHERE user_id = ?", [user]), None)
        return row["tz"] if row else None

    def set_person_tz(self, user: str, tz: str) -> None:
        self.db.execute(
            "INSERT INTO people (user_id, tz) VALUES (?, ?) ON CONFLICT(user_id) DO UPDATE SET tz = excluded.tz",
            [user, tz],
        )

    def remember_home_opened(self, user: str) -> None:
        """`user` looks at the App Home: re-publish it when a request of theirs changes (`home_viewers`)."""
        self.db.execute(
            "INSERT INTO people (user_id, home_opened) VALUES (?, 1) ON CONFLICT(user_id) DO UPDATE SET home_opened = 1",
            [user],
        )

    def home_viewers(self, users: set[str]) -> list[str]:
        """Those of `users` who have opened the App Home."""
        people = sorted(u for u in users if u)
        if not people:
            return []
        marks = ", ".join("?" for _ in people)
        rows = self.db.conn.execute(
            f"SELECT user_id FROM people WHERE home_opened = 1 AND user_id IN ({marks})", people
        )
        return [r[0] for r in rows]
