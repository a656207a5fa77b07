"""Results files are written atomically: a temporary file in the same folder, then a rename.

An interrupted run leaves either the old file or the new one, never half of one; and a
file that seedchip did not write is never replaced silently.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Callable

from perfmodel.errors import SeedchipError


def check_replaceable(path: str | Path, is_ours: Callable[[str], bool], what: str) -> None:
    """Refuse to overwrite an existing file that is not a ``what`` written by seedchip.

    Call before a long run, so the user learns it at once rather than after the work.
    """
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        raise SeedchipError(f"cannot write {target}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise SeedchipError(f"cannot write {target}: folder {folder} is not writable")
    if not target.exists():
        return
    try:
        text = target.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = None
    if text is None or not is_ours(text):
        raise SeedchipError(f"{target} exists and is not a {what}; not overwriting it "
                            "(move it away or choose another output path)")


def has_json_format(expected: str) -> Callable[[str], bool]:
    """A test for `check_replaceable`: JSON whose ``format`` field is ``expected``."""
    def is_ours(text: str) -> bool:
        try:
            document = json.loads(text)
        except ValueError:
            return False
        return isinstance(document, dict) and document.get("format") == expected
    return is_ours


def write_atomically(path: str | Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one rename; the folder must exist."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise SeedchipError(f"cannot write {target}: folder {folder} does not exist")
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as error:
        raise SeedchipError(f"cannot write {target}: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
