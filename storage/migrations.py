"""Ordered schema migrations, applied on start. Never edit one that has shipped: add the next."""

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("ai_intake")


@migrations()
def m001_requests_events_deliveries(db: Database) -> None:
    db.execute(
        """CREATE TABLE requests (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            domain TEXT,
            title TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            priority TEXT NOT NULL,
            status TEXT NOT NULL,
            stage TEXT,
            requester TEXT NOT NULL,
            assignee TEXT,
            owner TEXT,
            confidential INTEGER NOT NULL DEFAULT 0,
            source TEXT NOT NULL,
            links TEXT NOT NULL DEFAULT '[]',
            origin_channel TEXT,
            origin_ts TEXT,
            origin_key TEXT UNIQUE,
            permalink TEXT,
            card_channel TEXT,
            card_ts TEXT,
            court TEXT NOT NULL,
            route_reasons TEXT NOT NULL DEFAULT '[]',
            disclaimers TEXT NOT NULL DEFAULT '[]',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            first_response_at TEXT,
            resolved_at TEXT,
            version INTEGER NOT NULL DEFAULT 1
        )"""
    )
    db.execute("CREATE INDEX requests_open ON requests (status, domain)")
    db.execute("CREATE INDEX requests_assignee ON requests (assignee, status)")
    db.execute("CREATE INDEX requests_requester ON requests (requester, status)")
    db.execute("CREATE INDEX requests_card ON requests (card_channel, card_ts)")
    db.execute("CREATE INDEX requests_origin ON requests (origin_channel, origin_ts)")
    db.execute(
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            request_id INTEGER NOT NULL REFERENCES requests (id),
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            type TEXT NOT NULL,
            data TEXT NOT NULL DEFAULT '{}'
        )"""
    )
    db.execute("CREATE INDEX events_request ON events (request_id, id)")
    for verb in ("UPDATE", "DELETE"):
        db.execute(
            f"""CREATE TRIGGER events_append_only_{verb.lower()} BEFORE {verb} ON events
                BEGIN SELECT RAISE(ABORT, 'events are append-only'); END"""
        )
    db.execute("CREATE TABLE deliveries (key TEXT PRIMARY KEY, received_at TEXT NOT NULL)")
    db.execute(
        """CREATE TABLE people (
            user_id TEXT PRIMARY KEY,
            last_assigned_at TEXT
        )"""
    )


@migrations()
def m002_outbox(db: Database) -> None:
    db.execute(
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            key TEXT UNIQUE,
            request_id INTEGER REFERENCES requests (id),
            kind TEXT NOT NULL,
            payload TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            ts TEXT,
            error TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT
        )"""
    )
    db.execute("CREATE INDEX outbox_due ON outbox (status, next_attempt_at, id)")


@migrations()
def m003_notifications_and_lease(db: Database) -> None:
    db.execute(
        """CREATE TABLE notifications (
            request_id INTEGER NOT NULL REFERENCES requests (id),
            rule TEXT NOT NULL,
            step TEXT NOT NULL,
            recipients TEXT NOT NULL,
            sent_at TEXT NOT NULL,
            PRIMARY KEY (request_id, rule, step)
        )"""
    )
    db.execute("CREATE TABLE leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at TEXT NOT NULL)")


@migrations()
def m004_people_time_zones(db: Database) -> None:
    db.execute("ALTER TABLE people ADD COLUMN tz TEXT")


@migrations()
def m005_load_index(db: Database) -> None:
    db.execute("CREATE INDEX requests_load ON requests (status, assignee, priority)")
    db.execute("CREATE INDEX requests_created ON requests (status, created_at)")


@migrations()
def m006_next_nag_check(db: Database) -> None:
    """When each open request next needs the nag rules' attention (NULL: not until it changes)."""
    db.execute("ALTER TABLE requests ADD COLUMN next_nag_at TEXT")
    db.execute("UPDATE requests SET next_nag_at = created_at WHERE status IN ('open', 'claimed', 'waiting')")
    db.execute("CREATE INDEX requests_next_nag ON requests (next_nag_at) WHERE next_nag_at IS NOT NULL")


@migrations()
def m007_home_viewers(db: Database) -> None:
    """Who has opened the App Home: their Home is re-published when their requests change."""
    db.execute("ALTER TABLE people ADD COLUMN home_opened INTEGER NOT NULL DEFAULT 0")


@migrations()
def m008_card_permalink(db: Database) -> None:
    """The card's permalink (chat.getPermalink), fetched once when a nag first links to it."""
    db.execute("ALTER TABLE requests ADD COLUMN card_permalink TEXT")


