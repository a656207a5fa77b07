"""Atomic results files: replaced whole or not at all."""

import pytest

from benches.atomic import write_atomically
from perfmodel.errors import SeedchipError


def test_writes_and_replaces(tmp_path):
    target = tmp_path / "out.json"
    write_atomically(target, "first")
    write_atomically(target, "second")
    assert target.read_text() == "second"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "out.json"
    target.write_text("old")

    def broken_replace(source, destination):
        raise KeyboardInterrupt

    monkeypatch.setattr("os.replace", broken_replace)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_missing_folder_is_a_user_error(tmp_path):
    with pytest.raises(SeedchipError, match="does not exist"):
        write_atomically(tmp_path / "nope" / "out.json", "x")


def test_foreign_files_are_not_replaced(tmp_path):
    from benches.atomic import check_replaceable, has_json_format

    ours = tmp_path / "ours.json"
    ours.write_text('{"format": "seedchip-x/1"}')
    check_replaceable(ours, has_json_format("seedchip-x/1"), "x file")
    check_replaceable(tmp_path / "new.json", has_json_format("seedchip-x/1"), "x file")
    for text in ('{"format": "other"}', "not json", "[1, 2]"):
        foreign = tmp_path / "foreign.json"
        foreign.write_text(text)
        with pytest.raises(SeedchipError, match="exists and is not a x file; not overwriting"):
            check_replaceable(foreign, has_json_format("seedchip-x/1"), "x file")
