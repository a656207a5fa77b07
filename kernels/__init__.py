"""Numba reference kernels for every op kind, each with a numpy reference beside it.

Wrappers validate inputs and raise ``perfmodel.errors.SeedchipError`` before jitted code
runs; outputs are float32 (indices int64). The ``*_reference`` functions live beside each
kernel in its module.
"""

from kernels.activations import gelu, relu, silu
from kernels.attention import attention_decode, attention_prefill, rope
from kernels.embedding import embedding_bag, embedding_bag_int8
from kernels.interaction import dcn_cross, dot_interaction
from kernels.linear import linear, swiglu_ffn
from kernels.moe import moe_ffn, moe_route
from kernels.norm import layer_norm, rms_norm, softmax
from kernels.sampling import greedy, sample_top_k_top_p, topk

__all__ = [
    "attention_decode", "attention_prefill", "dcn_cross", "dot_interaction", "embedding_bag",
    "embedding_bag_int8", "gelu", "greedy", "layer_norm", "linear", "moe_ffn", "moe_route",
    "relu", "rms_norm", "rope", "sample_top_k_top_p", "silu", "softmax", "swiglu_ffn", "topk",
]
