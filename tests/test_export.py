"""The export (docs/export.md): requests filed and worked through the real app, then exported.

Timeline of `worked` (UTC; Berlin business hours are 08:00-16:00 UTC, so every span below is
business time):
  09:00  AIR-1 regression, AIR-2 question, AIR-3 confidential security review filed
  09:30  U0ENG1 claims AIR-1, U0ENG2 claims AIR-2
  10:30  U0ENG1 waits on the requester of AIR-1 (its clock pauses)
  11:00  U0ENG2 resolves AIR-2
  12:30  the requester answers in AIR-1's thread (the ball goes back to the assignee)
  13:00  U0SEC1 starts the review of AIR-3
  14:00  export
"""

import csv
import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.blocks import ids
from bot.usecases.export import CSV_COLUMNS, export, export_rows, write_csv, write_json
from tests.harness import START, Harness

REQUEST_FIELDS = {
    "key": str,
    "kind": str,
    "domain": (str, type(None)),
    "title": str,
    "description": str,
    "priority": str,
    "status": str,
    "stage": (str, type(None)),
    "requester": str,
    "assignee": (str, type(None)),
    "owner": (str, type(None)),
    "confidential": bool,
    "source": str,
}
TIME_FIELDS = ("created_at", "first_response_at", "resolved_at")
SLA_STATES = {"on_track", "at_risk", "breached", "met", "missed"}
REVIEW_TEXT = (
    'security review: Vendor "Übersetzer, GmbH" for ticket summaries\nShares customer PII with a new vendor — résumé ✓'
)


def at(hours: float) -> datetime:
    return START + timedelta(hours=hours)


def to(h: Harness, moment: datetime) -> None:
    h.clock.advance(seconds=(moment - h.clock()).total_seconds())


def file(h: Harness, text: str, **kw: str) -> str:
    reply = h.command(text, **kw)
    assert reply.status == 200, reply.body
    h.settle()
    return re.search(r"AIR-\d+", reply.json()["text"]).group()


def click(h: Harness, action: str, key: str, user: str) -> None:
    assert h.click(action, key, user=user).status == 200
    h.settle()


@pytest.fixture
def worked(harness: Harness) -> Harness:
    assert file(harness, "regression: refund intent answers with the wrong window") == "AIR-1"
    assert file(harness, "question: which eval covers refunds?", user="U0REQ2") == "AIR-2"
    assert file(harness, REVIEW_TEXT, user="U0REQ3") == "AIR-3"
    to(harness, at(0.5))
    click(harness, "request.claim", "AIR-1", "U0ENG1")
    click(harness, "request.claim", "AIR-2", "U0ENG2")
    to(harness, at(1.5))
    click(harness, "request.wait", "AIR-1", "U0ENG1")
    to(harness, at(2))
    click(harness, "request.resolve", "AIR-2", "U0ENG2")
    to(harness, at(3.5))
    air1 = harness.bot.queries.get(1)
    harness.reply_in_thread(air1.card_channel, air1.card_ts, "It says 14 days; the policy is 30 — ça va?", user="U0REQ")
    harness.settle()
    to(harness, at(4))
    click(harness, ids.REVIEW_START, "AIR-3", "U0SEC1")
    to(harness, at(5))
    return harness


def run(h: Harness, fmt: str, *, now: datetime | None = None, batch: int = 500) -> tuple[int, str]:
    out = io.StringIO()
    count = export(h.bot.store, h.bot.config, now=now or h.clock(), fmt=fmt, out=out, batch=batch)
    return count, out.getvalue()


def parse_time(text: str) -> datetime:
    assert text.endswith("+00:00") and len(text) == len("2026-11-23T09:00:00.000000+00:00"), text
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() == timedelta(0)
    return moment


