"""Plots are produced as files of the expected size; bad output paths are clear errors."""

import struct

from click.testing import CliRunner

from benches.cli import cli


def _png_size(path):
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def test_roofline_png_for_generation_and_recommendation(tmp_path):
    for workload, extra in (("llama-tiny", ["--batch", "4", "--prompt", "64", "--output", "16"]),
                            ("dlrm-dcnv2-small", ["--batch", "256"])):
        out = tmp_path / f"{workload}.png"
        result = CliRunner().invoke(cli, ["roofline", "--chip", "seedchip-gen", "--workload",
                                          workload, *extra, "-o", str(out)])
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 10_000
        assert _png_size(out) == (960, 720)


def test_roofline_svg(tmp_path):
    out = tmp_path / "r.svg"
    result = CliRunner().invoke(cli, ["roofline", "--chip", "h100-sxm", "--workload",
                                      "llama-tiny", "-o", str(out)])
    assert result.exit_code == 0 and out.read_text().lstrip().startswith("<?xml")


def test_bad_plot_path_is_one_line_exit_2(tmp_path):
    result = CliRunner().invoke(cli, ["roofline", "--chip", "h100-sxm", "--workload", "llama-tiny",
                                      "-o", str(tmp_path / "missing" / "r.png")])
    assert result.exit_code == 2 and "does not exist" in result.stderr
    result = CliRunner().invoke(cli, ["roofline", "--chip", "h100-sxm", "--workload", "llama-tiny",
                                      "-o", str(tmp_path / "r.jpg")])
    assert result.exit_code == 2 and ".png or .svg" in result.stderr
