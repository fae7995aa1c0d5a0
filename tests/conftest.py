"""The sanitizer ledger is checked after every test (DESIGN §5, §11).

A test that expects records declares them with
``@pytest.mark.expect_violation("kind", ...)`` or, more precisely, with
``kmem.expect_violations(...)`` around the offending call.
"""

from __future__ import annotations

import os
import warnings

import pytest
from hypothesis import HealthCheck, settings

import kmem
from kmem import sanitizer
from kmem.preempt import reset_atomic_state

settings.register_profile("ci", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=30, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


@pytest.fixture(autouse=True)
def sanitizer_ledger(request):
    """Fail the test if it left violations, pins or kmaps behind."""
    start = sanitizer.mark()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", kmem.KernelWarning)
        yield sanitizer.ledger
    sanitizer.check_leaks()
    atomic = reset_atomic_state()
    marker = request.node.get_closest_marker("expect_violation")
    expected = tuple(marker.args) if marker else ()
    taken, remaining = sanitizer.take(start, expected)
    # Whatever happened, the ledger starts clean for the next test.
    del sanitizer.ledger.records[start:]
    missing = [k for k in expected if not any(r.kind == k for r in taken)]
    problems = [str(r) for r in remaining]
    if atomic:
        problems.append(f"test ended in atomic context: {atomic}")
    if missing:
        problems.append(f"expected sanitizer records not made: {missing}")
    if problems:
        pytest.fail("sanitizer ledger:\n  " + "\n  ".join(problems), pytrace=False)
