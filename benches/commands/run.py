"""``seedchip run``: run a workload's runnable model on this host and print what it measured."""

from __future__ import annotations

import dataclasses
import sys

import click
from tabulate import tabulate

from benches.output import emit_rows, format_option, to_json
from perfmodel import units
from perfmodel.errors import SeedchipError
from workloads.config import LlmConfig, load_workload

RUN_DTYPES = ("fp32", "fp16", "int8")


def _seconds(value: float | None) -> str:
    return "-" if value is None else units.format_quantity(value, "s")


def _for_people(result) -> list[tuple[str, str]]:
    rows = [("backend", result.backend),
            ("latency per request", f"{_seconds(result.latency_s)} median of {result.repeats} "
                                    f"({_seconds(result.latency_min_s)} .. "
                                    f"{_seconds(result.latency_max_s)})"),
            ("throughput", f"{result.throughput_per_s:,.4g} {result.throughput_unit}/s")]
    if result.ttft_s is not None:
        rows += [("time to first token", _seconds(result.ttft_s)),
                 ("time per output token", _seconds(result.tpot_s)),
                 ("first sequence's tokens", " ".join(map(str, result.tokens[0][:16]))
                  + (" ..." if len(result.tokens[0]) > 16 else ""))]
    else:
        rows.append(("first scores", " ".join(f"{x:.4g}" for x in result.scores)))
    return rows


@click.command("run")
@click.option("--workload", "workload_name", required=True,
              help="Workload preset (a -small or -tiny one fits this host) or .toml path.")
@click.option("--batch", type=int, default=None,
              help="Samples (recommendation; default: one request, the preset's candidates) "
                   "or sequences (generation; default 1).")
@click.option("--prompt", type=int, default=None, help="Prompt tokens (generation; default 1024).")
@click.option("--output", type=int, default=None,
              help="Tokens to generate (generation; default 256).")
@click.option("--dtype", type=click.Choice(RUN_DTYPES), default="fp32", show_default=True,
              help="Embedding-table storage (fp16, row-wise int8); everything else runs fp32.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seeds weights, inputs and sampling: same seed, same tokens and scores.")
@click.option("--repeats", type=click.IntRange(1), default=5, show_default=True,
              help="Timed requests after one warm-up; medians are reported.")
@click.option("--backend", "backend_name", type=click.Choice(("kernels", "numpy")),
              default="kernels", show_default=True,
              help="The Numba kernels, or their numpy references (slow; for comparison).")
@click.option("--top-k", type=click.IntRange(0), default=0, show_default=True,
              help="Generation: sample from the top k tokens (0: greedy).")
@click.option("--top-p", type=click.FloatRange(0, 1, min_open=True), default=1.0,
              show_default=True, help="Generation: nucleus cut after top-k.")
@click.option("--temperature", type=click.FloatRange(0, min_open=True), default=1.0,
              show_default=True, help="Generation: softmax temperature when sampling.")
@click.option("--end-token", type=click.IntRange(0), default=None,
              help="Generation: a sequence stops after producing this token id.")
@format_option
def run_command(workload_name: str, batch: int | None, prompt: int | None, output: int | None,
                dtype: str, seed: int, repeats: int, backend_name: str, top_k: int,
                top_p: float, temperature: float, end_token: int | None,
                output_format: str) -> None:
    """Run a workload's model on this host with deterministic random weights and report
    measured latency per request and throughput (generation: also TTFT, time per output
    token and the generated ids), to set beside `seedchip estimate` with the same options.

    Example: seedchip run --workload llama-tiny --batch 4 --prompt 128 --output 32
    """
    from benches.run import RunSettings, measure, prepare
    from workloads.runnable import Sampler, backend

    config = load_workload(workload_name)
    generation = isinstance(config, LlmConfig)
    if not generation and (prompt is not None or output is not None):
        raise SeedchipError(f"{config.name} is a recommendation model: --prompt and --output "
                            "apply to generation workloads only")
    if batch is None:
        batch = 1 if generation else config.candidates
    if batch < 1:
        raise SeedchipError(f"--batch must be >= 1, got {batch}")
    for name, value in (("--prompt", prompt), ("--output", output)):
        if value is not None and value < 1:
            raise SeedchipError(f"{name} must be >= 1, got {value}")
    settings = RunSettings(batch, seed, prompt or 1024, output or 256, repeats,
                           table_dtype=dtype, sampler=Sampler(top_k, top_p, temperature, seed),
                           end_token=end_token)
    if generation and top_k > config.vocab:
        raise SeedchipError(f"--top-k {top_k} exceeds {config.name}'s vocabulary of {config.vocab}")
    prepared = prepare(config, settings)
    with click.progressbar(length=repeats + settings.warmup, label=f"running {config.name}",
                           file=sys.stderr) as bar:
        result = measure(prepared, backend(backend_name), lambda: bar.update(1))
    record = dataclasses.asdict(result)
    if output_format == "json":
        click.echo(to_json(record))
    elif output_format == "csv":
        emit_rows([{key: " ".join(map(str, value)) if isinstance(value, list) else value
                    for key, value in record.items()}], "csv")
    else:
        click.echo(f"{result.workload}, batch {result.batch}, measured on this host")
        click.echo(tabulate(_for_people(result), tablefmt="plain", disable_numparse=True))