def check_shape(row: dict[str, Any]) -> None:
    expected = {*REQUEST_FIELDS, *TIME_FIELDS, "sla", "court_seconds", "events"}
    assert set(row) == expected
    for name, kind in REQUEST_FIELDS.items():
        assert isinstance(row[name], kind), (name, row[name])
    assert parse_time(row["created_at"])
    for name in ("first_response_at", "resolved_at"):
        assert row[name] is None or parse_time(row[name]) >= parse_time(row["created_at"])
    assert set(row["sla"]) == {"first_response", "resolution"}
    for target in row["sla"].values():
        assert set(target) == {"due_at", "state", "business_seconds_elapsed", "paused_seconds"}
        assert parse_time(target["due_at"]) > parse_time(row["created_at"])
        assert target["state"] in SLA_STATES
        assert isinstance(target["business_seconds_elapsed"], float) and target["business_seconds_elapsed"] >= 0
        assert isinstance(target["paused_seconds"], float) and target["paused_seconds"] >= 0
    assert all(isinstance(p, str) and isinstance(s, float) and s >= 0 for p, s in row["court_seconds"].items())
    assert row["events"] and row["events"][0]["type"] == "created"
    for event in row["events"]:
        assert set(event) == {"at", "actor", "type", "data"}
        assert isinstance(event["actor"], str) and isinstance(event["type"], str) and isinstance(event["data"], dict)
    times = [parse_time(e["at"]) for e in row["events"]]
    assert times == sorted(times) and times[0] == parse_time(row["created_at"])


def test_json_has_every_field_with_the_figures_of_the_event_log(worked: Harness) -> None:
    count, text = run(worked, "json")
    rows = json.loads(text)
    assert count == 3 and [r["key"] for r in rows] == ["AIR-1", "AIR-2", "AIR-3"]
    for row in rows:
        check_shape(row)
    regression, question, review = rows

    # AIR-1: claimed at 09:30, waited 10:30-12:30 on the requester, back with the assignee; still open.
    assert (regression["kind"], regression["status"], regression["stage"]) == ("regression", "claimed", None)
    assert (regression["assignee"], regression["owner"], regression["requester"]) == ("U0ENG1", "U0ENG1", "U0REQ")
    assert (
        regression["domain"] == "support" and regression["source"] == "command" and regression["confidential"] is False
    )
    assert regression["created_at"] == "2026-11-23T09:00:00.000000+00:00"
    assert parse_time(regression["first_response_at"]) == at(0.5) and regression["resolved_at"] is None
    assert [e["type"] for e in regression["events"]] == ["created", "claimed", "waiting", "replied"]
    assert [parse_time(e["at"]) for e in regression["events"]] == [at(0), at(0.5), at(1.5), at(3.5)]
    assert regression["events"][1]["actor"] == "U0ENG1" and regression["events"][3]["actor"] == "U0REQ"
    assert regression["events"][2]["data"]["court"] == "requester"
    assert "ça va?" in regression["events"][3]["data"]["text"]
    assert regression["court_seconds"] == {"assignee": 3 * 3600.0, "requester": 2 * 3600.0}
    first, resolution = regression["sla"]["first_response"], regression["sla"]["resolution"]
    assert first["state"] == "met" and first["business_seconds_elapsed"] == 1800.0 and first["paused_seconds"] == 0.0
    assert resolution["state"] == "on_track" and resolution["paused_seconds"] == 7200.0
    assert resolution["business_seconds_elapsed"] == 3 * 3600.0  # 5 h open, 2 h paused

    # AIR-2: resolved at 11:00; the time in each court adds up to its whole life.
    assert question["status"] == "resolved" and parse_time(question["resolved_at"]) == at(2)
    assert sum(question["court_seconds"].values()) == (at(2) - at(0)).total_seconds()
    assert question["court_seconds"] == {"assignee": 7200.0}
    assert {t["state"] for t in question["sla"].values()} == {"met"}
    assert question["sla"]["resolution"]["business_seconds_elapsed"] == 7200.0
    assert [e["type"] for e in question["events"]] == ["created", "claimed", "resolved"]

    # AIR-3: confidential, exported in full (admin audit), with its review stage.
    assert review["kind"] == "security_review" and review["confidential"] is True
    assert review["stage"] == "in_review" and review["assignee"] == "U0SEC1"
    assert review["title"] == 'Vendor "Übersetzer, GmbH" for ticket summaries'
    assert "résumé ✓" in review["description"] and "\n" in review["description"]
    assert review["court_seconds"] == {"reviewer": 5 * 3600.0}
    assert review["sla"]["first_response"]["state"] == "met"
    assert [e["type"] for e in review["events"]] == ["created", "review_started"]
    assert "résumé ✓" in text  # ensure_ascii=False: written as is, not \u escapes


def test_sla_figures_are_as_of_the_export_time(worked: Harness) -> None:
    later = at(5) + timedelta(days=14)
    rows = json.loads(run(worked, "json", now=later)[1])
    assert rows[0]["sla"]["resolution"]["state"] == "breached"  # P2: 40 business hours
    assert rows[1]["sla"]["resolution"]["state"] == "met"  # resolved: nothing moves
    assert (
        rows[0]["court_seconds"]["assignee"] == (later - at(3.5)).total_seconds() + 5400.0
    )  # 09:00-10:30, then 12:30 on


