"""When the bot cannot save, the person is told, nothing is half-stored, and the write probe says why.

A full disk is the database filled to SQLite's `max_page_count` on the bot's own writer (no tmpfs here)
or, in a child process, a file-size limit (`RLIMIT_FSIZE`); a read-only database is the bot's writer
in `query_only` mode, and, in a child process that is not root (root ignores file modes), a database
file or directory made read-only before the bot opens it. The child processes run the real storage
for a few seconds, checkpoints included, and must end by themselves, not by a signal.
"""

import json
import os
import subprocess
import sys
import textwrap
from typing import Any


from bot.blocks import ids
from bot.blocks.modal import request_modal
from tests.harness import Harness
from tests.test_health import readyz

NOT_SAVED = "ai-intake couldn't save this"


def counts(h: Harness) -> dict[str, int]:
    with h.bot.db.read() as reader:
        return {t: reader.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("requests", "events", "outbox")}


def form_values(title: str) -> dict[str, dict[str, Any]]:
    return {
        ids.TITLE: {"type": "plain_text_input", "value": title},
        ids.KIND: {"type": "static_select", "selected_option": {"value": "question"}},
        ids.DOMAIN: {"type": "static_select", "selected_option": None},
        ids.PRIORITY: {"type": "static_select", "selected_option": None},
        ids.DESCRIPTION: {"type": "plain_text_input", "value": "the refund window answer is wrong since Monday"},
        ids.CONFIDENTIAL: {"type": "checkboxes", "selected_options": []},
    }


def every_surface_is_told(h: Harness, reason: str) -> None:
    """A command, a click, a form and a mention while nothing can be saved: each person is told, nothing stored."""
    before = counts(h)
    reply = h.command("regression: refund bot quotes the wrong window since the deploy", user="U0REQ")
    assert reply.status == 200 and NOT_SAVED in reply.json()["text"] and reason in reply.json()["text"], reply.body
    assert h.click(ids.CLAIM, "AIR-1", user="U0ENG1").status == 200
    assert h.bot.pool.wait_idle(timeout=10)
    assert any(NOT_SAVED in r["body"].get("text", "") for r in h.fake.responses), "the click is answered"
    view = request_modal(h.bot.config, channel="C0SUPPORT").to_dict()
    form = h.submit(view, form_values("refund window wrong"), user="U0REQ2")
    assert form.json()["response_action"] == "errors" and NOT_SAVED in form.json()["errors"][ids.TITLE]
    h.mention("<@U0BOT> the helpdesk agent answers in German to French customers", user="U0REQ3", channel="C0SUPPORT")
    told = [c for c in h.fake.calls_to("chat.postEphemeral") if c["user"] == "U0REQ3"]
    assert told and NOT_SAVED in told[-1]["text"], "the mention is answered where it was made"
    assert counts(h) == before, "nothing half-stored"
    assert h.bot.queries.get(1).status == "open"


def test_a_full_disk_is_told_to_the_person_and_to_the_health_probe(harness: Harness) -> None:
    """People keep filing while the disk fills: the command that finds no room is told so, and leaves no trace."""
    h = harness
    with h.bot.db.lock:
        h.bot.db.db.conn.execute("PRAGMA max_page_count = 1")  # at most the pages it has now: not one more
    try:
        for n in range(1, 300):
            before = counts(h)
            reply = h.command(f"question: does eval {n} cover the refund window for orders shipped abroad?")
            assert reply.status == 200
            if NOT_SAVED in reply.json()["text"]:
                break
            assert f"Filed AIR-{n}" in reply.json()["text"]
        else:
            raise AssertionError("the disk never filled")
        assert reply.json()["text"].startswith("ai-intake couldn't save this: the database's disk is full."), reply.body
        assert counts(h) == before, "nothing half-stored"
        status, body = readyz(h)
        assert status == 503 and body["writes"].startswith("the database's disk is full"), body
    finally:
        with h.bot.db.lock:
            h.bot.db.db.conn.execute("PRAGMA max_page_count = 4294967294")
    assert readyz(h)[0] == 200
    assert f"Filed AIR-{n}" in h.command("question: and which covers returns?").json()["text"], (
        "no key skipped or reused"
    )


