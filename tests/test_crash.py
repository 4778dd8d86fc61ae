"""Crashes and a second process: `kill -9` mid-stream, and two bots on one database.

`kill -9` at ten points chosen by a seeded RNG: `python -m bot run` (HTTP mode, against the fake
Slack) receives a stream of signed commands, mentions, thread replies, clicks and message
shortcuts; after a few deliveries one more is sent and the process is killed while it may still be
handling it. Then it is restarted on the same database, and Slack's side is played again: every
event of the killed batch is redelivered (as Slack retries events it got no answer for), with a
few already-acknowledged older ones, and the in-flight command or click is replayed byte for byte.
After every restart:

- every request whose key was shown to anyone (an ack, a message, an ephemeral) is in the database;
- every mention and thread reply delivered is there exactly once (the retries made no duplicate),
  every command at most once, a replayed click had no second effect;
- `PRAGMA integrity_check` is ok, every request starts with its `created` event, and the events
  seen before the crash are still there, unchanged;
- every request's card is posted, and tokens and the signing secret are not in the bot's log.

Two bots on one database: the scheduler lease lets one act, the nags are recorded once.

These run beside the other worker's tests: a restarted bot has 20 s to answer /healthz and 30 s to catch up, many
times what a start and a catch-up take on a loaded machine, and where the kill lands was always a matter of chance.
"""

import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.entry.scheduler import Scheduler
from tests.fake_slack import FakeSlack
from tests.harness import CONFIG, SIGNING_SECRET, TEAM, Clock, signed_headers, start_harness, write_config
from tests.test_cli import ROOT, base_env, free_port


KILL_POINTS = 10
SEED = 20261123
KEY = re.compile(r"AIR-(\d+)")
# The notifier posts at most one message per second to a channel, so the stream is spread out:
# people write in four chat channels, a keyword routes each request to one of eight domains, and
# each domain's cards go to its own channel.
TEAMS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
TALK = ["C0TALK1", "C0TALK2", "C0TALK3", "C0TALK4"]
CRASH_CONFIG = {
    **CONFIG,
    "domains": [
        {"name": team, "channels": [f"C0{team.upper()}"], "engineers": [f"U0{team.upper()}"], "keywords": [team]}
        for team in TEAMS
    ],
}


# -- the bot as a process ------------------------------------------------------------------------
class BotProcess:
    """`python -m bot run` in HTTP mode (the front and its worker process); each start listens on a new port, stderr
    appends to `log`."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.process: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"],
                cwd=ROOT,
                env={**self.env, "PORT": str(port)},
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,  # a group of its own: the kill ends the front and its worker at once
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "the bot exited at start:\n" + self.log.read_text()[-2000:]
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("the bot did not answer /healthz")

    def kill(self) -> None:
        """SIGKILL to the front and its worker at once (as the kernel ends a container): no shutdown handler runs,
        nothing is flushed."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


# -- what Slack sends ----------------------------------------------------------------------------
@dataclass
class Delivery:
    kind: str  # command, mention, reply, click, shortcut
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)  # the signed headers it was first sent with
    ts: str | None = None  # the Slack message a mention, reply or shortcut is about
    channel: str = ""  # and its channel
    title: str | None = None  # a command's title
    acked: bool = False
    answer: str = ""

    @property
    def is_event(self) -> bool:
        return self.kind in ("mention", "reply")


