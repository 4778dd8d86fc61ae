"""Export every request, with its SLA figures, time in each court and event log, as JSON or CSV.

This is the format of docs/export.md; other tools read it, so keep it stable (add
columns at the end, never rename or reorder).

**Admin audit tool.** Confidential requests (security reviews, anything flagged confidential) are
exported in full: title, description, and every event with its data (thread replies' text
included). Whoever runs the export reads the database directly and is trusted with everything in
it; do not post an export where people without that trust can read it.

JSON (`write_json`): one array, one object per request, oldest first (by id):

    key, kind, domain, title, description, priority, status, stage, requester, assignee, owner,
    confidential, source, created_at, first_response_at, resolved_at,
    sla: {"first_response": {due_at, state, business_seconds_elapsed, paused_seconds},
          "resolution":     {due_at, state, business_seconds_elapsed, paused_seconds}},
    court_seconds: {party: seconds},       # only parties that ever had the ball; "nobody" may appear
    events: [{at, actor, type, data}]       # in the order they were recorded

Times are ISO-8601 in UTC with microseconds and an explicit offset, always the same width, e.g.
"2026-11-23T09:00:00.000000+00:00" (the same text the database stores: lossless, and sorts as
text in time order); null when not yet (e.g. `resolved_at` of an open request, `first_response_at`
before anyone answered). `stage` is null except for security reviews. Seconds are floats. SLA figures,
`court_seconds` and open pauses are computed as of the `now` the export was run with. `state` is
one of on_track, at_risk, breached, met, missed.

CSV (`write_csv`): the same fields flattened, without `events`; the header is `CSV_COLUMNS`:
`sla.first_response.due_at` becomes the column `sla_first_response_due_at` and so on, and
`court_seconds` becomes one `court_<party>_seconds` column for each party of `COURT_PARTIES`
(0.0 when the ball was never there), so the header is the same for every export. Time spent in
"nobody"'s court (closed, before a reopen) has no column. Booleans are `true`/`false`, nulls are
empty cells. A text cell that a spreadsheet would run as a formula (one starting with `=`, `+`,
`-`, `@`, a tab or a carriage return: `FORMULA_STARTS`) is written with a leading `'`, as OWASP
advises against CSV injection; numbers, times and every JSON value are written as they are.

Reading is done in batches of `batch` requests, each batch in its own short read, so the export
never holds every request in memory and never holds the database lock while writing output (the
running bot keeps working). A request changed between two batches appears as it was when its
batch was read; a request filed during the export appears if its batch is read after it is filed.

`--changes` writes the change log instead, in its own array (or CSV header: `CHANGE_CSV_COLUMNS`), one
object per logged change by number (`CHANGE_FIELDS`), so the requests' format above is untouched.

Text that UTF-8 cannot encode (a lone surrogate stored before the door replaced them) is written
as U+FFFD. `export_to_file` writes a temporary file beside the target and renames it over the
target only once everything is written, so a failed export leaves no partial file; callers of
`export` open the output with `encoding="utf-8"` (and `newline=""` for CSV, as the csv module asks).
"""

import contextlib
import csv
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from bot.domain.changes import ChangeEvent, ChangeRecord, change_number
from bot.domain.facts import RequestFacts, courts_at, request_facts, sla_at
from bot.domain.models import Event, Request
from bot.domain.policy import Config
from bot.domain.sla import SlaStatus
from bot.domain.text import storable_strings
from storage.store import Store

FORMATS = ("json", "csv")
DEFAULT_BATCH = 500

REQUEST_FIELDS = (
    "key",
    "kind",
    "domain",
    "title",
    "description",
    "priority",
    "status",
    "stage",
    "requester",
    "assignee",
    "owner",
    "confidential",
    "source",
    "created_at",
    "first_response_at",
    "resolved_at",
)
"""The request's own fields, in export order (docs/export.md)."""

SLA_TARGETS = ("first_response", "resolution")
SLA_FIELDS = ("due_at", "state", "business_seconds_elapsed", "paused_seconds")
COURT_PARTIES = ("requester", "assignee", "reviewer", "owners", "lead", "triage")
"""The parties with a CSV column (every court but "nobody"), in column order."""

CSV_COLUMNS: list[str] = [
    *REQUEST_FIELDS,
    *(f"sla_{target}_{name}" for target in SLA_TARGETS for name in SLA_FIELDS),
    *(f"court_{party}_seconds" for party in COURT_PARTIES),
]
"""The stable CSV header:

key, kind, domain, title, description, priority, status, stage, requester, assignee, owner,
confidential, source, created_at, first_response_at, resolved_at,
sla_first_response_due_at, sla_first_response_state, sla_first_response_business_seconds_elapsed,
sla_first_response_paused_seconds, sla_resolution_due_at, sla_resolution_state,
sla_resolution_business_seconds_elapsed, sla_resolution_paused_seconds,
court_requester_seconds, court_assignee_seconds, court_reviewer_seconds, court_owners_seconds,
court_lead_seconds, court_triage_seconds
"""