@migrations()
def m009_closed_as(db: Database) -> None:
    """Why a request was closed when it was not by resolving or withdrawing it ("no_answer")."""
    db.execute("ALTER TABLE requests ADD COLUMN closed_as TEXT")


@migrations()
def m010_recheck_waiting(db: Database) -> None:
    """Requests waiting on their requester can now fall due (a reminder, closing as no answer): look at them again."""
    db.execute("UPDATE requests SET next_nag_at = updated_at WHERE status = 'waiting'")


OPEN = "('open', 'claimed', 'waiting')"  # bot.domain.models.OPEN_STATUSES when this migration was written


@migrations()
def m011_open_load_counters(db: Database) -> None:
    """Each assignee's open requests per priority, kept by triggers in the transaction of every change, so triage
    reads a few rows instead of counting every open request (the requests table stays the source of truth)."""
    db.execute("""CREATE TABLE open_load (
        assignee TEXT NOT NULL, priority TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (assignee, priority)
    ) WITHOUT ROWID""")
    db.execute(f"""INSERT INTO open_load (assignee, priority, n)
                   SELECT assignee, priority, count(*) FROM requests
                   WHERE assignee IS NOT NULL AND status IN {OPEN} GROUP BY assignee, priority""")
    count_in = """INSERT INTO open_load (assignee, priority, n) VALUES (new.assignee, new.priority, 1)
                  ON CONFLICT (assignee, priority) DO UPDATE SET n = n + 1"""
    count_out = "UPDATE open_load SET n = n - 1 WHERE assignee = old.assignee AND priority = old.priority"
    db.execute(f"""CREATE TRIGGER open_load_insert AFTER INSERT ON requests
                   WHEN new.assignee IS NOT NULL AND new.status IN {OPEN} BEGIN {count_in}; END""")
    db.execute(f"""CREATE TRIGGER open_load_update_out AFTER UPDATE OF assignee, priority, status ON requests
                   WHEN old.assignee IS NOT NULL AND old.status IN {OPEN} BEGIN {count_out}; END""")
    db.execute(f"""CREATE TRIGGER open_load_update_in AFTER UPDATE OF assignee, priority, status ON requests
                   WHEN new.assignee IS NOT NULL AND new.status IN {OPEN} BEGIN {count_in}; END""")
    db.execute(f"""CREATE TRIGGER open_load_delete AFTER DELETE ON requests
                   WHEN old.assignee IS NOT NULL AND old.status IN {OPEN} BEGIN {count_out}; END""")


@migrations()
def m012_outbox_by_request(db: Database) -> None:
    """The outbox worker asks whether a request's card still waits, and supersedes older cards of a request, by
    request: an index, so neither walks every message ever sent."""
    db.execute("CREATE INDEX outbox_request ON outbox (request_id, kind, status)")


@migrations()
def m013_change_log(db: Database) -> None:
    """The change log: one row per change (what the queries find it by) and its append-only events; a
    request may name a catalog asset."""
    db.execute(
        """CREATE TABLE changes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            domain TEXT NOT NULL,
            side TEXT NOT NULL,
            asset TEXT,
            asked TEXT,
            at TEXT NOT NULL,
            answered_at TEXT,
            hook_source TEXT,
            hook_id TEXT,
            UNIQUE (hook_source, hook_id)
        )"""
    )
    db.execute("CREATE INDEX changes_domain ON changes (domain, at)")
    db.execute("CREATE INDEX changes_unanswered ON changes (at) WHERE answered_at IS NULL")
    db.execute(
        """CREATE TABLE change_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            change_id INTEGER NOT NULL REFERENCES changes (id),
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            type TEXT NOT NULL,
            data TEXT NOT NULL DEFAULT '{}'
        )"""
    )
    db.execute("CREATE INDEX change_events_change ON change_events (change_id, id)")
    for verb in ("UPDATE", "DELETE"):
        db.execute(
            f"""CREATE TRIGGER change_events_append_only_{verb.lower()} BEFORE {verb} ON change_events
                BEGIN SELECT RAISE(ABORT, 'change events are append-only'); END"""
        )
    db.execute("ALTER TABLE requests ADD COLUMN asset TEXT")


