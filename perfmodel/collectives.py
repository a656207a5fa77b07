"""Time of collectives over a ring of chips from link bandwidth and per-hop latency.

Standard ring algorithms (Thakur, Rabenseifner and Gropp, "Optimization of Collective
Communication Operations in MPICH", IJHPCA 2005), with S the payload per chip, n chips,
B the per-direction link bandwidth of one chip and L the per-step latency:

- all-reduce (reduce-scatter + all-gather): 2 (n-1)/n * S / B + 2 (n-1) L
- all-gather: (n-1)/n * S / B + (n-1) L, S being the gathered result per chip
- all-to-all: (n-1)/n * S / B + (n-1) L, S being what each chip sends in total
- send/recv (point to point): S / B + L
One chip needs no communication: 0 s.
"""

from __future__ import annotations

from perfmodel.chip import Link
from perfmodel.errors import SeedchipError


def collective_time_s(collective: str, payload_bytes: float, chips: int, link: Link) -> float:
    """Seconds for one collective of ``payload_bytes`` per chip across ``chips`` chips."""
    if chips < 1:
        raise SeedchipError(f"{collective}: chips must be >= 1, got {chips}")
    if collective == "send_recv":
        return payload_bytes / link.bandwidth_bytes_per_s + link.latency_s
    if chips == 1:
        return 0.0
    steps = chips - 1
    share = steps / chips * payload_bytes / link.bandwidth_bytes_per_s
    if collective == "all_reduce":
        return 2 * share + 2 * steps * link.latency_s
    if collective in ("all_gather", "all_to_all"):
        return share + steps * link.latency_s
    raise SeedchipError(f"unknown collective {collective!r}")
