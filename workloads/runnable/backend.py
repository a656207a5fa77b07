"""The operator set a runnable model calls: the Numba kernels, or their numpy references.

Both backends have the same calls with the same meaning, so one forward pass runs either
way: the kernels to measure, the references to check the kernels' answers end to end.
Importing either imports numba (the references live beside the kernels); only the
runnable workloads and the benches do that, never the model path.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Callable

import numpy as np

BACKENDS = ("kernels", "numpy")


@dataclass(frozen=True)
class Backend:
    """Callables with the signatures of the public functions in ``kernels``."""

    name: str
    linear: Callable[..., np.ndarray]
    swiglu_ffn: Callable[..., np.ndarray]
    moe_ffn: Callable[..., np.ndarray]
    embedding_bag: Callable[..., np.ndarray]
    embedding_bag_int8: Callable[..., np.ndarray]
    dot_interaction: Callable[..., np.ndarray]
    dcn_cross: Callable[..., np.ndarray]
    attention_prefill: Callable[..., np.ndarray]
    attention_decode: Callable[..., np.ndarray]
    rope: Callable[..., np.ndarray]
    rms_norm: Callable[..., np.ndarray]
    layer_norm: Callable[..., np.ndarray]
    topk: Callable[..., tuple[np.ndarray, np.ndarray]]
    greedy: Callable[..., np.ndarray]
    sample_top_k_top_p: Callable[..., np.ndarray]


def backend(name: str) -> Backend:
    """``"kernels"`` (the Numba kernels, what ``seedchip run`` measures) or ``"numpy"``."""
    import kernels
    if name == "kernels":
        return Backend(name, **{op.name: getattr(kernels, op.name) for op in fields(Backend)
                                 if op.name != "name"})
    if name == "numpy":
        return _numpy_backend()
    raise ValueError(f"backend must be one of {BACKENDS}, got {name!r}")


def _numpy_backend() -> Backend:
    from kernels.attention import (attention_decode_reference, attention_prefill_reference,
                                   rope_reference)
    from kernels.embedding import embedding_bag_reference
    from kernels.interaction import dcn_cross_reference, dot_interaction_reference
    from kernels.linear import linear_reference, swiglu_ffn_reference
    from kernels.moe import moe_ffn_reference
    from kernels.norm import layer_norm_reference, rms_norm_reference
    from kernels.sampling import greedy_reference, sample_top_k_top_p_reference, topk_reference

    def embedding_bag_int8(table_q, scales, biases, indices, offsets, mode="sum",
                           per_sample_weights=None):
        return embedding_bag_reference(table_q, indices, offsets, mode, per_sample_weights,
                                       scales, biases)

    return Backend(
        "numpy", linear=linear_reference, swiglu_ffn=swiglu_ffn_reference,
        moe_ffn=moe_ffn_reference, embedding_bag=embedding_bag_reference,
        embedding_bag_int8=embedding_bag_int8, dot_interaction=dot_interaction_reference,
        dcn_cross=dcn_cross_reference, attention_prefill=attention_prefill_reference,
        attention_decode=attention_decode_reference, rope=rope_reference,
        rms_norm=rms_norm_reference, layer_norm=layer_norm_reference, topk=topk_reference,
        greedy=greedy_reference, sample_top_k_top_p=sample_top_k_top_p_reference)
