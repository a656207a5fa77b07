"""Access skew: how many lookups hit the hottest rows of a Zipf-distributed table.

Row i (1-based, hottest first) of an N-row table is read with probability
i^-s / H(N, s), where H(N, s) = sum_{i<=N} i^-s is the generalised harmonic number and
s >= 0 the Zipf exponent (s = 0: uniform). A cache holding the C hottest rows serves a
share H(C, s) / H(N, s) of the lookups: the hit rate of an ideal static cache, the best
any replacement policy can do.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

_EXACT_TERMS = 2048


@lru_cache(maxsize=64)
def _exact_prefix(s: float) -> np.ndarray:
    """H(i, s) for i = 1 .. 2048."""
    return np.cumsum(np.arange(1, _EXACT_TERMS + 1, dtype=np.float64) ** -s)


def harmonic(n: float, s: float) -> float:
    """H(n, s) for real n >= 0: exact for n <= 2048, else exact head + midpoint-rule tail.

    The tail sum_{i=K+1}^{n} i^-s is the integral of x^-s from K+1/2 to n+1/2, whose
    error is below s (s+1) / 24 * K^(-s-2): under 1e-7 relative for K = 2048.
    """
    n = math.floor(n)
    if n <= 0:
        return 0.0
    head_terms = min(n, _EXACT_TERMS)
    head = float(_exact_prefix(s)[head_terms - 1])
    if n <= _EXACT_TERMS:
        return head
    low, high = _EXACT_TERMS + 0.5, n + 0.5
    if s == 1:
        return head + math.log(high / low)
    return head + (high ** (1 - s) - low ** (1 - s)) / (1 - s)


def zipf_hit_rate(cached_rows: float, rows: float, s: float) -> float:
    """Share of lookups served by a cache of the ``cached_rows`` hottest of ``rows`` rows."""
    if cached_rows >= rows:
        return 1.0
    if cached_rows < 1:
        return 0.0
    if s == 0:
        return math.floor(cached_rows) / rows
    return harmonic(cached_rows, s) / harmonic(rows, s)
