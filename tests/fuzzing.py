"""Shared by the fuzz tests: hypothesis settings and a count of generated cases.

Each fuzz test body is wrapped in `counted`, and tests/conftest.py prints the total with
the fuzz tests' time at the end of the run, so CI shows how much was fuzzed.
"""

from __future__ import annotations

import functools
from typing import Callable

from hypothesis import HealthCheck, settings

FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

CASES = {"count": 0}


def counted(test: Callable) -> Callable:
    """Count every generated case ``test`` runs."""
    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        CASES["count"] += 1
        return test(*args, **kwargs)
    return wrapper
