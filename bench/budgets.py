"""CPU budgets per request, by surface and thread group, in milliseconds (`bench/profile_ack.py --check`).

How they were set: `python bench/profile_ack.py` twice (`--n 100`, then `--n 200`), on the 2-core machine of
docs/benchmarks.md (AMD EPYC, Python 3.11, other sessions' test suites running beside it), once commands, clicks,
shortcuts and mentions were acked at once from the inbox; the higher figure of the two runs, rounded up to the
next half millisecond (docs/benchmarks.md, "Acks at the floor", has the runs). Thread CPU clocks, no profiler.
`--check` fails when a figure is more than `OVER` times its budget: well past the run-to-run noise (about ±15 % on
a busy machine), well short of the 2-3x a feature that reads history or renders through slack_sdk's models adds.
The `ack` budgets are the ones that keep the ack at the floor: nothing that reads history belongs there. When a change makes a
surface cheaper, lower its budget in the same commit; when one must cost more, raise it there and say why.

`ack`: waitress, from the socket to the HTTP answer (for a command, a click, a shortcut or a mention: the door's
checks and keeping it in the inbox), and the inbox's keeper thread that writes what the acks keep. `work`: the inbox worker and Bolt's listener pool, what is done after the ack
(the filing, the change, the answer posted to the response_url). `outbox`: the outbox worker and its lanes sending
what the request queued (card, thread reply).
"""

BUDGETS_MS: dict[str, dict[str, float]] = {
    "command": {"ack": 1.5, "work": 9.0, "outbox": 1.5},
    "mention": {"ack": 1.0, "work": 10.0, "outbox": 2.5},
    "shortcut": {"ack": 1.5, "work": 11.0, "outbox": 3.0},
    "click": {"ack": 2.0, "work": 4.5, "outbox": 3.5},
}
OVER = 1.5
"""A figure more than this many times its budget fails the check (over by more than 50 %)."""
