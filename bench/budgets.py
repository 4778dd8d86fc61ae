"""CPU budgets per request, by surface and thread group, in milliseconds (`bench/profile_ack.py --check`).

How they were set: `python bench/profile_ack.py --n 200`, twice, on the 2-core machine of
docs/benchmarks.md (AMD EPYC, Python 3.11, other test suites running beside it: load 10-15), after the
answer's checked dicts and the outbox's pacing check; the higher figure of the two runs, rounded up to
the next half millisecond (docs/benchmarks.md, "A CPU budget per request", has the runs). Thread CPU clocks, no profiler. `--check` fails when a figure is more than `OVER` times its
budget: well past the run-to-run noise (about ±15 % on a busy machine), well short of the 2-3x a feature
that reads history or renders through slack_sdk's models on the ack path adds. When a change makes a
surface cheaper, lower its budget in the same commit; when one must cost more, raise it there and say why.

`request`: waitress and Bolt's listener pool, from the socket to the ack and what a listener does after it
(a mention's filing, a click's change). `outbox`: the outbox worker and its lanes sending what the request
queued (card, thread reply, answer).
"""

BUDGETS_MS: dict[str, dict[str, float]] = {
    "command": {"ack": 2.0, "work": 5.0, "outbox": 2.0},
    "mention": {"ack": 2.0, "work": 5.0, "outbox": 0.5},
    "shortcut": {"ack": 2.0, "work": 7.0, "outbox": 1.5},
    "click": {"ack": 2.0, "work": 4.0, "outbox": 2.5},
}
OVER = 1.5
"""A figure more than this many times its budget fails the check (over by more than 50 %)."""
