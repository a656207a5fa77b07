"""Reading the project's TOML files with errors a user can act on."""

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
