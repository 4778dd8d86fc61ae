"""`ai-intake run` over HTTP is two processes (bot/entry/worker.py): the front acks and keeps, the worker works the
inbox and sends the outbox. Real processes, signalled as an operator, Docker or the kernel would: the person still
gets the answer and the card; a worker killed is started again and what was kept meanwhile is worked; a front
killed takes its worker with it; SIGTERM ends both."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest

from bench._common import children_of
from tests.fake_slack import FakeSlack
from tests.harness import SIGNING_SECRET, command_form, send_form
from tests.test_cli import ROOT, base_env, free_port

WITHIN = 30.0
"""A bound for the test's waits, not a measurement."""


def wait_until(check: Callable[[], object], what: str, *, within: float = WITHIN) -> object:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.05)
    raise AssertionError(f"not within {within:.0f} s: {what}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (ended, not yet reaped by its parent) counts as ended
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


class Running:
    """`python -m bot run` over HTTP on a free port, its log appended to a file."""

    def __init__(self, tmp_path: Path, fake: FakeSlack) -> None:
        self.port, self.metrics_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / "bot.log"
        self.env = base_env(
            tmp_path,
            SLACK_BOT_TOKEN=fake.token,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=fake.url,
            PORT=str(self.port),
            HOST="127.0.0.1",
            AI_INTAKE_METRICS_PORT=str(self.metrics_port),
        )
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )
        wait_until(lambda: "serving HTTP" in self.log.read_text(), "the bot serves HTTP")

    def worker(self) -> int:
        return int(wait_until(lambda: next(iter(children_of(self.process.pid)), None), "a worker process"))

    def ready(self) -> dict:
        try:
            with urllib.request.urlopen(self.url + "/readyz", timeout=5) as reply:
                return json.loads(reply.read())
        except urllib.error.HTTPError as exc:
            return json.loads(exc.read())

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as reply:
            return reply.read().decode()

    def end(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def running(tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Running]:
    bot = Running(tmp_path, fake_slack)
    try:
        yield bot
    finally:
        bot.end()


def worked(inbox: Path) -> tuple[int, int]:
    """(deliveries marked done, deliveries pending) in the inbox's file, read as any reader would."""
    with closing(sqlite3.connect(f"file:{inbox}?mode=ro", uri=True)) as conn:
        done, pending = conn.execute("SELECT count(done_at), count(*) - count(done_at) FROM inbox").fetchone()
    return done, pending


def answered(fake: FakeSlack, words: str) -> Callable[[], bool]:
    return lambda: any(words in str(r["body"].get("text")) for r in fake.responses)


def test_the_front_acks_and_the_worker_answers_and_posts_the_card(running: Running, fake_slack: FakeSlack) -> None:
    worker = running.worker()
    assert worker != running.process.pid and alive(worker)
    status, ack = send_form(running.url, command_form(fake_slack, "regression: refund window wrong"), timeout=10)
    assert (status, ack) == (200, b"")  # acked at once by the front
    wait_until(answered(fake_slack, "AIR-1"), "the answer at the response_url")
    wait_until(lambda: fake_slack.messages("C0SUPPORT"), "the card in the support channel")
    assert running.ready()["worker"] == "running"
    inbox = running.log.parent / "bot.db.inbox"  # the inbox is a file of its own beside the database
    wait_until(lambda: worked(inbox) == (1, 0), "the delivery marked done (the worker reports it, the front writes it)")
    # the worker filed it and posted the card; the front's /metrics counts both (the worker reports them)
    filed = 'ai_intake_requests_filed_total{domain="support",kind="regression"} 1.0'
    wait_until(lambda: filed in running.metrics(), "the filing counted on the front's /metrics")
    assert 'ai_intake_web_api_calls_total{method="chat.postMessage"}' in running.metrics()


def test_a_killed_worker_is_started_again_and_works_what_was_kept_meanwhile(
    running: Running, fake_slack: FakeSlack
) -> None:
    first = running.worker()
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: not alive(first), "the worker ended")
    # acked while no worker runs: kept, and worked once the front has started another
    assert send_form(running.url, command_form(fake_slack, "regression: tone drifts"), timeout=10) == (200, b"")
    wait_until(answered(fake_slack, "AIR-1"), "the answer, from the new worker")
    second = running.worker()
    assert second != first and alive(second)
    log = running.log.read_text()
    assert "ended on its own (signal 9)" in log and "Traceback" not in log
    wait_until(lambda: running.ready()["worker"] == "running", "/readyz says the worker runs")


def test_a_killed_front_takes_its_worker_with_it(running: Running) -> None:
    worker = running.worker()
    running.process.send_signal(signal.SIGKILL)  # the front alone: its end of the ring closes with it
    running.process.wait(timeout=10)
    wait_until(lambda: not alive(worker), "the worker ended after its front")


def test_sigterm_ends_the_front_and_the_worker(running: Running) -> None:
    worker = running.worker()
    running.process.send_signal(signal.SIGTERM)
    assert running.process.wait(timeout=20) == 0
    wait_until(lambda: not alive(worker), "the worker ended")
    log = running.log.read_text()
    assert "ai-intake stopping (SIGTERM)" in log and "Traceback" not in log


def test_the_worker_reports_what_its_counters_grew_by_and_the_front_adds_it() -> None:
    import io

    from bot.entry.worker import Reports
    from bot.runtime.metrics import Metrics

    worker, front, out = Metrics(), Metrics(), io.BytesIO()
    reports = Reports(worker, out=out)
    front.filed(kind="regression", domain="support")  # the front counts its own too
    for _ in range(2):
        worker.filed(kind="regression", domain="support")
        worker.web_api_call("chat.postMessage")
        reports.send()
    reports.send()  # nothing grew: nothing written
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    for line in lines:
        front.add(json.loads(line)["counts"])
    front.add({"ai_intake_requests_filed": [[{"kind": "x"}, 5]], "unknown": [[{}, 1]]})  # wrong labels: ignored
    text = front.text()
    assert 'ai_intake_requests_filed_total{domain="support",kind="regression"} 3.0' in text
    assert 'ai_intake_web_api_calls_total{method="chat.postMessage"} 2.0' in text


def test_the_front_marks_done_each_delivery_the_worker_reports_worked() -> None:
    import io
    from datetime import datetime, timedelta, timezone

    from bot.entry.worker import Reports, WorkerProcess
    from bot.runtime.metrics import Metrics

    out, at = io.BytesIO(), datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
    reports = Reports(Metrics(), out=out)
    later = at + timedelta(milliseconds=3)
    reports.done(1, at)
    reports.done(2, later)
    said = out.getvalue().decode() + "no report\n"  # a line that is no report is ignored, the rest still read
    # a worker that says this and waits for its standard input to close, as the real one does
    script = f"import sys; sys.stdout.write({said!r}); sys.stdout.flush(); sys.stdin.read()"
    marked: list[list[tuple[int, datetime]]] = []
    worker = WorkerProcess([sys.executable, "-c", script])
    worker.start(worked=marked.append)
    try:
        wait_until(lambda: sum(len(marks) for marks in marked) == 2, "both marked done")
    finally:
        worker.stop()
    assert marked == [[(1, at), (2, later)]]  # written at once, read at once: marked done in one unit, each at its time