def test_a_read_only_database_is_told_to_each_person(harness: Harness) -> None:
    h = harness
    h.command("question: which eval covers refunds?")
    h.settle()
    writer = h.bot.db.db.conn
    with h.bot.db.lock:
        writer.execute("PRAGMA query_only = ON")
    try:
        every_surface_is_told(h, "read-only")
        assert readyz(h)[0] == 503
    finally:
        with h.bot.db.lock:
            writer.execute("PRAGMA query_only = OFF")
    assert "Filed AIR-2" in h.command("question: and which covers returns?").json()["text"]


CHILD = textwrap.dedent("""
    import json, os, resource, shutil, sys, tempfile, time
    import importlib.metadata
    from sqlite_utils.plugins import ensure_plugins_loaded
    from storage.db import Db
    from storage.health import write_problem
    ensure_plugins_loaded()
    case = sys.argv[1]
    if os.geteuid() == 0:  # root ignores file modes: run as nobody
        os.setgid(65534)
        os.setuid(65534)
    home = tempfile.mkdtemp()
    path = os.path.join(home, "intake.db")
    db = Db(path)
    with db.write() as w:
        w.execute("CREATE TABLE notes (n TEXT)")
    out = {}
    if case == "fsize":  # the file may not grow: a limit just above its size, every write past it fails
        db.close()
        size = max(os.path.getsize(path + s) for s in ("", "-wal") if os.path.exists(path + s))
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 1024, resource.RLIM_INFINITY))
        db = Db(path)
    elif case == "live-dir":  # made read-only under the running bot: its open files still work, a restart would not
        os.chmod(home, 0o555)
    else:
        db.close()
        os.chmod(path if case == "file" else home, 0o444 if case == "file" else 0o555)
        try:
            db = Db(path)
        except Exception as exc:
            out["open"] = str(exc)
            db = None
    if db is not None:
        out["probe"] = write_problem(db)
        for n in range(50):
            try:
                with db.write() as w:
                    w.execute("INSERT INTO notes VALUES (?)", ["x" * 2000])
            except Exception as exc:
                out["write"] = f"{type(exc).__name__}: {exc}"
                break
        time.sleep(2.5)  # the checkpointer runs every second
        with db.read() as r:
            out["rows"] = r.execute("SELECT count(*) FROM notes").fetchone()[0]
        db.close()
    os.chmod(home, 0o755)
    shutil.rmtree(home)
    print(json.dumps(out))
""")


def run_child(case: str) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, case],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    assert done.returncode >= 0, f"killed by signal {-done.returncode}: {done.stderr[-2000:]}"
    assert done.returncode == 0, done.stderr[-2000:]
    return done.returncode, json.loads(done.stdout.strip().splitlines()[-1])


def test_a_read_only_database_file_is_a_failed_probe_and_a_told_failure_never_a_signal() -> None:
    _, out = run_child("file")
    assert out["probe"] == "the database file is read-only"
    assert out["write"] == (
        "NotSaved: ai-intake couldn't save this: the database is read-only. Nothing was changed; "
        "please try again in a few minutes."
    )
    assert out["rows"] == 0


def test_a_read_only_database_directory_stops_the_start_with_the_reason() -> None:
    """SQLite cannot create the database's `-wal` file: the bot refuses to start, naming the file and why."""
    _, out = run_child("dir")
    assert "cannot open the database" in out["open"] and "intake.db" in out["open"]


def test_a_file_size_limit_is_a_full_disk_told_never_a_signal() -> None:
    _, out = run_child("fsize")
    assert out["probe"] is not None and out["probe"].startswith("the database's disk is full"), out
    assert out["write"].startswith("NotSaved: ai-intake couldn't save this: the database's disk"), out


def test_a_directory_made_read_only_under_the_running_bot_fails_the_probe() -> None:
    """Its open files still take writes, but SQLite could not make its `-wal` again, nor a backup its copy."""
    _, out = run_child("live-dir")
    assert out["probe"] == "the database's directory is read-only"
