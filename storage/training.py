"""What triage learns from (the `triage_examples` table and its full-text index): the nearest examples to a
request's words, and the examples the team's corrections add. Reached as `tx.training`.

The table is bounded: the seed and the domains' descriptions (a few hundred rows) plus the newest
`LEARNED_CAP` requests the team settled, so finding the nearest costs the same at any size of history.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlite_utils import Database

from bot.domain.classify import NEIGHBOURS, Neighbour
from bot.domain.models import request_key
from storage.search import match_expression

LEARNED_CAP = 500
FIXED = ("seed", "config")
"""Origins replaced together when the shipped seed or the config changes (`replace_fixed`); every other origin is
a request the team settled."""


class TrainingTx:
    """Training examples, in one transaction or read (`tx.training`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def nearest(self, words: Sequence[str], *, limit: int = NEIGHBOURS) -> list[Neighbour]:
        """The `limit` examples sharing the most telling of `words` (any of them; bm25 over porter stems), nearest first."""
        expression = match_expression(words, any_word=True)
        if not expression:
            return []
        rows = self.db.conn.execute(
            "SELECT e.kind, e.domain, e.origin, -bm25(triage_examples_fts) AS score, e.text, e.request_id"
            " FROM triage_examples_fts JOIN triage_examples e ON e.id = triage_examples_fts.rowid"
            " WHERE triage_examples_fts MATCH ? ORDER BY bm25(triage_examples_fts) LIMIT ?",
            [expression, limit],
        )
        return [
            Neighbour(kind, domain, origin, max(score, 0.0), text, request_key(rid) if rid is not None else None)
            for kind, domain, origin, score, text, rid in rows
        ]

    def learn(self, *, request_id: int, text: str, kind: str, domain: str | None, origin: str, at: datetime) -> None:
        """Keep what the team settled of a request (its latest word replaces an earlier one), dropping the oldest
        learned example past `LEARNED_CAP`."""
        self.db.execute("DELETE FROM triage_examples WHERE request_id = ?", [request_id])
        self.db.execute(
            "INSERT INTO triage_examples (text, kind, domain, origin, request_id, at) VALUES (?, ?, ?, ?, ?, ?)",
            [text, kind, domain, origin, request_id, at.isoformat()],
        )
        self.db.execute(
            "DELETE FROM triage_examples WHERE origin NOT IN ('seed', 'config') AND id <= (SELECT id FROM triage_examples"
            " WHERE origin NOT IN ('seed', 'config') ORDER BY id DESC LIMIT 1 OFFSET ?)",
            [LEARNED_CAP],
        )

    def fingerprint(self) -> str | None:
        """What the fixed examples were made from (None: never filled)."""
        row = self.db.conn.execute("SELECT fingerprint FROM triage_seed WHERE id = 1").fetchone()
        return row[0] if row else None

    def replace_fixed(self, examples: Iterable[tuple[str, str | None, str | None, str]], *, fingerprint: str) -> None:
        """Put `examples` (text, kind, domain, origin) in place of the seed and config rows."""
        self.db.execute("DELETE FROM triage_examples WHERE origin IN ('seed', 'config')")
        self.db.conn.executemany(
            "INSERT INTO triage_examples (text, kind, domain, origin) VALUES (?, ?, ?, ?)", list(examples)
        )
        self.db.execute(
            "INSERT INTO triage_seed (id, fingerprint) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint",
            [fingerprint],
        )

    def learned(self) -> int:
        """How many examples the team's corrections and resolutions added (kept at most `LEARNED_CAP`)."""
        return self.db.conn.execute(
            "SELECT count(*) FROM triage_examples WHERE origin NOT IN ('seed', 'config')"
        ).fetchone()[0]
