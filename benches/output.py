"""Output for people and scripts: tables (tabulate), JSON and CSV, plus shared CLI options.

This is the only place where numbers become strings.
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any, Callable, Mapping, Sequence

import click
from tabulate import tabulate

from perfmodel.errors import SeedchipError

FORMATS = ("table", "json", "csv")


def format_option(function: Callable) -> Callable:
    """``--format table|json|csv`` (default table)."""
    return click.option("--format", "output_format", type=click.Choice(FORMATS),
                        default="table", show_default=True,
                        help="Readable table, or JSON / CSV for scripts.")(function)


def set_option(function: Callable) -> Callable:
    """``--set FIELD=VALUE`` chip overrides, repeatable."""
    return click.option("--set", "settings", multiple=True, metavar="FIELD=VALUE",
                        help="Override one chip field, e.g. --set hbm_bandwidth=2TB/s "
                             "(repeatable).")(function)


def parse_settings(settings: Sequence[str]) -> dict[str, str]:
    """``("a=1", "b=2 TB/s")`` -> ``{"a": "1", "b": "2 TB/s"}``; malformed -> SeedchipError."""
    result = {}
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise SeedchipError(f"--set {item!r}: expected FIELD=VALUE, e.g. hbm_bandwidth=2TB/s")
        result[key.strip()] = value.strip()
    return result


def _json_safe(value: Any) -> Any:
    """Non-finite floats become strings so the JSON stays standard."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Mapping):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    return value


def to_json(value: Any) -> str:
    return json.dumps(_json_safe(value), indent=2)


def render_rows(rows: Sequence[Mapping[str, Any]], output_format: str,
                table_rows: Sequence[Mapping[str, Any]] | None = None) -> str:
    """Rows as a table, a JSON list or CSV, ending in a newline.

    ``table_rows`` are the human-formatted rows for the table; JSON and CSV get the raw
    values in base units.
    """
    if output_format == "json":
        return to_json(list(rows)) + "\n"
    if output_format == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else [])
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue()
    shown = table_rows if table_rows is not None else rows
    return tabulate(shown, headers="keys", disable_numparse=True) + "\n"


def emit_rows(rows: Sequence[Mapping[str, Any]], output_format: str,
              table_rows: Sequence[Mapping[str, Any]] | None = None) -> None:
    """Print `render_rows`."""
    click.echo(render_rows(rows, output_format, table_rows), nl=False)


def shorten(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` characters with an ellipsis."""
    return text if len(text) <= width else text[: width - 1] + "…"
