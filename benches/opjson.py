"""Ops as JSON objects, so benchmark results can carry the op that predicts them."""

from __future__ import annotations

import dataclasses
from typing import Any

from perfmodel import ops
from perfmodel.errors import SeedchipError


def op_to_dict(op: ops.Op) -> dict[str, Any]:
    """``Gemm(m=1, ...)`` -> ``{"op": "Gemm", "m": 1, ...}``."""
    return {"op": type(op).__name__, **dataclasses.asdict(op)}


def op_from_dict(data: dict[str, Any]) -> ops.Op:
    """The inverse of `op_to_dict`; a clear error for anything that is not an op."""
    fields = dict(data)
    name = fields.pop("op", None)
    kind = getattr(ops, str(name), None)
    if not (isinstance(kind, type) and issubclass(kind, ops.Op) and kind is not ops.Op):
        raise SeedchipError(f"not an op: {name!r}")
    try:
        return kind(**fields)
    except TypeError as error:
        raise SeedchipError(f"op {name}: {error}") from None
