"""Presets match their published shapes and counts; the loader rejects malformed files."""

import pytest

from perfmodel.errors import SeedchipError
from workloads.config import LlmConfig, RecConfig, load_workload, preset_names
from workloads.graphs import flops_per_unit, param_count, weight_bytes

# Published totals: model cards / config.json safetensors counts (see each preset's source).
PUBLISHED_PARAMS = {
    "gptj-6b": 6_053_381_344,
    "llama2-7b": 6_738_415_616,
    "llama2-70b": 68_976_648_192,
    "llama3-8b": 8_030_261_248,
    "llama3-70b": 70_553_706_496,
    "mixtral-8x7b": 46_702_792_704,
    "deepseek-moe-16b": 16.4e9,
}
PUBLISHED_ACTIVE = {"mixtral-8x7b": 12.9e9, "deepseek-moe-16b": 2.8e9}

# MLPerf Inference DLRMv2 reference: num_embeddings_per_feature and multi_hot_sizes.
DLRMV2_ROWS = [40000000, 39060, 17295, 7424, 20265, 3, 7122, 1543, 63, 40000000, 3067956,
               405282, 10, 2209, 11938, 155, 4, 976, 14, 40000000, 40000000, 40000000, 590152,
               12973, 108, 36]
DLRMV2_POOLING = [3, 2, 1, 2, 6, 1, 1, 1, 1, 7, 3, 8, 1, 6, 9, 5, 1, 1, 1, 12, 100, 27, 10, 3,
                  1, 1]


def _expanded(config: RecConfig) -> list[tuple[int, int]]:
    return [(t.rows, t.pooling) for t in config.tables for _ in range(t.count)]


@pytest.mark.parametrize("name", sorted(PUBLISHED_PARAMS))
def test_generation_parameter_counts_match_published_within_2_percent(name):
    assert param_count(load_workload(name)) == pytest.approx(PUBLISHED_PARAMS[name], rel=0.02)


@pytest.mark.parametrize("name", sorted(PUBLISHED_ACTIVE))
def test_moe_active_parameters_match_published(name):
    config = load_workload(name)
    assert config.param_count(active=True) == pytest.approx(PUBLISHED_ACTIVE[name], rel=0.02)


def test_dlrm_dcnv2_matches_mlperf_reference():
    config = load_workload("dlrm-dcnv2")
    assert _expanded(config) == list(zip(DLRMV2_ROWS, DLRMV2_POOLING))
    assert config.embedding_dim == 128 and config.dense_features == 13
    assert (config.bottom_mlp, config.top_mlp) == ((512, 256, 128), (1024, 1024, 512, 256, 1))
    assert (config.interaction, config.cross_layers, config.cross_rank) == ("dcn", 3, 512)
    assert config.top_input == 27 * 128


@pytest.mark.parametrize("name, tables, rows, dim, pooling", [
    ("dlrm-rm1", 8, 4_000_000, 32, 80),
    ("dlrm-rm2", 32, 500_000, 64, 120),
    ("dlrm-rm3", 10, 2_000_000, 32, 20),
])
def test_deeprecsys_presets_match_their_configs(name, tables, rows, dim, pooling):
    config = load_workload(name)
    assert _expanded(config) == [(rows, pooling)] * tables
    assert config.embedding_dim == dim
    assert config.top_input == (tables + 1) * dim  # interaction "cat"


def test_rm_classes_go_from_embedding_to_mlp_dominated():
    """MLP flops per byte of embedding rows read: RM1 and RM2 low, RM3 over 50x higher."""
    def intensity(name):
        c = load_workload(name)
        row_bytes = sum(t.pooling * t.count for t in c.tables) * c.embedding_dim * 2
        return flops_per_unit(c) / row_bytes
    rm1, rm2, rm3 = (intensity(f"dlrm-rm{i}") for i in (1, 2, 3))
    assert max(rm1, rm2) < 10 and rm3 > 50 * max(rm1, rm2)


@pytest.mark.parametrize("name", preset_names())
def test_every_preset_loads_and_cites_a_source(name):
    config = load_workload(name)
    assert config.name == name and len(config.source) > 40


@pytest.mark.parametrize("small, parent", [
    ("dlrm-dcnv2-small", "dlrm-dcnv2"), ("dlrm-rm2-small", "dlrm-rm2"),
    ("two-tower-small", "two-tower"), ("llama-tiny", "llama3-8b"),
    ("mixtral-tiny", "mixtral-8x7b"),
])
def test_small_presets_fit_a_small_host_and_name_their_parent(small, parent):
    config, full = load_workload(small), load_workload(parent)
    assert parent in config.source
    assert weight_bytes(config, "bf16") < 2e9  # fp32 copy < 4 GB on a 24 GiB host
    assert type(config) is type(full)
    if isinstance(config, RecConfig):
        assert [p for _, p in _expanded(config)] == [p for _, p in _expanded(full)]
        assert config.interaction == full.interaction
    if isinstance(config, LlmConfig):
        assert config.n_heads // config.n_kv_heads == full.n_heads // full.n_kv_heads
        assert (config.n_experts, config.top_k) == (full.n_experts, full.top_k)


USER_DECODER = """\
name = "mine"
kind = "decoder"
description = "a user model"
source = "hypothetical: test"
layers = 2
d_model = 256
n_heads = 4
n_kv_heads = 2
head_dim = 64
ffn_dim = 512
vocab = 1000
max_context = 512
activation = "swiglu"
norm = "rms"
"""


def test_user_file_loads(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(USER_DECODER, encoding="utf-8")
    config = load_workload(str(path))
    assert isinstance(config, LlmConfig) and config.n_kv_heads == 2 and not config.is_moe


@pytest.mark.parametrize("edit, message", [
    (("norm = \"rms\"", "norm = \"rms\"\nflavour = 3"), "unknown key 'flavour'"),
    (("layers = 2\n", ""), "layers is missing"),
    (("layers = 2", "layers = 0"), "layers must be an integer >= 1"),
    (("n_kv_heads = 2", "n_kv_heads = 3"), "n_kv_heads (3) must divide"),
    (("activation = \"swiglu\"", "activation = \"tanh\""), "activation must be one of"),
    (("kind = \"decoder\"", "kind = \"cnn\""), "kind must be one of"),
    (("max_context = 512", "max_context = "), "not valid TOML"),
])
def test_malformed_files_name_the_file_and_field(tmp_path, edit, message):
    path = tmp_path / "bad.toml"
    path.write_text(USER_DECODER.replace(*edit), encoding="utf-8")
    with pytest.raises(SeedchipError) as error:
        load_workload(str(path))
    assert message in str(error.value) and str(path) in str(error.value)


def test_unknown_preset_lists_the_known_ones():
    with pytest.raises(SeedchipError, match="unknown workload 'gpt-5'.*llama3-8b"):
        load_workload("gpt-5")
