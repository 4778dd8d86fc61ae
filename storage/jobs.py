"""What the scheduled jobs keep between runs and processes: the leases that let one process run a job at a time,
and the last hand-run of each job (`ai-intake jobs run`, read by /metrics). Reached as `tx.jobs`."""

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlite_utils import Database

from storage.rows import to_db_time


class JobsTx:
    """The jobs' leases and hand-runs, in one transaction or read (`tx.jobs`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def take_lease(
        self,
        name: str,
        *,
        holder: str,
        now: datetime,
        seconds: float,
        unless_held_by: Callable[[str], bool] | None = None,
    ) -> bool:
        """Hold the named lease for `seconds` unless another holder's lease is still running.

        `unless_held_by(other)` says whether the other holder still counts (False: a process known to
        be gone), so its lease can be taken before it runs out.
        """
        row = next(self.db.query("SELECT holder, expires_at FROM leases WHERE name = ?", [name]), None)
        if row and row["holder"] != holder and row["expires_at"] > to_db_time(now):
            if unless_held_by is None or unless_held_by(row["holder"]):
                return False
        self.db.execute(
            """INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
               ON CONFLICT(name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at""",
            [name, holder, to_db_time(now + timedelta(seconds=seconds))],
        )
        return True

    def release_lease(self, name: str, *, holder: str) -> None:
        self.db.execute("DELETE FROM leases WHERE name = ? AND holder = ?", [name, holder])

    def record_hand_run(self, job: str, *, at: datetime, ok: bool, seconds: float) -> None:
        """A hand-run of `job` (`ai-intake jobs run`) ended at `at`: well (`ok`) or not, after `seconds`."""
        self.db.execute(
            "INSERT INTO hand_job_runs (job, at, ok, seconds) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(job) DO UPDATE SET at = excluded.at, ok = excluded.ok, seconds = excluded.seconds",
            [job, to_db_time(at), int(ok), seconds],
        )

    def hand_runs(self) -> dict[str, tuple[datetime, bool, float]]:
        """The last hand-run of each job: job -> (when it ended, whether well, seconds)."""
        return {
            row["job"]: (datetime.fromisoformat(row["at"]), bool(row["ok"]), row["seconds"])
            for row in self.db.query("SELECT job, at, ok, seconds FROM hand_job_runs")
        }