def test_json_is_one_array_of_rows_joined_by_comma_newline(worked: Harness) -> None:
    text = run(worked, "json")[1]
    assert text.startswith("[{") and text.endswith("}]\n") and text.count("},\n{") == 2


def test_csv_has_the_stable_header_and_one_row_per_request(worked: Harness) -> None:
    count, text = run(worked, "csv")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = list(reader)
    assert count == 3 and reader.fieldnames == CSV_COLUMNS and "events" not in CSV_COLUMNS
    assert [r["key"] for r in rows] == ["AIR-1", "AIR-2", "AIR-3"]
    json_rows = json.loads(run(worked, "json")[1])
    for row, full in zip(rows, json_rows, strict=True):
        for name in (*REQUEST_FIELDS, *TIME_FIELDS):
            value = full[name]
            assert row[name] == (
                "" if value is None else "true" if value is True else "false" if value is False else value
            ), name
        for target in ("first_response", "resolution"):
            for name, value in full["sla"][target].items():
                assert row[f"sla_{target}_{name}"] == str(value)
        for party in ("requester", "assignee", "reviewer", "owners", "lead", "triage"):
            assert float(row[f"court_{party}_seconds"]) == full["court_seconds"].get(party, 0.0)
    regression, question, review = rows
    assert regression["confidential"] == "false" and review["confidential"] == "true"
    assert regression["resolved_at"] == "" and regression["stage"] == "" and review["stage"] == "in_review"
    assert review["description"].endswith("résumé ✓") and "\n" in review["description"]
    assert question["court_assignee_seconds"] == "7200.0" and question["court_lead_seconds"] == "0.0"


def test_csv_header_is_documented_and_flat() -> None:
    assert CSV_COLUMNS[:16] == [
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
    ]
    assert "sla_first_response_due_at" in CSV_COLUMNS and "sla_resolution_paused_seconds" in CSV_COLUMNS
    assert CSV_COLUMNS[-6:] == [
        f"court_{p}_seconds" for p in ("requester", "assignee", "reviewer", "owners", "lead", "triage")
    ]
    assert len(CSV_COLUMNS) == len(set(CSV_COLUMNS)) == 30


def test_an_empty_database_exports_an_empty_array_and_a_bare_header(harness: Harness) -> None:
    count, text = run(harness, "json")
    assert count == 0 and text == "[]\n" and json.loads(text) == []
    count, text = run(harness, "csv")
    assert count == 0 and text == ",".join(CSV_COLUMNS) + "\r\n"


def test_write_json_and_write_csv_take_any_rows() -> None:
    out = io.StringIO()
    write_json([], out)
    assert out.getvalue() == "[]\n"
    out = io.StringIO()
    write_json(iter([{"a": "é"}, {"b": None}]), out)
    assert out.getvalue() == '[{"a": "é"},\n{"b": null}]\n'
    out = io.StringIO(newline="")
    write_csv([], out)
    assert next(csv.reader(io.StringIO(out.getvalue()))) == CSV_COLUMNS


def test_an_unknown_format_raises_before_writing(harness: Harness) -> None:
    out = io.StringIO()
    with pytest.raises(ValueError, match="xml"):
        export(harness.bot.store, harness.bot.config, now=harness.clock(), fmt="xml", out=out)
    assert out.getvalue() == ""


def test_a_naive_time_or_an_empty_batch_is_refused_at_once(harness: Harness) -> None:
    store, config = harness.bot.store, harness.bot.config
    with pytest.raises(ValueError, match="timezone-aware"):
        export_rows(store, config, now=datetime(2026, 11, 23, 9))
    with pytest.raises(ValueError, match="batch"):
        export_rows(store, config, now=harness.clock(), batch=0)
    out = io.StringIO()
    with pytest.raises(ValueError):
        export(store, config, now=datetime(2026, 11, 23, 9), fmt="json", out=out)
    assert out.getvalue() == ""


