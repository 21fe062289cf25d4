"""Queries inside a write transaction (a script's `!` after its facts) are planned with the
statistics of what the transaction wrote, not with the committed ones (which lack it)."""

from __future__ import annotations

import mettadb
from mettadb.query import QueryStats, run_query

CONJ = "(, (parent $p X50) (parent $gp $p) (parent $gp $q) (female $q))"


def _facts(sp: mettadb.Space, n: int) -> None:
    sp.add_all([f"(parent X{i // 2} X{i})" for i in range(1, n)] + [f"(female X{i})" for i in range(0, n, 2)])


def test_a_conjunction_inside_the_writing_transaction_is_planned_on_its_pending_statistics(space):
    with space.transaction():
        _facts(space, 4000)
        qs = QueryStats()
        rows = list(run_query(space, mettadb.atom(CONJ), mettadb.Bindings(), qs))
        inside = qs.keys_visited
        assert all(step.estimate > 0 for step in qs.plan.steps)
    qs = QueryStats()
    assert len(list(run_query(space, mettadb.atom(CONJ), mettadb.Bindings(), qs))) == len(rows) > 0
    # the same plan as after the commit, so about as few keys; a plan on empty statistics walked thousands
    assert inside <= 2 * qs.keys_visited + 10, (inside, qs.keys_visited)


def test_a_script_that_adds_facts_then_queries_stays_fast(space):
    facts = "\n".join([f"(parent X{i // 2} X{i})" for i in range(1, 3000)] + [f"(female X{i})" for i in range(0, 3000, 2)])
    rules = "(= (aunt $x) (match &self (, (parent $p $x) (parent $gp $p) (parent $gp $q) (female $q)) $q))"
    calls = "\n".join(f"!(aunt X{i})" for i in range(100, 130))
    qs_total = []
    orig = run_query

    def counting(*a, **k):  # count keys visited by every query the run makes
        qs = QueryStats()
        yield from orig(a[0], a[1], a[2] if len(a) > 2 else mettadb.Bindings(), qs)
        qs_total.append(qs.keys_visited)

    import mettadb.interp.driver as driver

    saved = driver.run_query
    driver.run_query = counting
    try:
        space.run(facts + "\n" + rules + "\n" + calls)
    finally:
        driver.run_query = saved
    assert sum(qs_total) < 30 * 200, sum(qs_total)
