"""``seedchip plan``: how many chips carry a target load within an SLO, and what they cost.

Also the options that ``plan``, ``compare`` and ``estimate`` share: parallel layout, cost
assumptions and SLOs.
"""

from __future__ import annotations

from typing import Any, Callable

import click
from tabulate import tabulate

from benches.output import format_option, parse_settings, set_option, to_json, emit_rows
from perfmodel import units
from perfmodel.chip import Chip, load_chip
from perfmodel.cost import CostAssumptions
from perfmodel.errors import SeedchipError
from perfmodel.parallel import Layout
from perfmodel.serving import Fleet, GenerationSlo, RankingSlo
from workloads.config import DTYPE_CHOICES, LlmConfig, WorkloadConfig, load_workload
from workloads.estimate import Served, plan, serve

DEFAULT_PROMPT = 1024
DEFAULT_OUTPUT = 256

# ---------------------------------------------------------------- shared options


def layout_options(function: Callable) -> Callable:
    """``--tp/--pp/--ep`` (generation) and ``--shards`` (recommendation)."""
    for name, text in (("shards", "Embedding shards per replica (recommendation)."),
                       ("ep", "Expert-parallel chips per replica (MoE generation)."),
                       ("pp", "Pipeline stages per replica (generation)."),
                       ("tp", "Tensor-parallel chips per replica (generation).")):
        function = click.option(f"--{name}", type=int, default=None, help=text)(function)
    return function


def parse_layout(tp: int | None, pp: int | None, ep: int | None,
                 shards: int | None) -> Layout | None:
    """The layout given on the command line, or None (choose one) when none is."""
    if tp is None and pp is None and ep is None and shards is None:
        return None
    return Layout(tp=tp or 1, pp=pp or 1, ep=ep or 1, shards=shards or 1)


def cost_options(function: Callable) -> Callable:
    """``--price --years --usd-per-kwh --pue`` (defaults and sources: perfmodel/cost.py)."""
    defaults = CostAssumptions()
    function = click.option("--pue", type=float, default=defaults.pue, show_default=True,
                            help="Power usage effectiveness of the data centre.")(function)
    function = click.option("--usd-per-kwh", type=float, default=defaults.usd_per_kwh,
                            show_default=True, help="Electricity price.")(function)
    function = click.option("--years", type=float, default=defaults.years, show_default=True,
                            help="Years over which the chip price is amortised.")(function)
    return click.option("--price", type=float, default=None,
                        help="Chip price in USD (default: the chip's own).")(function)


def parse_cost(price: float | None, years: float, usd_per_kwh: float,
               pue: float) -> CostAssumptions:
    return CostAssumptions(years=years, usd_per_kwh=usd_per_kwh, pue=pue, price_usd=price)


def slo_options(function: Callable) -> Callable:
    """Latency SLOs: ``--slo-p99`` (ranking), ``--slo-ttft-p99`` etc. (generation)."""
    gen, rank = GenerationSlo(), RankingSlo()
    for name, text in (
            ("slo-tpot-p50", "Generation: p50 time per output token SLO (e.g. 30ms)."),
            ("slo-ttft-p50", "Generation: p50 time to first token SLO."),
            ("slo-tpot-p99", f"Generation: p99 time per output token SLO "
                             f"[default: {gen.tpot_p99_s * 1e3:g}ms]."),
            ("slo-ttft-p99", f"Generation: p99 time to first token SLO "
                             f"[default: {gen.ttft_p99_s * 1e3:g}ms]."),
            ("slo-p99", f"Ranking: p99 request latency SLO, queueing included "
                        f"[default: {rank.p99_s * 1e3:g}ms].")):
        function = click.option(f"--{name}", type=str, default=None, metavar="TIME",
                                help=text)(function)
    return function