def export_time(at: datetime | None) -> str | None:
    """UTC ISO-8601 with microseconds ("2026-11-23T09:00:00.000000+00:00"); None stays None."""
    if at is None:
        return None
    if at.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware time, got {at!r}")
    return at.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _sla(status: SlaStatus) -> dict[str, Any]:
    return {
        "due_at": export_time(status.due_at),
        "state": status.state,
        "business_seconds_elapsed": float(status.business_seconds_elapsed),
        "paused_seconds": float(status.paused_seconds),
    }


def _events(events: Iterable[Event | ChangeEvent]) -> list[dict[str, Any]]:
    """A request's or a change's events as the export writes them, in the order they were recorded."""
    return [{"at": export_time(e.at), "actor": e.actor, "type": e.type, "data": e.data} for e in events]


def export_row(
    request: Request, events: list[Event], config: Config, *, now: datetime, facts: RequestFacts | None = None
) -> dict[str, Any]:
    """One request as the export's JSON object (see the module docstring): its SLA figures and time in each court
    read from its kept `facts` at `now` (computed from `events` when none are given)."""
    facts = facts or request_facts(request, events, config)
    sla = sla_at(facts, config, request.domain, now=now)
    return {
        "key": request.key,
        "kind": request.kind,
        "domain": request.domain,
        "title": request.title,
        "description": request.description,
        "priority": request.priority,
        "status": request.status,
        "stage": request.stage,
        "requester": request.requester,
        "assignee": request.assignee,
        "owner": request.owner,
        "confidential": request.confidential,
        "source": request.source,
        "created_at": export_time(request.created_at),
        "first_response_at": export_time(request.first_response_at),
        "resolved_at": export_time(request.resolved_at),
        "sla": {"first_response": _sla(sla.first_response), "resolution": _sla(sla.resolution)},
        "court_seconds": {party: float(s) for party, s in courts_at(facts, now=now).items()},
        "events": _events(events),
    }


def export_rows(
    store: Store, config: Config, *, now: datetime, batch: int = DEFAULT_BATCH, events: bool = True
) -> Iterator[dict[str, Any]]:
    """Every request, oldest first (by id), as export objects, read `batch` requests at a time; without their
    events unless `events` (the CSV leaves them out, so it reads none).

    Each batch (its requests, their kept facts and their events) is read in one short read; the lock is
    released before the rows are yielded. `now` must be timezone-aware. Raises ValueError at once (before
    anything is read) for a naive `now` or a `batch` below 1.
    """
    if now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, got {now!r}")
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")
    return _rows(store, config, now=now.astimezone(timezone.utc), batch=batch, events=events)


def _rows(store: Store, config: Config, *, now: datetime, batch: int, events: bool) -> Iterator[dict[str, Any]]:
    last_id = 0
    while True:
        with store.reading() as tx:
            if events:
                loaded = tx.page_after(last_id, limit=batch)
            else:
                loaded = [(r, []) for r in tx.requests_after(last_id, limit=batch)]
            kept = tx.facts.of([r.id for r, _ in loaded])
            missing = [
                r.id for r, _ in loaded if r.id not in kept
            ]  # a database the bot has not opened since: from the log
            logs = {r.id: log for r, log in tx.by_ids_with_events(missing)} if missing and not events else {}
        for request, log in loaded:
            facts = kept.get(request.id) or request_facts(request, logs.get(request.id, log), config)
            yield export_row(request, log, config, now=now, facts=facts)
        if len(loaded) < batch:
            return
        last_id = loaded[-1][0].id