class CountingStore:
    """The store, counting its reads and noting what each one asked for."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.reads = 0
        self.limits: list[int] = []

    @contextmanager
    def reading(self) -> Iterator[Any]:
        self.reads += 1
        with self.store.reading() as tx:
            spy = self

            class Tx:
                def page_after(self, last_id: int, *, limit: int) -> Any:
                    spy.limits.append(limit)
                    return tx.page_after(last_id, limit=limit)

                def __getattr__(self, name: str) -> Any:  # the kept facts of the page, read in the same read
                    return getattr(tx, name)

            yield Tx()


def test_export_streams_in_batches_in_id_order_without_holding_the_database(harness: Harness) -> None:
    for n in range(5):
        file(harness, f"question: eval number {n} for refunds?")
    store = CountingStore(harness.bot.store)
    rows = export_rows(store, harness.bot.config, now=harness.clock(), batch=2)  # type: ignore[arg-type]
    assert store.reads == 0  # nothing read until asked
    first = next(rows)
    assert first["key"] == "AIR-1" and store.reads == 1 and store.limits == [2]
    # Between batches the database is free: the bot files a request while the export is paused.
    assert file(harness, "question: filed during the export") == "AIR-6"
    rest = [r["key"] for r in rows]
    assert [first["key"], *rest] == ["AIR-1", "AIR-2", "AIR-3", "AIR-4", "AIR-5", "AIR-6"]
    assert store.limits == [2, 2, 2, 2] and store.reads == 4  # 2 + 2 + 2 + an empty last batch


def test_export_counts_what_it_wrote_in_small_batches(harness: Harness) -> None:
    for n in range(5):
        file(harness, f"question: eval number {n} for refunds?")
    count, text = run(harness, "json", batch=2)
    assert count == 5 and [r["key"] for r in json.loads(text)] == [f"AIR-{n}" for n in range(1, 6)]
    count, text = run(harness, "csv", batch=2)
    assert count == 5 and [r["key"] for r in csv.DictReader(io.StringIO(text))] == [f"AIR-{n}" for n in range(1, 6)]


def test_the_export_command_writes_json_and_csv(tmp_path, fake_slack) -> None:
    import subprocess
    import sys

    from tests.harness import start_harness, write_config
    from tests.test_cli import ROOT, base_env

    h = start_harness(tmp_path, fake_slack)
    try:
        h.command("regression: refund window wrong")
        h.settle()
        env = base_env(tmp_path)
        env["AI_INTAKE_DB"] = str(h.bot.db.path)
        env["AI_INTAKE_CONFIG"] = str(write_config(tmp_path / "c.yml"))
        out = subprocess.run(
            [sys.executable, "-m", "bot", "export", "--format", "json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)[0]["key"] == "AIR-1"
        target = tmp_path / "all.csv"
        done = subprocess.run(
            [sys.executable, "-m", "bot", "export", "--format", "csv", "--out", str(target)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0 and "wrote 1 request(s)" in done.stderr
        assert target.read_text().splitlines()[0].startswith("key,kind,domain")
    finally:
        h.stop()


def test_export_reads_the_database_the_console_made_without_settings(tmp_path) -> None:
    """`ai-intake console` then `ai-intake export`, in one folder, with nothing set: the console's requests come out."""
    import os
    import subprocess
    import sys

    from tests.test_cli import ROOT

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "AI_INTAKE_"))}
    env["PYTHONPATH"] = str(ROOT)
    typed = "/ai-request regression: refund bot answers with the wrong window\n/quit\n"
    console = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        cwd=tmp_path,
        env=env,
        input=typed,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert console.returncode == 0, console.stderr
    assert (tmp_path / "ai-intake-console.db").exists()
    done = subprocess.run(
        [sys.executable, "-m", "bot", "export", "--at", "2026-11-24T09:00:00+01:00"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    [request] = json.loads(done.stdout)
    assert request["key"] == "AIR-1" and request["domain"] == "support"
    assert request["sla"]["first_response"]["state"] == "breached", "as of --at: a business day later"
    assert "exporting the console's database ai-intake-console.db" in done.stderr
    assert not (tmp_path / "ai-intake.db").exists()


def test_export_with_no_database_says_what_to_set_and_creates_none(tmp_path) -> None:
    import os
    import subprocess
    import sys

    from tests.test_cli import ROOT

    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "AI_INTAKE_"))}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "bot", "export"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip() == (
        "ai-intake: there is no database at ai-intake.db (the default, as AI_INTAKE_DB is not set): "
        "set AI_INTAKE_DB to the database to export."
    )
    assert list(tmp_path.iterdir()) == []
