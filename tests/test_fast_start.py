"""Fast start: the model path (chips, estimate, plan, compare, sweep, roofline) never
imports numba; only the kernels and the commands that run them do."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

MODEL_COMMANDS = {
    "chips": ["chips"],
    "estimate": ["estimate", "--chip", "h100-sxm", "--workload", "mixtral-tiny"],
    "plan": ["plan", "--chip", "h20", "--workload", "dlrm-rm1", "--qps", "10"],
    "compare": ["compare", "--chips", "h20", "--workload", "llama-tiny"],
    "sweep": ["sweep", "--chip", "seedchip-rec", "--workload", "dlrm-dcnv2-small", "--vary",
              "sram=64MiB,128MiB"],
}


@pytest.mark.parametrize("command", MODEL_COMMANDS)
def test_model_commands_never_import_numba(command):
    code = ("import sys\nfrom benches.cli import cli\n"
            f"cli.main({MODEL_COMMANDS[command]!r}, prog_name='seedchip', standalone_mode=False)\n"
            "assert 'numba' not in sys.modules, 'numba imported'\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
