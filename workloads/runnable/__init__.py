"""Runnable CPU versions of the workloads, built from the Numba kernels.

``build(config, seed)`` turns a workload config into a model with deterministic random
weights; its ``forward`` / ``generate`` runs with a `Backend`: the kernels (measured by
``seedchip run`` and ``seedchip validate``) or their numpy references (the tests' check).
Importing this package imports numba; the model path never does.
"""

from __future__ import annotations

import os

import numpy as np

from perfmodel.errors import SeedchipError
from perfmodel.ops import DTYPE_BYTES
from workloads.config import LlmConfig, RecConfig, TwoTowerConfig, WorkloadConfig
from workloads.graphs import param_count
from workloads.runnable.backend import Backend, backend
from workloads.runnable.decoder import DecoderModel, Sampler, build_decoder
from workloads.runnable.dlrm import DlrmModel, build_dlrm
from workloads.runnable.layers import TABLE_DTYPES
from workloads.runnable.two_tower import TwoTowerModel, build_two_tower

Model = DlrmModel | TwoTowerModel | DecoderModel

__all__ = ["Backend", "DecoderModel", "DlrmModel", "Model", "Sampler", "TwoTowerModel",
           "backend", "build"]


def build(config: WorkloadConfig, seed: int = 0, table_dtype: str = "fp32") -> Model:
    """A runnable model of ``config`` with weights drawn from ``seed``. ``table_dtype``
    (fp32, fp16 or row-wise int8) sets how embedding tables are stored; everything else
    is float32."""
    if table_dtype not in TABLE_DTYPES:
        raise SeedchipError(f"table dtype must be one of {', '.join(TABLE_DTYPES)}, "
                            f"got {table_dtype!r}")
    _check_fits_host(config, table_dtype)
    rng = np.random.default_rng(seed)
    if isinstance(config, RecConfig):
        return build_dlrm(config, rng, table_dtype)
    if isinstance(config, TwoTowerConfig):
        return build_two_tower(config, rng, table_dtype, backend("kernels"))
    if isinstance(config, LlmConfig):
        if table_dtype != "fp32":
            raise SeedchipError(f"{config.name}: generation models run in fp32 on the host")
        return build_decoder(config, rng)
    raise SeedchipError(f"cannot build a runnable model of {type(config).__name__}")


HOST_MEMORY_SHARE = 0.8  # leave room for inputs, activations and the KV cache


def _check_fits_host(config: WorkloadConfig, table_dtype: str) -> None:
    """Refuse, before allocating, a model whose weights need more than the host's memory."""
    needed_bytes = param_count(config) * DTYPE_BYTES[table_dtype]
    host_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    if needed_bytes > HOST_MEMORY_SHARE * host_bytes:
        raise SeedchipError(f"{config.name} needs {needed_bytes / 2**30:.1f} GiB of weights and "
                            f"this host has {host_bytes / 2**30:.1f} GiB: run a -small or "
                            "-tiny preset (see `seedchip workloads`)")
