"""Write a calibration as a chip TOML file that perfmodel loads like any preset."""

from __future__ import annotations

from benches.calibrate import GATHER_ROW_BYTES, WIDE_GATHER_ROW_BYTES, Calibration, write_bandwidth
from benches.timing import HOST_TOLERANCE
from perfmodel import units
from perfmodel.chip import Chip


HEADER = "# Calibrated host chip, written by `seedchip calibrate`"
CAPACITIES = " (capacities: _gather_capacity, _stream_capacity, _stream_kept)"


def _q(value: float, dimension: str) -> str:
    """A quantity with full precision and its unit, for the file."""
    return f'"{units.format_quantity(value, dimension, digits=6)}"'


def _tail_efficiency(narrow_bytes_per_s: float, wide_bytes_per_s: float, line_bytes: float,
                     read_bytes_per_s: float) -> float:
    """Speed of the lines of a random row after its first, as a fraction of streaming reads.

    From the seconds per row of the narrow and the wide gathers: the extra lines of a
    wide row cost the difference. Clamped to (0, 1]; 1 when the wide row costs no more
    per extra line than streaming (or, in noise, no more than a narrow row).
    """
    narrow_s = GATHER_ROW_BYTES / narrow_bytes_per_s
    wide_s = WIDE_GATHER_ROW_BYTES / wide_bytes_per_s
    extra_lines = (WIDE_GATHER_ROW_BYTES - GATHER_ROW_BYTES) / line_bytes
    per_line_s = (wide_s - narrow_s) / extra_lines
    if per_line_s <= 0:
        return 1.0
    return min(1.0, line_bytes / per_line_s / read_bytes_per_s)


def state_path(path: str, state: int) -> str:
    """Where calibrate writes the chip file of host state ``state`` (1: the commonest, at
    ``path`` itself; 2: host.toml -> host.state2.toml)."""
    if state == 1:
        return path
    stem, dot, suffix = path.rpartition(".")
    return f"{stem}.state{state}.{suffix}" if dot and "/" not in suffix else f"{path}.state{state}"


def state_name(calibration: Calibration) -> str:
    """Which host state a calibration describes, in words."""
    if calibration.state == 1:
        return "the host's commonest state"
    return f"the host's state {calibration.state} of {calibration.states}"