def parse_slo(config: WorkloadConfig, slo_p99: str | None, slo_ttft_p99: str | None,
              slo_tpot_p99: str | None, slo_ttft_p50: str | None,
              slo_tpot_p50: str | None) -> GenerationSlo | RankingSlo:
    """The SLO of the workload's family; an SLO option of the other family is an error."""
    def seconds(text: str | None, option: str) -> float | None:
        return None if text is None else units.parse_quantity(text, units.SECONDS, option)

    generation_given = any(v is not None for v in (slo_ttft_p99, slo_tpot_p99, slo_ttft_p50,
                                                    slo_tpot_p50))
    if isinstance(config, LlmConfig):
        if slo_p99 is not None:
            raise SeedchipError(f"{config.name} is a generation model: give --slo-ttft-p99 "
                                "and --slo-tpot-p99 instead of --slo-p99")
        default = GenerationSlo()
        return GenerationSlo(
            ttft_p99_s=seconds(slo_ttft_p99, "--slo-ttft-p99") or default.ttft_p99_s,
            tpot_p99_s=seconds(slo_tpot_p99, "--slo-tpot-p99") or default.tpot_p99_s,
            ttft_p50_s=seconds(slo_ttft_p50, "--slo-ttft-p50"),
            tpot_p50_s=seconds(slo_tpot_p50, "--slo-tpot-p50"))
    if generation_given:
        raise SeedchipError(f"{config.name} is a recommendation model: give --slo-p99 "
                            "(TTFT and TPOT SLOs apply to generation)")
    return RankingSlo(seconds(slo_p99, "--slo-p99") or RankingSlo().p99_s)


def tokens(config: WorkloadConfig, prompt: int | None,
           output: int | None) -> tuple[int | None, int | None]:
    """Generation defaults for --prompt and --output; recommendation keeps None."""
    if isinstance(config, LlmConfig):
        return (DEFAULT_PROMPT if prompt is None else prompt,
                DEFAULT_OUTPUT if output is None else output)
    return prompt, output


def target_units(config: WorkloadConfig, qps: float | None, tokens_per_s: float | None,
                 output: int | None) -> float | None:
    """Target load in the served unit (requests for ranking, output tokens for generation)."""
    if qps is not None and tokens_per_s is not None:
        raise SeedchipError("give one of --qps and --tokens-per-s, not both")
    if tokens_per_s is not None:
        if not isinstance(config, LlmConfig):
            raise SeedchipError(f"{config.name} is a recommendation model: give --qps "
                                "(requests per second), not --tokens-per-s")
        return tokens_per_s
    if qps is not None and isinstance(config, LlmConfig):
        return qps * output
    return qps


# ---------------------------------------------------------------- formatting helpers


def seconds_text(value: float) -> str:
    """Seconds for people, rounded to 3 digits first (999.99 us reads as 1 ms)."""
    return units.format_quantity(float(f"{value:.3g}"), units.SECONDS)


def rate_text(value: float, unit: str) -> str:
    return f"{value:,.4g} {unit}/s" if value < 1e4 else f"{value:,.0f} {unit}/s"


def usd_text(value: float) -> str:
    return f"{value:,.0f} USD" if value >= 100 else f"{value:.3g} USD"


def latency_fields(served: Served) -> dict[str, Any]:
    """Raw latency figures of a served replica (base units)."""
    s = served.serving
    if served.unit == "tokens":
        return {"ttft_p50_s": s.ttft.p50_s, "ttft_p99_s": s.ttft.p99_s, "tpot_s": s.tpot_s,
                "batch": s.batch}
    return {"latency_p50_s": s.latency.p50_s, "latency_p99_s": s.latency.p99_s,
            "batch_requests": s.batch}


def unit_cost_fields(served: Served, fleet: Fleet) -> dict[str, Any]:
    """$ and J per unit with unit-carrying names."""
    if served.unit == "tokens":
        return {"usd_per_mtok": fleet.usd_per_unit * 1e6, "joules_per_token": fleet.joules_per_unit}
    return {"usd_per_request": fleet.usd_per_unit, "usd_per_mrequests": fleet.usd_per_unit * 1e6,
            "joules_per_request": fleet.joules_per_unit}


# ---------------------------------------------------------------- plan