@migrations()
def m014_request_search(db: Database) -> None:
    """Full-text search over requests' titles and descriptions (SQLite FTS5, an external-content index kept
    by triggers): similar requests at intake and `/ai-request search`."""
    db.execute(
        """CREATE VIRTUAL TABLE requests_fts USING fts5(
            title, description, content='requests', content_rowid='id', tokenize='porter unicode61')"""
    )
    db.execute("INSERT INTO requests_fts (rowid, title, description) SELECT id, title, description FROM requests")
    db.execute(
        """CREATE TRIGGER requests_fts_insert AFTER INSERT ON requests BEGIN
            INSERT INTO requests_fts (rowid, title, description) VALUES (new.id, new.title, new.description);
        END"""
    )
    db.execute(
        """CREATE TRIGGER requests_fts_delete AFTER DELETE ON requests BEGIN
            INSERT INTO requests_fts (requests_fts, rowid, title, description) VALUES ('delete', old.id, old.title, old.description);
        END"""
    )
    db.execute(
        """CREATE TRIGGER requests_fts_update AFTER UPDATE OF title, description ON requests BEGIN
            INSERT INTO requests_fts (requests_fts, rowid, title, description) VALUES ('delete', old.id, old.title, old.description);
            INSERT INTO requests_fts (rowid, title, description) VALUES (new.id, new.title, new.description);
        END"""
    )


@migrations()
def m015_request_reporter(db: Database) -> None:
    """Who filed someone else's message as a request (the shortcut, a :ticket:); the message's author is its requester."""
    db.execute("ALTER TABLE requests ADD COLUMN reporter TEXT")


@migrations()
def m016_private_origins(db: Database) -> None:
    """Whether a request was filed in a private conversation, and what the bot learnt of channels' privacy."""
    db.execute("ALTER TABLE requests ADD COLUMN origin_private INTEGER NOT NULL DEFAULT 0")
    db.execute("CREATE TABLE channels (channel TEXT PRIMARY KEY, private INTEGER NOT NULL, checked_at TEXT NOT NULL)")


@migrations()
def m017_people_away(db: Database) -> None:
    """Who said they are away (`/ai-request away [until DATE]`): triage skips them until `until` (the day they are back)."""
    db.execute("CREATE TABLE away (user_id TEXT PRIMARY KEY, until TEXT, since TEXT NOT NULL)")


@migrations()
def m018_change_nags(db: Database) -> None:
    """The change.unacknowledged nag: each sent once per change, rule and step (as `notifications` is per request),
    and when each unanswered change next needs the nag rules' attention (NULL: not until it changes)."""
    db.execute(
        """CREATE TABLE change_notifications (
            change_id INTEGER NOT NULL REFERENCES changes (id),
            rule TEXT NOT NULL,
            step TEXT NOT NULL,
            recipients TEXT NOT NULL,
            sent_at TEXT NOT NULL,
            PRIMARY KEY (change_id, rule, step)
        )"""
    )
    db.execute("ALTER TABLE changes ADD COLUMN next_nag_at TEXT")
    db.execute("UPDATE changes SET next_nag_at = at WHERE answered_at IS NULL")
    db.execute("CREATE INDEX changes_next_nag ON changes (next_nag_at) WHERE next_nag_at IS NOT NULL")


@migrations()
def m019_regressions_by_update(db: Database) -> None:
    """The digest counts the regressions closed in its week (with or without an eval case): found by when they last
    changed, without reading every request."""
    db.execute("CREATE INDEX requests_regressions_updated ON requests (updated_at) WHERE kind = 'regression'")


@migrations()
def m020_request_facts(db: Database) -> None:
    """The facts kept for each request as it changes (`bot.domain.facts`): its SLA clocks, one row per target and
    cycle, and one row of the rest (where the ball has been, staleness, snooze); and which version of the facts, under
    which config, every request's are (`facts_basis`). Empty here: the bot computes them from each request's events
    when it starts (`bot.usecases.facts`), and in the unit of work of every change after that.
    And the indexes the digest reads the week and the open requests by."""
    db.execute(
        """CREATE TABLE request_facts (
            request_id INTEGER PRIMARY KEY REFERENCES requests (id),
            version INTEGER NOT NULL,
            court TEXT,
            court_since TEXT,
            court_seconds TEXT NOT NULL DEFAULT '{}',
            silent_since TEXT NOT NULL,
            last_human_at TEXT,
            stalled_since TEXT,
            unowned_since TEXT,
            snoozed_until TEXT,
            snoozed_by TEXT
        )"""
    )
    db.execute("CREATE INDEX request_facts_stalled ON request_facts (stalled_since) WHERE stalled_since IS NOT NULL")
    db.execute("CREATE INDEX request_facts_unowned ON request_facts (unowned_since) WHERE unowned_since IS NOT NULL")
    db.execute("CREATE INDEX request_facts_snoozed ON request_facts (snoozed_until) WHERE snoozed_until IS NOT NULL")
    db.execute(
        """CREATE TABLE sla_clocks (
            request_id INTEGER NOT NULL REFERENCES requests (id),
            target TEXT NOT NULL,
            cycle INTEGER NOT NULL,
            ended_by TEXT,
            started_at TEXT NOT NULL,
            target_seconds REAL NOT NULL,
            at_risk REAL NOT NULL,
            cursor TEXT NOT NULL,
            counted REAL NOT NULL,
            remaining REAL,
            paused REAL NOT NULL,
            paused_since TEXT,
            due_at TEXT,
            satisfied_at TEXT,
            elapsed REAL,
            state TEXT,
            PRIMARY KEY (request_id, target, cycle)
        ) WITHOUT ROWID"""
    )
    db.execute("CREATE INDEX sla_clocks_satisfied ON sla_clocks (satisfied_at) WHERE satisfied_at IS NOT NULL")
    db.execute("CREATE INDEX sla_clocks_due ON sla_clocks (due_at) WHERE due_at IS NOT NULL")
    db.execute(
        "CREATE TABLE facts_basis (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, basis TEXT NOT NULL)"
    )
    db.execute("CREATE INDEX requests_created_at ON requests (created_at)")
    db.execute(f"CREATE INDEX requests_open_kind ON requests (domain, kind, confidential) WHERE status IN {OPEN}")
    db.execute(f"CREATE INDEX requests_open_age ON requests (domain, created_at, id) WHERE status IN {OPEN}")