def host_chip_toml(calibration: Calibration, nominal: Chip) -> str:
    """The calibrated host as chip TOML; power and price come from ``nominal`` (unmeasurable here).

    Every measured level has efficiency 1.0: its bandwidth *is* what a kernel achieves.
    Gather efficiency is the level's random-row bandwidth over its streaming bandwidth.
    """
    c = calibration
    system = c.system
    l2, l3 = system.cache(2), system.cache(3)
    line = (l2 or l3).line_bytes if (l2 or l3) else 64
    lines = [f"{HEADER} on {c.date}.",
             "# Microbenchmarks only (median of >= 5 interleaved rounds after warm-up; spread = "
             "(max - min) / median),",
             f"# over the {c.rounds_kept} of {c.rounds} rounds run in {state_name(c)}"
             f" (DRAM read within {HOST_TOLERANCE:.0%} of the rate most of them are near;",
             "# the overhead_flushed probes time their own calls over all rounds):"]
    for m in c.measurements:
        lines.append(f"#   {m.name:<16} {units.format_quantity(m.value, m.dimension):>14}"
                     f"  spread {m.spread:5.1%}  {m.detail}")

    def level(name: str, kind: str, capacity: float, prefix: str,
              gather_capacity: float | None = None,
              stream_capacity: float | None = None,
              stream_kept: float | None = None) -> list[str]:
        bandwidth = c.value(f"{prefix}_read")
        gather = c.value(f"{prefix}_gather")
        efficiency = min(1.0, gather / bandwidth)
        tail = _tail_efficiency(gather, c.value(f"{prefix}_gather_wide"), line, bandwidth)
        write = write_bandwidth(c.value(f"{prefix}_copy"), bandwidth)
        return ["", "[[memory]]", f'name = "{name}"', f'kind = "{kind}"',
                f"capacity = {_q(capacity, units.BYTES)}",
                *([f"gather_capacity = {_q(gather_capacity, units.BYTES)}"]
                  if gather_capacity is not None else []),
                *([f"stream_capacity = {_q(stream_capacity, units.BYTES)}"]
                  if stream_capacity is not None else []),
                *([f"stream_kept = {_q(stream_kept, units.BYTES)}"]
                  if stream_kept is not None else []),
                f"bandwidth = {_q(bandwidth, units.BYTES_PER_S)}",
                f"write_bandwidth = {_q(write, units.BYTES_PER_S)}",
                f"transaction = {_q(line, units.BYTES)}", "efficiency = 1.0",
                f"gather_efficiency = {efficiency:.4g}",
                f"gather_tail_efficiency = {tail:.4g}",
                f'source = "measured: {prefix}_read, _copy, _gather and _gather_wide'
                f'{CAPACITIES if stream_capacity else ""}'
                ' (see the comments at the top)"']

    memory = []
    if l2:
        private = l2.shared_by_cpus <= 1 and c.threads > 1
        memory += level("L2", "cache", l2.size_bytes * c.threads, "l2",
                        gather_capacity=l2.size_bytes if private else None)
    if l3:
        memory += level("L3", "cache", l3.size_bytes, "l3",
                        gather_capacity=c.value("l3_gather_capacity"),
                        stream_capacity=c.value("l3_stream_capacity"),
                        stream_kept=c.value("l3_stream_kept"))
    memory += level("DRAM", "ddr", system.memory_bytes or nominal.main_memory.capacity_bytes,
                    "dram")
    lines += [
        'name = "host"',
        f'description = "This host, calibrated: {system.cpu_model}, {c.threads} threads'
        f'{f", {state_name(c)}" if c.states > 1 else ""}"',
        "hypothetical = false",
        'gathers = "latency"',
        f'source = "measured by seedchip calibrate on {c.date} ({system.cpu_model}, '
        f'{system.cpus} CPUs, {c.threads} numba threads); power and price are the nominal '
        f'estimates of the {nominal.name} preset"',
        "", "[compute]",
        f"fp32 = {_q(c.value('matrix_peak'), units.FLOP_PER_S)}",
        f"dot_overhead = {_q(c.value('dot_overhead'), units.SECONDS)}",
        f"element_overhead = {_q(c.value('element_overhead'), units.SECONDS)}",
        f"matrix_overlap = {c.value('matrix_overlap'):.3g}",
        f"matvec_overlap = {c.value('matvec_overlap'):.3g}",
        f"attention_overlap = {c.value('attention_overlap'):.3g}",
        f"row_overlap = {c.value('row_overlap'):.3g}",
        f"reciprocal_overlap = {c.value('reciprocal_overlap'):.3g}",
        f"vector = {_q(c.value('vector'), units.FLOP_PER_S)}",
        f"transcendental = {_q(c.value('transcendental'), units.FLOP_PER_S)}",
        f"reciprocal = {_q(c.value('reciprocal'), units.FLOP_PER_S)}",
        f"selection = {_q(c.value('selection'), units.FLOP_PER_S)}",
        "efficiency = 1.0",
        f"overhead = {_q(c.value('overhead'), units.SECONDS)}",
        f"cold_overhead = {_q(c.value('cold_overhead'), units.SECONDS)}",
        f"cold_overhead_traffic = {_q(c.value('cold_overhead_traffic'), units.BYTES)}",
        'source = "measured: GEMM peak and cost per output (fit of a long and a short-k GEMM), '
        'cost per loaded weight (a GEMV in L2), how much of its compute and memory a streamed '
        'GEMM, a streamed matrix-vector product, streamed decode attention and a row-wise '
        'softmax overlap, FMA, '
        'exp and reciprocal throughput and how much of one runs under the other, top-k '
        'comparisons per second, and the fixed '
        'cost of a kernel call, warm and after streams that evict its dispatch code"',
        *memory,
        "", "[link]", f"bandwidth = {_q(nominal.link.bandwidth_bytes_per_s, units.BYTES_PER_S)}",
        f"latency = {_q(nominal.link.latency_s, units.SECONDS)}", "max_chips = 1",
        'source = "nominal: a single host has no scale-up domain"',
        "", "[power]", f"tdp = {_q(nominal.tdp_w, units.WATTS)}",
        f"idle = {_q(nominal.idle_w, units.WATTS)}",
        f'source = "nominal estimate of the {nominal.name} preset, not measured"',
        "", "[price]", f"usd = {_q(nominal.price_usd, units.USD)}", "estimate = true",
        f'source = "nominal estimate of the {nominal.name} preset, not measured"', ""]
    return "\n".join(lines)
