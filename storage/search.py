"""Full-text search over requests (the `requests_fts` index, kept by triggers): the ids of the requests
whose title or description match some words, best match first. Reached as `tx.search`."""

from collections.abc import Sequence

from sqlite_utils import Database


def match_expression(words: Sequence[str], *, any_word: bool, prefix: bool = False) -> str:
    """An FTS5 query for `words` (already reduced to letters, digits, ' _ -): each quoted, so no word is
    read as an operator; OR-ed when `any_word`, else all required; `prefix`: a word matches its longer forms."""
    star = "*" if prefix else ""
    quoted = [f'"{w.replace(chr(34), "")}"{star}' for w in words if w]
    return (" OR " if any_word else " ").join(quoted)


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