def write_json(rows: Iterable[dict[str, Any]], out: TextIO) -> None:
    """One JSON array, written row by row: "[", the rows joined by ",\\n", "]" and a newline.

    Non-ASCII text is written as is (ensure_ascii=False): open `out` as UTF-8. No rows: "[]".
    """
    out.write("[")
    first = True
    for row in rows:
        if not first:
            out.write(",\n")
        out.write(json.dumps(row, ensure_ascii=False))
        first = False
    out.write("]\n")


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""How a CSV cell that a spreadsheet would run as a formula begins (OWASP, "CSV Injection")."""


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_row(row: dict[str, Any]) -> dict[str, Any]:
    """An export object flattened to the `CSV_COLUMNS` cells (events dropped)."""
    flat: dict[str, Any] = {name: row[name] for name in REQUEST_FIELDS}
    for target in SLA_TARGETS:
        for name in SLA_FIELDS:
            flat[f"sla_{target}_{name}"] = row["sla"][target][name]
    courts = row["court_seconds"]
    for party in COURT_PARTIES:
        flat[f"court_{party}_seconds"] = float(courts.get(party, 0.0))
    return {name: _cell(flat[name]) for name in CSV_COLUMNS}


def write_csv(rows: Iterable[dict[str, Any]], out: TextIO) -> None:
    """The header `CSV_COLUMNS`, then one line per row (see the module docstring). Open `out` with newline=""."""
    _write_csv(rows, out, CSV_COLUMNS, csv_row)


def _write_csv(
    rows: Iterable[dict[str, Any]], out: TextIO, columns: list[str], flatten: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    """The header `columns`, then one line per row as `flatten` gives its cells."""
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="raise")
    writer.writeheader()
    for row in rows:
        writer.writerow(flatten(row))


# -- the change log (`--changes`): its own array, so the requests' export stays as it is ------------------

CHANGE_FIELDS = (
    "id",
    "domain",
    "side",
    "kind",
    "what",
    "asset",
    "version",
    "links",
    "shipped_by",
    "hook",
    "logged_at",
    "asked",
    "answer",
    "events",
)
"""The fields of one change in `export --changes --format json`, in order (docs/export.md, "Changes")."""
CHANGE_CSV_COLUMNS: list[str] = [
    "id",
    "domain",
    "side",
    "kind",
    "what",
    "asset",
    "version",
    "links",
    "shipped_by",
    "hook_source",
    "hook_id",
    "logged_at",
    "asked",
    "answer",
    "answered_by",
    "answered_at",
    "eval_link",
    "reason",
    "eval_request",
]
"""The CSV header of `export --changes --format csv` (links joined by spaces; no events)."""


def change_row(record: ChangeRecord, events: list[ChangeEvent]) -> dict[str, Any]:
    """One logged change as the export's JSON object."""
    change, answer = record.change, record.answer
    return {
        "id": change.id,
        "domain": change.domain,
        "side": change.side,
        "kind": change.kind,
        "what": change.what,
        "asset": change.asset,
        "version": change.version,
        "links": list(change.links),
        "shipped_by": change.shipped_by,
        "hook": change.origin.model_dump() if change.origin else None,
        "logged_at": export_time(change.at),
        "asked": change.asked,
        "answer": None
        if answer is None
        else {
            "answer": answer.answer,
            "by": answer.by,
            "at": export_time(answer.at),
            "eval_link": answer.eval_link,
            "reason": answer.reason,
            "eval_request": answer.eval_request,
        },
        "events": _events(events),
    }


def change_rows(store: Store, *, batch: int = DEFAULT_BATCH) -> Iterator[dict[str, Any]]:
    """Every logged change, by number, as export objects, read `batch` changes at a time."""
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch}")

    def rows() -> Iterator[dict[str, Any]]:
        last = 0
        while True:
            with store.reading() as tx:
                loaded = tx.changes.page_after(last, limit=batch)
            for record, events in loaded:
                yield change_row(record, events)
            if len(loaded) < batch:
                return
            last = change_number(loaded[-1][0].change.id)

    return rows()


def change_csv_row(row: dict[str, Any]) -> dict[str, Any]:
    """A change's export object flattened to the `CHANGE_CSV_COLUMNS` cells."""
    answer, hook = row["answer"] or {}, row["hook"] or {}
    flat = {
        **{
            k: row[k]
            for k in ("id", "domain", "side", "kind", "what", "asset", "version", "shipped_by", "logged_at", "asked")
        },
        "links": " ".join(row["links"]),
        "hook_source": hook.get("source"),
        "hook_id": hook.get("id"),
        "answer": answer.get("answer"),
        "answered_by": answer.get("by"),
        "answered_at": answer.get("at"),
        "eval_link": answer.get("eval_link"),
        "reason": answer.get("reason"),
        "eval_request": answer.get("eval_request"),
    }
    return {name: _cell(flat[name]) for name in CHANGE_CSV_COLUMNS}


def write_change_csv(rows: Iterable[dict[str, Any]], out: TextIO) -> None:
    """The header `CHANGE_CSV_COLUMNS`, then one line per change."""
    _write_csv(rows, out, CHANGE_CSV_COLUMNS, change_csv_row)


def export(
    store: Store,
    config: Config,
    *,
    now: datetime,
    fmt: str,
    out: TextIO,
    batch: int = DEFAULT_BATCH,
    changes: bool = False,
) -> int:
    """Write every request (`changes`: every logged change instead) to `out` as `fmt` ("json" or "csv");
    returns how many were written.

    Raises ValueError for an unknown format, a naive `now` or a `batch` below 1, before writing anything.
    """
    writers = {"json": write_json, "csv": write_change_csv if changes else write_csv}
    if fmt not in writers:
        raise ValueError(f"unknown export format {fmt!r} (use one of: {', '.join(FORMATS)})")
    rows = (
        change_rows(store, batch=batch)
        if changes
        else export_rows(store, config, now=now, batch=batch, events=fmt == "json")
    )
    count = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal count
        for row in rows:
            count += 1
            yield storable_strings(row)

    writers[fmt](counted(), out)
    return count


def export_to_file(
    store: Store,
    config: Config,
    *,
    now: datetime,
    fmt: str,
    path: Path,
    batch: int = DEFAULT_BATCH,
    changes: bool = False,
) -> int:
    """`export` into `path`, all or nothing; returns how many requests (or changes) were written.

    Writes a temporary file in `path`'s directory (readable by its owner only: an export holds
    confidential requests), syncs it, and renames it over `path`. On any error the temporary file
    is removed, `path` is left as it was, and the error is raised.
    """
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            count = export(store, config, now=now, fmt=fmt, out=out, batch=batch, changes=changes)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return count
