"""Full-text search over requests (the `requests_fts` index, kept by triggers): the ids of the requests
whose title or description match some words, best match first. Reached as `tx.search`."""

from collections.abc import Sequence
from datetime import datetime
from itertools import combinations

from sqlite_utils import Database

from bot.domain.duplicates import Candidate


def match_expression(words: Sequence[str], *, any_word: bool, prefix: bool = False) -> str:
    """An FTS5 query for `words` (already reduced to letters, digits, ' _ -): each quoted, so no word is
    read as an operator; OR-ed when `any_word`, else all required; `prefix`: a word matches its longer forms."""
    star = "*" if prefix else ""
    quoted = [f'"{w.replace(chr(34), "")}"{star}' for w in words if w]
    return (" OR " if any_word else " ").join(quoted)


def pairs_expression(words: Sequence[str]) -> str:
    """An FTS5 query for a row holding at least two of `words` (the one word, when there is only one)."""
    quoted = [f'"{w.replace(chr(34), "")}"' for w in words if w]
    if len(quoted) < 2:
        return "".join(quoted)
    return " OR ".join(f"({a} {b})" for a, b in combinations(quoted, 2))


class SearchTx:
    """Search, in one transaction or read (`tx.search`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def ranked(self, words: Sequence[str], *, any_word: bool, prefix: bool = False, limit: int = 200) -> list[int]:
        """The ids of the requests whose title or description match `words` (any of them, or all), best
        match first (bm25, the title weighing double); [] for no words."""
        expression = match_expression(words, any_word=any_word, prefix=prefix)
        if not expression:
            return []
        rows = self.db.conn.execute(
            "SELECT rowid FROM requests_fts WHERE requests_fts MATCH ? ORDER BY bm25(requests_fts, 2.0, 1.0), rowid DESC LIMIT ?",
            [expression, limit],
        )
        return [row[0] for row in rows]

    def newest_sharing_two(self, words: Sequence[str], *, limit: int) -> list[Candidate]:
        """The newest `limit` requests whose title or description hold at least two of `words` (the one, when
        there is only one), newest first, as the similarity rule reads them. Unranked, so its cost follows
        `limit`, not how much of history matches: the index walks the matches newest first and stops."""
        expression = pairs_expression(words)
        if not expression:
            return []
        rows = self.db.conn.execute(
            "SELECT r.id, r.title, r.description, r.status, r.resolved_at FROM requests_fts f JOIN requests r ON r.id = f.rowid"
            " WHERE requests_fts MATCH ? ORDER BY f.rowid DESC LIMIT ?",
            [expression, limit],
        )
        return [
            Candidate(id, title, description or "", status, datetime.fromisoformat(resolved) if resolved else None)
            for id, title, description, status, resolved in rows
        ]
