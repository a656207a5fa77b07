"""Weights of runnable models: dense layers, MLPs and embedding tables, seeded and float32.

Initialisation follows the usual defaults (weights ~ N(0, 1/fan_in), so activations keep
their scale through deep stacks; tables ~ U(-1/sqrt(dim), 1/sqrt(dim)) as in the DLRM
reference), drawn from one ``numpy.random.Generator`` so a seed fixes every weight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kernels import _validate
from perfmodel.errors import SeedchipError
from workloads.runnable.backend import Backend
from workloads.runnable.inputs import Bags

TABLE_DTYPES = ("fp32", "fp16", "int8")


def normal(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
    """float32 N(0, 1/fan_in) weights."""
    weights = rng.standard_normal(shape, dtype=np.float32)
    weights *= np.float32(1.0 / math.sqrt(max(fan_in, 1)))
    return weights


@dataclass(frozen=True)
class Dense:
    """``activation(x @ weight.T + bias)``; weight [out, in] as torch stores it."""

    weight: np.ndarray
    bias: np.ndarray | None
    activation: str | None = None

    def __call__(self, ops: Backend, x: np.ndarray) -> np.ndarray:
        return ops.linear(x, self.weight, self.bias, self.activation)


def dense(rng: np.random.Generator, width_in: int, width_out: int, bias: bool = True,
          activation: str | None = None) -> Dense:
    return Dense(normal(rng, (width_out, width_in), width_in),
                 normal(rng, (width_out,), width_in) if bias else None, activation)


def mlp(rng: np.random.Generator, width_in: int, widths: tuple[int, ...],
        last_relu: bool) -> list[Dense]:
    """Layers with bias and ReLU after each (after the last only if ``last_relu``), as the
    op graphs in ``workloads.recsys`` time them."""
    layers = []
    for index, width in enumerate(widths):
        relu = last_relu or index < len(widths) - 1
        layers.append(dense(rng, width_in, width, activation="relu" if relu else None))
        width_in = width
    return layers


def run_mlp(ops: Backend, layers: list[Dense], x: np.ndarray) -> np.ndarray:
    for layer in layers:
        x = layer(ops, x)
    return x


@dataclass(frozen=True)
class EmbeddingTable:
    """A table stored as fp32, fp16, or row-wise int8 (row r = q[r] * scales[r] + biases[r])."""

    values: np.ndarray
    scales: np.ndarray | None = None
    biases: np.ndarray | None = None

    @property
    def rows(self) -> int:
        return self.values.shape[0]

    def pool(self, ops: Backend, bags: Bags) -> np.ndarray:
        """Sum of each bag's rows, float32 [bags, dim]."""
        if self.scales is None:
            return ops.embedding_bag(self.values, bags.indices, bags.offsets)
        return ops.embedding_bag_int8(self.values, self.scales, self.biases, bags.indices,
                                      bags.offsets)


def embedding_table(rng: np.random.Generator, rows: int, dim: int, dtype: str) -> EmbeddingTable:
    bound = np.float32(1.0 / math.sqrt(dim))
    values = rng.random((rows, dim), dtype=np.float32)
    values *= 2 * bound
    values -= bound
    if dtype == "fp32":
        return EmbeddingTable(values)
    if dtype == "fp16":
        return EmbeddingTable(values.astype(np.float16))
    if dtype == "int8":
        return quantise_rows(values)
    raise SeedchipError(f"table dtype must be one of {', '.join(TABLE_DTYPES)}, got {dtype!r}")


def quantise_rows(values: np.ndarray) -> EmbeddingTable:
    """Row-wise asymmetric int8: 256 levels between each row's min and max."""
    low = values.min(axis=1)
    scales = np.maximum(values.max(axis=1) - low, np.float32(1e-12)) / np.float32(255)
    q = np.rint((values - low[:, None]) / scales[:, None]) - 128
    return EmbeddingTable(q.astype(np.int8), scales.astype(np.float32),
                          (low + 128 * scales).astype(np.float32))


def check_bags(bags: list[Bags], tables: list[EmbeddingTable], batch: int) -> None:
    """One bag list per table, ``batch`` bags each, indices inside the table, offsets
    non-decreasing: checked for every backend (the numpy references do not check)."""
    if len(bags) != len(tables):
        raise SeedchipError(f"sparse features: expected {len(tables)} tables, got {len(bags)}")
    for number, (bag, table) in enumerate(zip(bags, tables)):
        where = f"table {number}"
        _validate.indices(f"{where} indices", bag.indices, 1, upper=table.rows)
        _validate.offsets(f"{where} offsets", bag.offsets, bag.indices.size)
        if bag.offsets.shape != (batch,):
            raise SeedchipError(f"{where} offsets: expected {batch} bags, got {bag.offsets.size}")


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Overflow-free float32 logistic function."""
    return (np.float32(0.5) * (1 + np.tanh(np.float32(0.5) * x))).astype(np.float32)
