"""What ``--dtype`` means for each family: compute, weight, activation, table and KV dtypes.

- bf16 / fp16 / fp32: everything in that type (fp32 is what CPUs without bf16 matrix
  units run, the host among them).
- fp8: fp8 matrix compute, fp8 weights, tables and KV cache; norms and elementwise ops
  keep bf16 activations (as fp8 serving stacks do).
- int8, generation: weight-only quantisation (int8 weights, bf16 compute, bf16 KV cache).
- int8, recommendation: int8 MLP compute and weights, row-wise int8 embedding tables
  (fp32 scale and bias per row), bf16 activations elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from perfmodel.errors import SeedchipError
from perfmodel.ops import DTYPE_BYTES
from workloads.config import DTYPE_CHOICES


@dataclass(frozen=True)
class Precision:
    compute: str
    weight: str
    activation: str
    table: str
    kv: str

    @property
    def weight_bytes_per_param(self) -> float:
        return DTYPE_BYTES[self.weight]

    @property
    def kv_bytes_per_value(self) -> float:
        return DTYPE_BYTES[self.kv]


def precision(dtype: str, family: str) -> Precision:
    """The precision ``--dtype`` selects for a workload family."""
    if dtype not in DTYPE_CHOICES:
        raise SeedchipError(f"--dtype {dtype!r}: expected one of {', '.join(DTYPE_CHOICES)}")
    if dtype in ("bf16", "fp16", "fp32"):
        return Precision(dtype, dtype, dtype, dtype, dtype)
    if dtype == "fp8":
        return Precision("fp8", "fp8", "bf16", "fp8", "fp8")
    if family == "generation":
        return Precision("bf16", "int8", "bf16", "int8", "bf16")
    return Precision("int8", "int8", "bf16", "int8", "bf16")