@migrations()
def m021_outbox_failures(db: Database) -> None:
    """How many times in a row each queued message failed (a passing failure: Slack down, rate limited): `/readyz`
    and the outbox metrics call one failing again and again stuck, and never one held for working hours or paced."""
    db.execute("ALTER TABLE outbox ADD COLUMN failures INTEGER NOT NULL DEFAULT 0")


@migrations()
def m022_hand_job_runs(db: Database) -> None:
    """The last hand-run of each job (`ai-intake jobs run`, another process): when, whether it ended well, how long it
    took, so the running bot's /metrics shows it."""
    db.execute(
        """CREATE TABLE hand_job_runs (
            job TEXT PRIMARY KEY,
            at TEXT NOT NULL,
            ok INTEGER NOT NULL,
            seconds REAL NOT NULL
        )"""
    )


@migrations()
def m023_requester_updates(db: Database) -> None:
    """What each person chose to be told of the requests they filed (`/ai-request notify all|important|none`)."""
    db.execute("CREATE TABLE notify_levels (user_id TEXT PRIMARY KEY, level TEXT NOT NULL, since TEXT NOT NULL)")


@migrations()
def m024_away_cover(db: Database) -> None:
    """Who covers for someone away (`/ai-request away until DATE cover @x`): their nags go there."""
    db.execute("ALTER TABLE away ADD COLUMN cover TEXT")


@migrations()
def m025_triage_examples(db: Database) -> None:
    """What triage learns from: the shipped seed, each domain's description, and the requests the team corrected,
    moved, marked duplicate or resolved (one row each, the newest `training.LEARNED_CAP` kept), with a full-text
    index (porter stems) to find the nearest ones."""
    db.execute(
        """CREATE TABLE triage_examples (
            id INTEGER PRIMARY KEY,
            text TEXT NOT NULL,
            kind TEXT,
            domain TEXT,
            origin TEXT NOT NULL,
            request_id INTEGER UNIQUE,
            at TEXT
        )"""
    )
    db.execute("CREATE INDEX triage_examples_origin ON triage_examples (origin, id)")
    db.execute("CREATE TABLE triage_seed (id INTEGER PRIMARY KEY CHECK (id = 1), fingerprint TEXT NOT NULL)")
    db.execute(
        "CREATE VIRTUAL TABLE triage_examples_fts USING fts5(text, content='triage_examples', content_rowid='id', tokenize='porter unicode61')"
    )
    db.execute(
        """CREATE TRIGGER triage_examples_fts_insert AFTER INSERT ON triage_examples BEGIN
            INSERT INTO triage_examples_fts (rowid, text) VALUES (new.id, new.text);
        END"""
    )
    db.execute(
        """CREATE TRIGGER triage_examples_fts_delete AFTER DELETE ON triage_examples BEGIN
            INSERT INTO triage_examples_fts (triage_examples_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END"""
    )


@migrations()
def m026_inbox(db: Database) -> None:
    """Signed commands, clicks and shortcuts acknowledged at once and worked after their ack (`storage/inbox.py`):
    one row per delivery, keyed by its signature, with its raw body, headers, arrival and when it was worked."""
    db.execute(
        """CREATE TABLE inbox (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            key TEXT NOT NULL UNIQUE,
            body TEXT NOT NULL,
            headers TEXT NOT NULL,
            received_at TEXT NOT NULL,
            done_at TEXT
        )"""
    )
    db.execute("CREATE INDEX inbox_pending ON inbox (seq) WHERE done_at IS NULL")
