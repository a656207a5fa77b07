"""Reading the project's TOML files (presets and users' own) with errors a user can act on."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from perfmodel.errors import SeedchipError


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; unreadable, non-UTF-8 or malformed files raise SeedchipError."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as error:
        raise SeedchipError(f"cannot read {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise SeedchipError(f"{path}: not UTF-8 text") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SeedchipError(f"{path}: not valid TOML: {error}") from None


def preset_names(folder: Path) -> list[str]:
    """Names (file stems) of the TOML presets in ``folder``, sorted."""
    return sorted(path.stem for path in folder.glob("*.toml"))


def resolve_preset(name_or_path: str, folder: Path, what: str) -> Path:
    """A preset name in ``folder`` or a path to a user's TOML file -> the file's path.

    ``what`` names the kind of thing ("chip", "workload") in error messages.
    """
    if name_or_path.endswith(".toml") or "/" in name_or_path:
        path = Path(name_or_path)
        if not path.is_file():
            raise SeedchipError(f"{what} file {name_or_path} does not exist")
        return path
    path = folder / f"{name_or_path}.toml"
    if not path.is_file():
        known = ", ".join(preset_names(folder))
        raise SeedchipError(f"unknown {what} {name_or_path!r} (known: {known}; or a .toml path)")
    return path
