"""The CPU budgets of `bench/profile_ack.py --check` (bench/budgets.py): one per surface the benchmark plays and per
thread group it measures, and the check's rule. Nothing here is timed: the benchmark measures, this reads its file."""

from bench.budgets import BUDGETS_MS, OVER
from bench.profile_ack import GROUPS, SURFACES, over_budget


def test_the_budgets_name_every_surface_and_thread_group() -> None:
    assert set(BUDGETS_MS) == set(SURFACES) == {"command", "mention", "shortcut", "click"}
    for surface, budget in BUDGETS_MS.items():
        assert set(budget) == set(GROUPS), surface
        assert all(ms > 0 for ms in budget.values()), surface
    assert OVER == 1.5


def test_only_a_figure_over_its_budget_by_more_than_half_fails_and_is_named() -> None:
    budgets = {"command": {"request": 4.0, "outbox": 2.0}, "click": {"request": 2.0, "outbox": 2.0}}
    figures = {"command": {"request": 6.0, "outbox": 3.1}, "click": {"request": 2.9, "outbox": 0.5}}
    assert over_budget(figures, budgets) == ["command: outbox threads 3.10 ms per request, budget 2.00 ms (1.6x)"]
