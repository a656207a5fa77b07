"""Every command: an example in --help, and made-up names, paths and values end in one
line on stderr with exit 2 (never a traceback)."""

import re

import pytest
from click.testing import CliRunner

from benches.cli import cli

MADE_UP = {
    "chip": [["nope"], ["h100-sxm", "--set", "warp_drive=1"]],
    "chips": [["--format", "xml"]],
    "memory": [["--format", "xml"]],
    "workloads": [["--format", "xml"]],
    "estimate": [["--chip", "nope", "--workload", "llama3-8b"],
                 ["--chip", "h100-sxm", "--workload", "/no/such/file.toml"],
                 ["--chip", "h100-sxm", "--workload", "llama3-8b", "--batch", "-3"]],
    "plan": [["--chip", "nope", "--workload", "dlrm-dcnv2", "--qps", "1e5"],
             ["--chip", "h100-sxm", "--workload", "dlrm-dcnv2", "--qps", "1e5",
              "--slo-p99", "soon"]],
    "compare": [["--chips", "h100-sxm,nope"], ["--workload", "nope"]],
    "roofline": [["--chip", "nope", "--workload", "llama3-8b", "-o", "x.png"],
                 ["--chip", "h100-sxm", "--workload", "llama3-8b", "-o", "x.gif"]],
    "run": [["--workload", "nope"], ["--workload", "llama-tiny", "--output", "0"]],
    "calibrate": [["-o", "/no/such/dir/host.toml"], ["--scale", "huge"]],
    "validate": [["--chip", "nope"], ["--chip", "/no/such/host.toml"]],
    "bench": [["--compare", "/no/such/previous.json"]],
    "sweep": [["--chip", "nope", "--workload", "dlrm-dcnv2", "--vary", "sram=1MiB..2MiB:2"],
              ["--chip", "seedchip-rec", "--workload", "dlrm-dcnv2", "--vary", "warp=1..2:2"]],
}


def test_every_command_is_covered_here():
    assert set(cli.commands) <= set(MADE_UP), set(cli.commands) - set(MADE_UP)


@pytest.mark.parametrize("command", sorted(MADE_UP))
def test_help_has_an_example(command):
    if command not in cli.commands:
        pytest.skip(f"{command} is not a command yet")
    text = " ".join(CliRunner().invoke(cli, [command, "--help"]).output.split())
    assert re.search(rf"Example: (seedchip \S+ .*&& )?seedchip {command}\b", text), text


@pytest.mark.parametrize("command, args", [(c, a) for c, cases in sorted(MADE_UP.items())
                                           for a in cases])
def test_made_up_input_is_one_line_and_exit_2(command, args, tmp_path, monkeypatch):
    if command not in cli.commands:
        pytest.skip(f"{command} is not a command yet")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, [command, *args])
    assert result.exit_code == 2, (result.output, result.exc_info)
    lines = result.stderr.strip().splitlines()
    assert lines and "Traceback" not in result.stderr
    assert len(lines) == 1 or "Usage:" in result.stderr, result.stderr