def plan_result(config: WorkloadConfig, chip: Chip, served: Served, fleet: Fleet,
                dtype: str) -> dict[str, Any]:
    """The plan in base units."""
    generation = served.unit == "tokens"
    data: dict[str, Any] = {
        "chip": chip.name, "workload": config.name, "family": config.family, "dtype": dtype,
        "target_per_s": fleet.target_per_s, "target_unit": served.unit,
        "chips": fleet.chips, "replicas": fleet.replicas,
        "chips_per_replica": fleet.chips_per_replica,
        "layout": {"tp": served.layout.tp, "pp": served.layout.pp, "ep": served.layout.ep,
                   "shards": served.layout.shards},
        "replica_max_per_s": served.units_per_s, "utilisation": fleet.utilisation,
        **latency_fields(served), "bound": served.bound,
        "fleet_power_w": fleet.power_w, "fleet_usd_per_hour": fleet.usd_per_hour,
        "fleet_usd_per_year": fleet.usd_per_year, "fleet_memory_bytes": fleet.memory_bytes,
    }
    if generation:
        requests = fleet.target_per_s / served.serving.output
        data.update(requests_per_s=requests,
                    usd_per_request=fleet.usd_per_hour / (requests * 3600.0),
                    joules_per_request=fleet.power_w / requests)
    else:
        data.update(samples_per_s=fleet.target_per_s * config.candidates,
                    candidates=config.candidates)
    data.update(unit_cost_fields(served, fleet))
    return data


def _plan_for_people(data: dict[str, Any], chip: Chip) -> list[tuple[str, str]]:
    generation = data["target_unit"] == "tokens"
    layout = Layout(**data["layout"]).describe()
    if generation:
        load = (f"{rate_text(data['target_per_s'], 'tokens')} output "
                f"({rate_text(data['requests_per_s'], 'req')})")
        batch = f"{data['batch']} sequences (continuous batching)"
        latency = (f"TTFT p50 {seconds_text(data['ttft_p50_s'])}, p99 "
                   f"{seconds_text(data['ttft_p99_s'])}; TPOT {seconds_text(data['tpot_s'])}")
    else:
        load = (f"{rate_text(data['target_per_s'], 'req')} "
                f"({rate_text(data['samples_per_s'], 'samples')}, {data['candidates']} "
                "candidates per request)")
        batch = f"up to {data['batch_requests']} requests ({data['batch_requests'] * data['candidates']} samples)"
        latency = (f"p50 {seconds_text(data['latency_p50_s'])}, p99 "
                   f"{seconds_text(data['latency_p99_s'])} (queueing included)")
    per_replica = rate_text(data["replica_max_per_s"], data["target_unit"])
    rows = [
        ("target", load),
        ("chips", f"{data['chips']:,} = {data['replicas']:,} replicas x "
                  f"{data['chips_per_replica']} ({layout})"),
        ("batch per replica", batch),
        ("replica rate within SLO", per_replica),
        ("latency at that rate", latency),
        ("utilisation", f"{data['utilisation']:.0%} (bound: {data['bound']})"),
        ("fleet power", units.format_quantity(data["fleet_power_w"], units.WATTS)
         + " (chips only, before PUE)"),
        ("fleet cost", f"{usd_text(data['fleet_usd_per_year'])}/year"),
        ("cost per request", usd_text(data["usd_per_request"])),
    ]
    if generation:
        rows.append(("cost per 1M tokens", usd_text(data["usd_per_mtok"])))
        rows.append(("energy", f"{data['joules_per_token']:.3g} J/token, "
                               f"{data['joules_per_request']:.3g} J/request"))
    else:
        rows.append(("cost per 1M requests", usd_text(data["usd_per_mrequests"])))
        rows.append(("energy", f"{data['joules_per_request']:.3g} J/request"))
    per_chip = units.format_quantity(chip.main_memory.capacity_bytes, units.BYTES)
    rows.append(("memory bill", f"{units.format_quantity(data['fleet_memory_bytes'], units.BYTES)} "
                                f"{chip.main_memory.name} ({data['chips']:,} x {per_chip})"))
    return rows


