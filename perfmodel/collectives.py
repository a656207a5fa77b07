"""Time of collectives over a ring of chips from link bandwidth and per-hop latency.

Standard ring algorithms (Thakur, Rabenseifner and Gropp, "Optimization of Collective
Communication Operations in MPICH", IJHPCA 2005), with S the payload per chip, n chips,
B the per-direction link bandwidth of one chip and L the per-step latency:

- all-reduce, ring (reduce-scatter + all-gather): 2 (n-1)/n * S / B + 2 (n-1) L
- all-reduce, tree (pipelined reduce to a root then broadcast down a binary tree; every
  chip sends and receives the whole payload once each way): 2 S / B + 2 ceil(log2 n) L
- all-reduce as timed: the faster of ring and tree, as NCCL picks per message size (ring
  wins for large payloads, tree for small, latency-bound ones such as decode activations)
- all-gather: (n-1)/n * S / B + (n-1) L, S being the gathered result per chip
- all-to-all: (n-1)/n * S / B + (n-1) L, S being what each chip sends in total
- send/recv (point to point): S / B + L
One chip needs no communication: 0 s.
"""

from __future__ import annotations

import math

import numpy as np

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
        return np.minimum(ring_all_reduce_s(payload_bytes, chips, link),
                          tree_all_reduce_s(payload_bytes, chips, link))[()]
    if collective in ("all_gather", "all_to_all"):
        return share + steps * link.latency_s
    raise SeedchipError(f"unknown collective {collective!r}")


def ring_all_reduce_s(payload_bytes: float, chips: int, link: Link) -> float:
    """Ring all-reduce: 2 (n-1)/n S / B + 2 (n-1) L."""
    steps = chips - 1
    return (2 * steps / chips * payload_bytes / link.bandwidth_bytes_per_s
            + 2 * steps * link.latency_s)


def tree_all_reduce_s(payload_bytes: float, chips: int, link: Link) -> float:
    """Pipelined binary-tree all-reduce: 2 S / B + 2 ceil(log2 n) L (0 for one chip)."""
    if chips == 1:
        return 0.0
    depth = math.ceil(math.log2(chips))
    return 2 * payload_bytes / link.bandwidth_bytes_per_s + 2 * depth * link.latency_s
