"""Bad inputs raise SeedchipError naming the argument, before any kernel runs."""

from __future__ import annotations

import ast
import pathlib

import numpy as np
import pytest

import kernels
from perfmodel.errors import SeedchipError

F = np.float32
TABLE = np.zeros((10, 4), F)
Q = np.zeros((2, 4, 8), F)
CACHE = np.zeros((2, 6, 2, 8), F)

CASES = [
    ("indices", lambda: kernels.embedding_bag(TABLE, np.array([0, 10]), np.array([0]))),
    ("indices", lambda: kernels.embedding_bag(TABLE, np.array([-1]), np.array([0]))),
    ("indices", lambda: kernels.embedding_bag(TABLE, np.array([0.0]), np.array([0]))),
    ("offsets", lambda: kernels.embedding_bag(TABLE, np.array([0, 1, 2]), np.array([0, 2, 1]))),
    ("offsets", lambda: kernels.embedding_bag(TABLE, np.array([0, 1]), np.array([0, 3]))),
    ("offsets", lambda: kernels.embedding_bag(TABLE, np.array([0, 1]), np.array([-1, 1]))),
    ("table", lambda: kernels.embedding_bag(TABLE.astype(np.int32), np.array([0]), np.array([0]))),
    ("table", lambda: kernels.embedding_bag(TABLE[0], np.array([0]), np.array([0]))),
    ("mode", lambda: kernels.embedding_bag(TABLE, np.array([0]), np.array([0]), mode="max")),
    ("per_sample_weights", lambda: kernels.embedding_bag(TABLE, np.array([0]), np.array([0]),
                                                         per_sample_weights=np.ones(2, F))),
    ("per_sample_weights", lambda: kernels.embedding_bag(TABLE, np.array([0]), np.array([0]), "mean",
                                                         np.ones(1, F))),
    ("table_q", lambda: kernels.embedding_bag_int8(TABLE, np.ones(10, F), np.ones(10, F), [0], [0])),
    ("scales", lambda: kernels.embedding_bag_int8(TABLE.astype(np.int8), np.ones(9, F), np.ones(10, F), [0], [0])),
    ("weight", lambda: kernels.linear(np.zeros((2, 3), F), np.zeros((4, 5), F))),
    ("bias", lambda: kernels.linear(np.zeros((2, 3), F), np.zeros((4, 3), F), np.zeros(3, F))),
    ("activation", lambda: kernels.linear(np.zeros((2, 3), F), np.zeros((4, 3), F), activation="tanh")),
    ("x", lambda: kernels.linear(np.zeros((2, 3), np.int64), np.zeros((4, 3), F))),
    ("x", lambda: kernels.linear([[1.0]], np.zeros((1, 1), F))),
    ("w_down", lambda: kernels.swiglu_ffn(np.zeros((2, 3), F), np.zeros((5, 3), F), np.zeros((5, 3), F),
                                          np.zeros((3, 4), F))),
    ("k", lambda: kernels.attention_prefill(np.zeros((1, 3, 4, 8), F), np.zeros((1, 3, 3, 8), F),
                                            np.zeros((1, 3, 3, 8), F))),
    ("v", lambda: kernels.attention_prefill(np.zeros((1, 3, 4, 8), F), np.zeros((1, 3, 2, 8), F),
                                            np.zeros((1, 2, 2, 8), F))),
    ("lengths", lambda: kernels.attention_decode(Q, CACHE, CACHE, np.array([7, 1]))),
    ("lengths", lambda: kernels.attention_decode(Q, CACHE, CACHE, np.array([-1, 1]))),
    ("lengths", lambda: kernels.attention_decode(Q, CACHE, CACHE, np.array([1]))),
    ("k_cache", lambda: kernels.attention_decode(Q, CACHE[:, :, :, :4], CACHE, np.array([1, 1]))),
    ("k", lambda: kernels.attention_decode(Q[:, :3], CACHE, CACHE, np.array([1, 1]))),
    ("positions", lambda: kernels.rope(np.zeros((2, 1, 4), F), np.array([0, -3]))),
    ("x", lambda: kernels.rope(np.zeros((2, 1, 5), F), np.array([0, 1]))),
    ("weight", lambda: kernels.rms_norm(np.zeros((2, 5), F), np.zeros(4, F))),
    ("eps", lambda: kernels.layer_norm(np.zeros((2, 5), F), np.zeros(5, F), np.zeros(5, F), eps=-1.0)),
    ("out", lambda: kernels.rms_norm(np.zeros((2, 5), F), np.zeros(5, F), out=np.zeros((2, 4), F))),
    ("out", lambda: kernels.gelu(np.zeros((2, 5), F), out=np.zeros((2, 5), np.float64))),
    ("out", lambda: kernels.softmax(np.zeros((2, 5), F), out=np.zeros((5, 2), F).T)),
    ("x", lambda: kernels.softmax(np.float32(1.0) * np.ones((), F))),
    ("sparse_pooled", lambda: kernels.dot_interaction(np.zeros((2, 4), F), np.zeros((2, 3, 5), F))),
    ("u", lambda: kernels.dcn_cross(np.zeros((2, 4), F), np.zeros((2, 4), F), np.zeros((4, 3), F),
                                    np.zeros((2, 4), F), np.zeros(4, F))),
    ("k", lambda: kernels.topk(np.zeros((2, 4), F), 5)),
    ("top_k", lambda: kernels.sample_top_k_top_p(np.zeros((2, 4), F), 0)),
    ("top_p", lambda: kernels.sample_top_k_top_p(np.zeros((2, 4), F), 2, top_p=0.0)),
    ("temperature", lambda: kernels.sample_top_k_top_p(np.zeros((2, 4), F), 2, temperature=0.0)),
    ("top_k", lambda: kernels.moe_route(np.zeros((2, 4), F), 5)),
    ("router_logits", lambda: kernels.moe_ffn(np.zeros((2, 3), F), np.zeros((2, 5), F), np.zeros((4, 6, 3), F),
                                              np.zeros((4, 6, 3), F), np.zeros((4, 3, 6), F), 2)),
]


@pytest.mark.parametrize("argument,call", CASES)
def test_bad_input_raises_naming_the_argument(argument, call):
    with pytest.raises(SeedchipError, match=rf"^{argument}: ") as error:
        call()
    assert "\n" not in str(error.value)


def test_kernels_import_only_errors_from_perfmodel():
    for path in pathlib.Path(kernels.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("perfmodel"):
                assert node.module == "perfmodel.errors", path
            if isinstance(node, ast.Import):
                assert not any(alias.name.startswith("perfmodel") for alias in node.names), path
