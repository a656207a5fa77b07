"""Runnable models against their numpy references, determinism, KV cache, MoE routing."""

from dataclasses import replace

import numpy as np
import pytest

from perfmodel.errors import SeedchipError
from tests.runnable.conftest import shrunk_decoder, shrunk_dlrm
from workloads.config import Table, load_workload
from workloads.runnable import Sampler, build
from workloads.runnable.inputs import Bags

RNG = np.random.default_rng


@pytest.mark.parametrize("interaction", ["dcn", "dot", "cat"])
def test_dlrm_matches_the_numpy_reference(kernels_ops, numpy_ops, interaction):
    model = build(shrunk_dlrm(interaction), seed=1)
    inputs = model.inputs(64, RNG(2))
    probabilities = model.forward(kernels_ops, inputs)
    assert probabilities.shape == (64,) and probabilities.dtype == np.float32
    assert np.all((probabilities > 0) & (probabilities < 1))
    np.testing.assert_allclose(probabilities, model.forward(numpy_ops, inputs), atol=1e-5)


@pytest.mark.parametrize("table_dtype, tolerance", [("fp16", 2e-3), ("int8", 2e-2)])
def test_compressed_tables_stay_close_to_fp32(kernels_ops, numpy_ops, table_dtype, tolerance):
    exact = build(shrunk_dlrm(), seed=1)
    compressed = build(shrunk_dlrm(), seed=1, table_dtype=table_dtype)
    inputs = exact.inputs(32, RNG(2))
    result = compressed.forward(kernels_ops, inputs)
    np.testing.assert_allclose(result, compressed.forward(numpy_ops, inputs), atol=1e-5)
    np.testing.assert_allclose(result, exact.forward(kernels_ops, inputs), atol=tolerance)


