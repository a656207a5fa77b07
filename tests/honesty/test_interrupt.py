"""An interrupted calibration leaves the previous host file intact and says so."""

import signal
import subprocess
import sys
import time

from click.testing import CliRunner

from benches.cli import cli
from benches.hostfile import HEADER


def test_sigterm_during_calibrate_keeps_the_previous_file(tmp_path):
    previous = f"{HEADER} on 2026-01-01.\nname = \"host\"\n"
    host = tmp_path / "host.toml"
    host.write_text(previous)
    process = subprocess.Popen([sys.executable, "-c", "from benches.cli import main; main()",
                                "calibrate", "-o", str(host)], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**__import__("os").environ,
                                    "PYTHONPATH": __import__("os").getcwd()})
    time.sleep(4)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr
    assert "terminated; results files were left as they were" in stderr
    assert "Traceback" not in stderr
    assert host.read_text() == previous
    assert [p.name for p in tmp_path.iterdir()] == ["host.toml"]


def test_calibrate_refuses_to_overwrite_a_file_it_did_not_write(tmp_path):
    mine = tmp_path / "notes.toml"
    mine.write_text("my = 'notes'\n")
    result = CliRunner().invoke(cli, ["calibrate", "-o", str(mine)])
    assert result.exit_code == 2 and "not overwriting it" in result.stderr
    assert mine.read_text() == "my = 'notes'\n"