class Slack:
    """Plays Slack's side: makes deliveries, sends, redelivers and replays them, remembers what was shown."""

    def __init__(self, fake: FakeSlack, rng: random.Random) -> None:
        self.fake, self.rng = fake, rng
        self.serial = 0
        self.shown: set[int] = set()  # request ids whose key reached a person

    def _event(self, event: dict[str, Any], kind: str, ts: str) -> Delivery:
        self.serial += 1
        envelope = {
            "token": "legacy",
            "team_id": TEAM,
            "api_app_id": "A0APP",
            "type": "event_callback",
            "event_id": f"EvCRASH{self.serial:05d}",
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": TEAM, "user_id": "U0BOT", "is_bot": True, "is_enterprise_install": False}],
        }
        return Delivery(kind, json.dumps(envelope).encode(), "application/json", ts=ts)

    def _interaction(self, payload: dict[str, Any], kind: str, ts: str | None = None) -> Delivery:
        base = {
            "team": {"id": TEAM, "domain": "acme"},
            "api_app_id": "A0APP",
            "token": "legacy",
            "is_enterprise_install": False,
            "trigger_id": self.fake.new_trigger_id(),
            "response_url": self.fake.response_url(),
        }
        body = urllib.parse.urlencode({"payload": json.dumps({**base, **payload})}).encode()
        return Delivery(kind, body, "application/x-www-form-urlencoded", ts=ts)

    def make(self, kind: str, cards: list[tuple[int, str, str]]) -> Delivery:
        self.serial += 1
        n = self.serial
        where, team = self.rng.choice(TALK), self.rng.choice(TEAMS)
        if kind == "command":
            title = f"crash stream item {n} for {team}"
            form = {
                "team_id": TEAM,
                "channel_id": where,
                "user_id": "U0REQ",
                "user_name": "req",
                "command": "/ai-request",
                "text": f"question: {title}",
                "response_url": self.fake.response_url(),
                "trigger_id": self.fake.new_trigger_id(),
            }
            return Delivery(
                kind,
                urllib.parse.urlencode(form).encode(),
                "application/x-www-form-urlencoded",
                title=title,
                channel=where,
            )
        if kind == "mention":
            text = f"<@U0BOT> the {team} agent loops, report {n}"
            ts = self.fake.add_message(where, text, user="U0REQ")
            delivery = self._event(
                {"type": "app_mention", "user": "U0REQ", "text": text, "ts": ts, "channel": where, "event_ts": ts},
                kind,
                ts,
            )
            delivery.channel = where
            return delivery
        request_id, channel, card_ts = self.rng.choice(cards)
        if kind == "reply":
            ts = self.fake.add_message(channel, f"more detail {n}", user="U0ADMIN", thread_ts=card_ts)
            return self._event(
                {
                    "type": "message",
                    "channel": channel,
                    "user": "U0ADMIN",
                    "text": f"more detail {n}",
                    "ts": ts,
                    "thread_ts": card_ts,
                    "event_ts": ts,
                    "channel_type": "channel",
                },
                kind,
                ts,
            )
        if kind == "click":
            element = {
                "action_id": "request.snooze",
                "block_id": "card.actions",
                "type": "button",
                "value": f"AIR-{request_id}",
                "action_ts": "1700000000.1",
            }
            return self._interaction(
                {
                    "type": "block_actions",
                    "user": {"id": "U0ADMIN", "name": "admin", "team_id": TEAM},
                    "channel": {"id": channel, "name": "support"},
                    "container": {"type": "message", "message_ts": card_ts, "channel_id": channel},
                    "message": {"ts": card_ts, "type": "message", "text": "", "blocks": []},
                    "actions": [element],
                },
                kind,
            )
        text = f"feature: summarise {team} threads, asked in message {n}"
        ts = self.fake.add_message(where, text, user="U0REQ")
        delivery = self._interaction(
            {
                "type": "message_action",
                "callback_id": "ai_request.from_message",
                "user": {"id": "U0ENG1", "name": "eng1", "team_id": TEAM},
                "channel": {"id": where, "name": "x"},
                "message_ts": ts,
                "message": {"type": "message", "user": "U0REQ", "text": text, "ts": ts},
            },
            "shortcut",
            ts,
        )
        delivery.channel = where
        return delivery

    def send(self, url: str, delivery: Delivery, *, headers: dict[str, str] | None = None) -> None:
        """Deliver with fresh signed headers (or the given ones); record the ack and any key it shows."""
        headers = headers or signed_headers(delivery.body)
        delivery.headers = delivery.headers or headers
        request = urllib.request.Request(
            url + "/slack/events",
            data=delivery.body,
            method="POST",
            headers={"Content-Type": delivery.content_type, **headers},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:
                answer = reply.read().decode()
                ok = reply.status == 200
        except urllib.error.HTTPError as error:
            answer, ok = error.read().decode(), False
        except OSError:  # the bot died under it: Slack saw no answer
            return
        assert ok, f"{delivery.kind} answered with an error: {answer[:200]}"
        delivery.acked, delivery.answer = True, delivery.answer or answer
        self.shown |= {int(k) for k in KEY.findall(answer)}

    def redeliver(self, url: str, delivery: Delivery) -> None:
        """Slack's retry of an event: the same body, signed again, with the retry headers."""
        self.send(
            url,
            delivery,
            headers={**signed_headers(delivery.body), "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
        )

    def replay(self, url: str, delivery: Delivery) -> None:
        """The same signed request again, byte for byte, within Slack's five minutes."""
        self.send(url, delivery, headers=delivery.headers or signed_headers(delivery.body))

    def keys_in_slack(self) -> set[int]:
        """Request ids in anything the bot sent to Slack (messages, ephemerals, response_url posts)."""
        with self.fake._lock:
            texts = [json.dumps(c.args) for c in self.fake.calls] + [json.dumps(r["body"]) for r in self.fake.responses]
        return {int(k) for text in texts for k in KEY.findall(text)}


# -- reading the database from outside -------------------------------------------------------------
def query(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(db, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def settled(db: Path, deliveries: list[Delivery], *, drained: bool = False) -> bool:
    """Every event delivered has had its effect; with `drained`, every card is posted and nothing is left to send.
    Nothing acked is left in the inbox (what was acked has been worked)."""
    inbox = Path(f"{db}.inbox")  # the inbox's own file, beside the database
    if not inbox.exists() or query(inbox, "SELECT count(*) FROM inbox WHERE done_at IS NULL")[0][0]:
        return False
    origins = {row[0] for row in query(db, "SELECT origin_key FROM requests WHERE origin_key IS NOT NULL")}
    comments = {json.loads(row[0]).get("ts") for row in query(db, "SELECT data FROM events WHERE type = 'commented'")}
    for d in deliveries:
        if d.kind == "mention" and d.acked and f"msg:{d.channel}:{d.ts}" not in origins:
            return False
        if d.kind == "reply" and d.acked and d.ts not in comments:
            return False
    if not drained:
        return True
    cardless = query(db, "SELECT count(*) FROM requests WHERE card_ts IS NULL")[0][0]
    pending = query(db, "SELECT count(*) FROM outbox WHERE status = 'pending'")[0][0]
    return cardless == 0 and pending == 0


def wait_until_settled(db: Path, deliveries: list[Delivery], *, drained: bool = False) -> None:
    deadline = time.monotonic() + 30
    while not settled(db, deliveries, drained=drained):
        assert time.monotonic() < deadline, "the restarted bot never caught up"
        time.sleep(0.05)


def check(db: Path, slack: Slack, deliveries: list[Delivery], events_before: list[tuple]) -> list[tuple]:
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    ids = {row[0] for row in query(db, "SELECT id FROM requests")}
    shown = slack.shown | slack.keys_in_slack()
    assert shown - ids == set(), f"keys shown to people but not in the database: {sorted(shown - ids)}"
    titles = [row[0] for row in query(db, "SELECT title FROM requests")]
    for d in deliveries:
        if d.kind == "command":
            assert titles.count(d.title) <= 1, f"{d.title!r} was filed twice"
    origins = [row[0] for row in query(db, "SELECT origin_key FROM requests WHERE origin_key LIKE 'msg:%'")]
    for d in deliveries:
        if d.kind == "mention" and d.acked:
            assert origins.count(f"msg:{d.channel}:{d.ts}") == 1, f"mention {d.ts} is not there exactly once"
    comments = [json.loads(row[0]).get("ts") for row in query(db, "SELECT data FROM events WHERE type = 'commented'")]
    for d in deliveries:
        if d.kind == "reply" and d.acked:
            assert comments.count(d.ts) == 1, f"thread reply {d.ts} is not there exactly once"
    clicks = len({d.headers.get("X-Slack-Signature") for d in deliveries if d.kind == "click" and d.headers})
    assert query(db, "SELECT count(*) FROM events WHERE type = 'snoozed'")[0][0] <= clicks
    firsts = query(
        db,
        """SELECT r.id, (SELECT e.type FROM events e WHERE e.request_id = r.id ORDER BY e.id LIMIT 1)
                          FROM requests r""",
    )
    assert {first for _, first in firsts} <= {"created"}, firsts
    events = query(db, "SELECT id, request_id, at, actor, type, data FROM events ORDER BY id")
    assert events[: len(events_before)] == events_before, "events changed after the crash"
    return events


def test_kill_9_at_random_points_loses_nothing_shown_and_duplicates_nothing(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    rng = random.Random(SEED)
    db, log = tmp_path / "bot.db", tmp_path / "bot.log"
    env = base_env(
        tmp_path,
        SLACK_BOT_TOKEN=fake_slack.token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.url,
        HOST="127.0.0.1",
    )
    env["AI_INTAKE_CONFIG"] = str(write_config(tmp_path / "crash.yml", CRASH_CONFIG))
    bot, slack = BotProcess(env, log), Slack(fake_slack, rng)
    deliveries: list[Delivery] = []
    bot.start()
    try:
        for _ in range(2):  # two requests with cards, for replies and clicks
            deliveries.append(slack.make("command", []))
            slack.send(bot.url, deliveries[-1])
        wait_until_settled(db, deliveries, drained=True)
        events = check(db, slack, deliveries, [])
        kinds = ["command"] * 4 + ["mention"] * 3 + ["reply"] * 2 + ["click", "shortcut"]
        for _ in range(KILL_POINTS):
            cards = [
                (i, c, t)
                for i, c, t in query(db, "SELECT id, card_channel, card_ts FROM requests WHERE card_ts IS NOT NULL")
            ]
            batch = [slack.make(rng.choice(kinds), cards) for _ in range(rng.randint(1, 3))]
            for delivery in batch:
                slack.send(bot.url, delivery)
            in_flight = slack.make(rng.choice(kinds), cards)
            batch.append(in_flight)
            sender = threading.Thread(target=slack.send, args=(bot.url, in_flight))
            sender.start()
            time.sleep(rng.choice([0, 0.002, 0.005, 0.01, 0.02]))  # kill while it may be handling it
            bot.kill()
            sender.join(timeout=15)
            deliveries += batch

            bot.start()
            older = [d for d in deliveries[: -len(batch)] if d.is_event and d.acked]
            for delivery in [d for d in batch if d.is_event] + rng.sample(older, min(2, len(older))):
                slack.redeliver(bot.url, delivery)
            if not in_flight.is_event:
                slack.replay(bot.url, in_flight)
            wait_until_settled(db, deliveries)
            events = check(db, slack, deliveries, events)
        wait_until_settled(db, deliveries, drained=True)  # and in the end every card is out, nothing is left to send
        check(db, slack, deliveries, events)
        assert len(slack.shown | slack.keys_in_slack()) >= 10 and {d.kind for d in deliveries} >= {
            "command",
            "mention",
            "reply",
        }
    finally:
        bot.kill()
    text = log.read_text()
    assert fake_slack.token not in text and SIGNING_SECRET not in text


# -- two bots, one database ------------------------------------------------------------------------
def test_two_schedulers_on_one_database_send_each_nag_once(tmp_path: Path, fake_slack: FakeSlack) -> None:
    clock = Clock()
    first, second = start_harness(tmp_path, fake_slack, clock=clock), start_harness(tmp_path, fake_slack, clock=clock)
    try:
        first.command("regression: refund intent answers with the wrong window")
        second.command("eval: outage of the refund agent for customers")
        first.settle()
        second.settle()
        clock.advance(hours=5)  # the regression is unowned past 4 business hours; both first responses are breached
        schedulers = [
            Scheduler(h.bot.jobs, h.bot.store, h.bot.config, clock=h.bot.clock, holder=holder)
            for h, holder in ((first, "host-a:1"), (second, "host-b:2"))
        ]
        lease = at_once([lambda i=i: schedulers[i].run("nags") for i in (0, 1)])
        assert sorted(map(bool, lease)) == [False, True], lease  # the lease let one process act
        # `ai-intake jobs run sla` in two shells at the same moment (no lease): the notifications table decides
        jobs = at_once([lambda h=h: h.bot.jobs.run_nags(job="sla", now=clock()) for h in (first, second)])
        assert sorted(map(bool, jobs)) == [False, True], jobs
        first.settle()
        second.settle()
        dms = [c["channel"] for c in fake_slack.calls_to("chat.postMessage") if c["channel"].startswith("U")]
        assert {"U0PPM", "U0MLPM", "U0LEAD"} <= set(dms)
        assert sorted(dms) == sorted(set(dms)), f"someone was nagged twice: {sorted(dms)}"
        for request_id in (1, 2):
            request = first.bot.queries.get(request_id)
            lines = [m["text"] for m in fake_slack.thread(request.card_channel, request.card_ts)[1:]]
            assert len(lines) == len(set(lines)) >= 1, lines
    finally:
        first.stop()
        second.stop()


def at_once(calls: list[Any]) -> list[Any]:
    """Run each call on its own thread, released together; their results in order."""
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_two_notifiers_on_one_database_send_each_message_once(tmp_path: Path, fake_slack: FakeSlack) -> None:
    clock = Clock()
    first, second = start_harness(tmp_path, fake_slack, clock=clock), start_harness(tmp_path, fake_slack, clock=clock)
    try:
        fake_slack.latency = (
            0.2  # each Web API call takes a while: both notifiers see the items before either marks one sent
        )
        first.command("question: which eval covers refunds?")
        first.command("question: is there a refund-window eval?")
        first.bot.pool.wait_idle()
        at_once([first.bot.outbox.drain, second.bot.outbox.drain])
        assert len(fake_slack.messages("C0SUPPORT")) == 2
    finally:
        fake_slack.latency = 0
        first.stop()
        second.stop()
