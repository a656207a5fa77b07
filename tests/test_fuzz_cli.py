"""Fuzzing the command line: random option values for every model-path command end in a
result (exit 0) or one line on stderr with exit 2, never a traceback.

The commands that measure this host (run, calibrate, validate, bench) are left out: a
random valid request would run for seconds to minutes. Their bad input is tested in
tests/runnable and tests/honesty.
"""

from hypothesis import given, settings, strategies as st
from click.testing import CliRunner

from benches.cli import cli
from tests.fuzzing import FUZZ, counted

NAMES = ["h100-sxm", "seedchip-rec", "seedchip-gen", "nope", "", "../x.toml", "host-cpu"]
WORKLOADS = ["llama-tiny", "mixtral-tiny", "dlrm-dcnv2-small", "two-tower-small", "dlrm-rm2",
             "nope", "llama3-8b,nope", ""]
NUMBERS = ["0", "-1", "1", "3", "64", "max", "1e9", "nan", "inf", "x", "2.5", "99999999999"]
QUANTITIES = ["20ms", "0s", "-1 ms", "1 furlong", "nan s", "1e400 s", "450 ms", "x"]
SETTINGS = ["hbm_bandwidth=2TB/s", "sram=0", "memory=hbm3e-8h:4", "nonsense=1", "bf16=",
            "memory_count=99", "price=-5 USD", "max_chips=1", "tdp=nan W"]

OPTIONS = {
    "chip": {"--set": SETTINGS, "--format": ["table", "json", "csv", "xml"]},
    "chips": {"--format": ["table", "json", "csv", "xml"]},
    "memory": {"--format": ["table", "json", "csv"]},
    "workloads": {"--format": ["table", "json", "csv"]},
    "estimate": {"--chip": NAMES, "--workload": WORKLOADS, "--batch": NUMBERS,
                 "--prompt": NUMBERS, "--output": NUMBERS,
                 "--dtype": ["bf16", "fp8", "int8", "fp32", "fp4"], "--tp": NUMBERS,
                 "--shards": NUMBERS, "--set": SETTINGS, "--price": NUMBERS,
                 "--format": ["table", "json", "csv"]},
    "plan": {"--chip": NAMES, "--workload": WORKLOADS, "--qps": NUMBERS,
             "--tokens-per-s": NUMBERS, "--slo-p99": QUANTITIES, "--slo-ttft-p99": QUANTITIES,
             "--slo-tpot-p99": QUANTITIES, "--prompt": NUMBERS, "--output": NUMBERS,
             "--set": SETTINGS, "--format": ["table", "json"]},
    "compare": {"--chips": ["h100-sxm,seedchip-gen", "nope", "h20", ",", "seedchip-rec"],
                "--workload": WORKLOADS, "--qps": NUMBERS, "--slo-p99": QUANTITIES,
                "--format": ["table", "json", "csv"]},
    "sweep": {"--chip": NAMES, "--workload": WORKLOADS,
              "--mix": ["dlrm-dcnv2:0.7,llama3-8b:0.3", "llama-tiny:1:4", "x:y", "a:-1"],
              "--vary": ["sram=1MiB..64MiB:x2", "memory_bandwidth=1TB/s..2TB/s:3",
                         "hbm_bandwidth=1TB/s..3TB/s:3", "bf16=1..2:0", "sram=a,b",
                         "memory_count=2,4", "nonsense=1,2", "sram=64MiB..1MiB:x2"],
              "--batch": NUMBERS, "--sort": ["latency", "power", "x"],
              "--pareto": ["latency,power", "latency", "a,b", "throughput,usd_per_unit"],
              "--top": NUMBERS, "--format": ["table", "json", "csv"]},
}
POSITIONAL = {"chip": NAMES}


@st.composite
def command_lines(draw):
    command = draw(st.sampled_from(sorted(OPTIONS)))
    args = [command]
    if command in POSITIONAL:
        args.append(draw(st.sampled_from(POSITIONAL[command])))
    for option in draw(st.lists(st.sampled_from(sorted(OPTIONS[command])), max_size=5,
                                unique=True)):
        args += [option, draw(st.one_of(st.sampled_from(OPTIONS[command][option]),
                                        st.text(max_size=6)))]
    return args


@settings(FUZZ, max_examples=300)
@given(args=command_lines())
@counted
def test_fuzz_command_lines(args):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code in (0, 2), (args, result.output, result.exc_info)
    if result.exit_code == 2:
        assert result.stderr.strip() and "Traceback" not in result.stderr
    if result.exit_code == 2 and "Usage:" not in result.stderr:
        assert result.stderr.strip().count("\n") == 0, result.stderr