def test_two_tower_retrieves_the_reference_top_k(kernels_ops, numpy_ops):
    config = replace(load_workload("two-tower-small"), items=2000, candidates=1000, top_k=10,
                     user_tables=(Table(3000, 2, 2),), item_tables=(Table(2000, 1),))
    model = build(config, seed=3)
    inputs = model.inputs(3000, RNG(4))  # 3 users x 1000 candidates
    got, want = model.forward(kernels_ops, inputs), model.forward(numpy_ops, inputs)
    assert got.items.shape == (3, 10)
    np.testing.assert_allclose(got.scores, want.scores, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(got.items, want.items)
    assert np.all(np.diff(got.scores, axis=1) <= 0)


DECODERS = {
    "llama": shrunk_decoder(),
    "mixtral": shrunk_decoder("mixtral-tiny"),
    "shared-experts": shrunk_decoder("mixtral-tiny", n_experts=6, top_k=3, n_shared_experts=1,
                                     first_dense_layers=1),
    "gptj-style": shrunk_decoder(activation="gelu", norm="layer", parallel_block=True,
                                 bias=True, tied_embeddings=True, n_kv_heads=4),
}


@pytest.mark.parametrize("name", DECODERS)
def test_decoder_logits_match_the_numpy_reference(kernels_ops, numpy_ops, name):
    model = build(DECODERS[name], seed=5)
    prompts = RNG(6).integers(0, 512, (3, 12))
    got, cache = model.prefill(kernels_ops, prompts, 16)
    want, reference_cache = model.prefill(numpy_ops, prompts, 16)
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-3)
    step = np.array([1, 2, 3])
    np.testing.assert_allclose(model.decode(kernels_ops, step, cache),
                               model.decode(numpy_ops, step, reference_cache), rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("name", DECODERS)
def test_kv_cache_decode_equals_recomputing_the_sequence(kernels_ops, name):
    model = build(DECODERS[name], seed=7)
    sequence = RNG(8).integers(0, 512, (2, 10))
    _, cache = model.prefill(kernels_ops, sequence[:, :7], capacity=10)
    for position in range(7, 10):
        cached = model.decode(kernels_ops, sequence[:, position], cache)
        recomputed, _ = model.prefill(kernels_ops, sequence[:, :position + 1])
        np.testing.assert_allclose(cached, recomputed, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("sampler", [Sampler(), Sampler(top_k=20, top_p=0.9, seed=11)])
def test_generation_is_deterministic_and_agrees_with_the_reference(kernels_ops, numpy_ops, sampler):
    prompts = RNG(9).integers(0, 512, (2, 8))
    first = build(DECODERS["mixtral"], seed=10).generate(kernels_ops, prompts, 6, sampler)
    again = build(DECODERS["mixtral"], seed=10).generate(kernels_ops, prompts, 6, sampler)
    reference = build(DECODERS["mixtral"], seed=10).generate(numpy_ops, prompts, 6, sampler)
    assert first.tokens.shape == (2, 6) and len(first.step_s) == 5
    np.testing.assert_array_equal(first.tokens, again.tokens)
    np.testing.assert_array_equal(first.tokens, reference.tokens)


def test_sampling_seed_changes_the_tokens(kernels_ops):
    model = build(DECODERS["llama"], seed=10)
    prompts = RNG(9).integers(0, 512, (4, 8))
    draws = {tuple(model.generate(kernels_ops, prompts, 8, Sampler(top_k=500, seed=s))
                   .tokens.ravel()) for s in range(3)}
    assert len(draws) == 3


def test_generation_stops_at_the_end_token(kernels_ops):
    """A finished sequence repeats the end token while the others go on; all finished: stop."""
    model = build(DECODERS["llama"], seed=10)
    prompts = RNG(9).integers(0, 512, (2, 8))
    free = model.generate(kernels_ops, prompts, 8).tokens
    end = int(free[0, 2])
    stopped = model.generate(kernels_ops, prompts, 8, end_token=end).tokens
    first_end = [int(np.argmax(row == end)) if end in row else None for row in free]
    length = 8 if None in first_end else max(first_end) + 1
    assert stopped.shape == (2, length)
    for row, first in enumerate(first_end):
        stop = length if first is None else first + 1
        np.testing.assert_array_equal(stopped[row, :stop], free[row, :stop])
        assert np.all(stopped[row, stop:] == end)
    alone = model.generate(kernels_ops, prompts[:1], 8, end_token=end).tokens
    np.testing.assert_array_equal(alone, free[:1, :first_end[0] + 1])


def test_moe_routes_each_token_to_exactly_top_k_experts(kernels_ops):
    """Changing an expert no token chose leaves the output alone; changing a chosen one
    changes exactly the tokens routed to it."""
    import kernels
    layer = build(DECODERS["mixtral"], seed=12).layers[0].ffn
    x = RNG(13).standard_normal((5, 64), dtype=np.float32)
    _, experts = kernels.moe_route(kernels_ops.linear(x, layer.router), layer.top_k)
    assert experts.shape == (5, 2)
    assert all(len(set(row)) == 2 for row in experts.tolist())
    base = layer(kernels_ops, x)
    for expert in range(layer.router.shape[0]):
        w_down = layer.experts.w_down.copy()
        w_down[expert] *= 2
        changed = replace(layer, experts=replace(layer.experts, w_down=w_down))
        moved = np.any(changed(kernels_ops, x) != base, axis=1)
        np.testing.assert_array_equal(moved, np.any(experts == expert, axis=1))


@pytest.mark.parametrize("backend_name", ["kernels_ops", "numpy_ops"])
def test_bad_recommendation_inputs_are_project_errors(request, backend_name):
    ops = request.getfixturevalue(backend_name)
    model = build(shrunk_dlrm(), seed=1)
    inputs = model.inputs(4, RNG(2))
    too_far = Bags(inputs.sparse[0].indices + 10**6, inputs.sparse[0].offsets)
    backwards = Bags(inputs.sparse[1].indices, inputs.sparse[1].offsets[::-1].copy())
    for sparse, message in (([too_far, *inputs.sparse[1:]], "table 0 indices"),
                            ([inputs.sparse[0], backwards, *inputs.sparse[2:]], "non-decreasing"),
                            (inputs.sparse[:3], "expected 26 tables")):
        with pytest.raises(SeedchipError, match=message):
            model.forward(ops, replace(inputs, sparse=sparse))
    with pytest.raises(SeedchipError, match="batch"):
        model.inputs(0, RNG(2))


def test_bad_generation_inputs_are_project_errors(kernels_ops):
    model = build(DECODERS["llama"], seed=1)
    with pytest.raises(SeedchipError, match="exceeds its context of 64"):
        model.generate(kernels_ops, np.zeros((1, 60), np.int64), 8)
    with pytest.raises(SeedchipError, match="batch"):
        model.generate(kernels_ops, np.zeros((0, 4), np.int64), 2)
    with pytest.raises(SeedchipError, match=r"token ids must lie in \[0, 512\)"):
        model.generate(kernels_ops, np.full((1, 4), 512), 2)
    with pytest.raises(SeedchipError, match="max_new_tokens"):
        model.generate(kernels_ops, np.zeros((1, 4), np.int64), 0)


def test_a_model_too_large_for_the_host_is_refused_before_allocating():
    with pytest.raises(SeedchipError, match="needs .* GiB of weights"):
        build(load_workload("llama2-70b"))