@click.command("plan")
@click.option("--chip", "chip_name", required=True, help="Chip preset or .toml path.")
@click.option("--workload", "workload_name", required=True, help="Workload preset or .toml path.")
@click.option("--qps", type=float, default=None,
              help="Target requests per second (a ranking request scores the workload's "
                   "candidates; a generation request is --prompt in, --output out).")
@click.option("--tokens-per-s", type=float, default=None,
              help="Generation: target output tokens per second (instead of --qps).")
@click.option("--prompt", type=int, default=None, help=f"Prompt tokens (default {DEFAULT_PROMPT}).")
@click.option("--output", type=int, default=None, help=f"Output tokens (default {DEFAULT_OUTPUT}).")
@click.option("--dtype", type=click.Choice(DTYPE_CHOICES), default="bf16", show_default=True)
@slo_options
@layout_options
@cost_options
@set_option
@format_option
def plan_command(chip_name: str, workload_name: str, qps: float | None,
                 tokens_per_s: float | None, prompt: int | None, output: int | None,
                 dtype: str, slo_p99: str | None, slo_ttft_p99: str | None,
                 slo_tpot_p99: str | None, slo_ttft_p50: str | None, slo_tpot_p50: str | None,
                 tp: int | None, pp: int | None, ep: int | None, shards: int | None,
                 price: float | None, years: float, usd_per_kwh: float, pue: float,
                 settings: tuple[str, ...], output_format: str) -> None:
    """Chips, batch, utilisation, power, $ per year and per request, and the memory bill
    of a fleet that serves --qps (or --tokens-per-s) within the latency SLO.

    A replica is one copy of the model (its layout: --tp/--pp/--ep or --shards, or the
    cheapest of the smallest layout that fits and its tensor-parallel widenings).

    \b
    Example: seedchip plan --chip seedchip-rec --workload dlrm-dcnv2 --qps 1e6 --slo-p99 20ms
    """
    chip = load_chip(chip_name, parse_settings(settings))
    config = load_workload(workload_name)
    prompt, output = tokens(config, prompt, output)
    target = target_units(config, qps, tokens_per_s, output)
    if target is None:
        raise SeedchipError("give the target load: --qps (requests/s) or, for generation, "
                            "--tokens-per-s")
    slo = parse_slo(config, slo_p99, slo_ttft_p99, slo_tpot_p99, slo_ttft_p50, slo_tpot_p50)
    assumptions = parse_cost(price, years, usd_per_kwh, pue)
    served = serve(config, chip, dtype, prompt, output, slo, parse_layout(tp, pp, ep, shards),
                   assumptions)
    data = plan_result(config, chip, served, plan(served, chip, target, assumptions), dtype)
    if output_format == "table":
        title = f"{config.name} on {chip.name} ({dtype})"
        if served.unit == "tokens":
            title += f", prompt {prompt}, output {output}"
        click.echo(title + f", SLO {_slo_text(slo)}")
        click.echo(tabulate(_plan_for_people(data, chip), tablefmt="plain", disable_numparse=True))
    elif output_format == "json":
        click.echo(to_json(data))
    else:
        flat = {k: v for k, v in data.items() if k != "layout"}
        flat.update({key: value for key, value in data["layout"].items()})
        emit_rows([flat], "csv")


def _slo_text(slo: GenerationSlo | RankingSlo) -> str:
    if isinstance(slo, RankingSlo):
        return f"p99 {seconds_text(slo.p99_s)}"
    parts = [f"TTFT p99 {seconds_text(slo.ttft_p99_s)}", f"TPOT p99 {seconds_text(slo.tpot_p99_s)}"]
    if slo.ttft_p50_s:
        parts.append(f"TTFT p50 {seconds_text(slo.ttft_p50_s)}")
    if slo.tpot_p50_s:
        parts.append(f"TPOT p50 {seconds_text(slo.tpot_p50_s)}")
    return ", ".join(parts)
