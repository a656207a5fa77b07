"""Same inputs, same bytes: model commands in separate processes (other hash seeds) print
identical JSON, and runnable workloads give identical tokens and scores for a seed."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

COMMANDS = [
    ("estimate", "--chip", "seedchip-gen", "--workload", "mixtral-8x7b", "--batch", "16",
     "--format", "json"),
    ("plan", "--chip", "seedchip-rec", "--workload", "dlrm-dcnv2", "--qps", "2e5",
     "--format", "json"),
    ("compare", "--workload", "llama3-8b", "--tokens-per-s", "1e5", "--format", "json"),
]


def _main(args, hash_seed: str) -> str:
    code = "import sys; from benches.cli import main; sys.argv[0] = 'seedchip'; main()"
    result = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True,
                            timeout=300, env={**os.environ, "PYTHONHASHSEED": hash_seed})
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("args", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_model_commands_print_identical_json_in_fresh_processes(args):
    first = _main(args, "1")
    assert json.loads(first)
    assert _main(args, "2") == first


def test_runnable_workloads_repeat_tokens_and_scores_in_fresh_processes():
    args = ("run", "--workload", "mixtral-tiny", "--batch", "2", "--prompt", "8", "--output", "5",
            "--top-k", "40", "--top-p", "0.8", "--seed", "7", "--repeats", "1", "--format",
            "json")
    first, second = json.loads(_main(args, "1")), json.loads(_main(args, "2"))
    assert first["tokens"] == second["tokens"]
    scoring = ("run", "--workload", "two-tower-small", "--repeats", "1", "--format", "json")
    assert json.loads(_main(scoring, "1"))["scores"] == json.loads(_main(scoring, "2"))["scores"]
