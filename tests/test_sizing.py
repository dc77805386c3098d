"""Parameter counts, compute, memory and cost formulas in bigmodel_lib.sizing."""

import json
import math
from dataclasses import dataclass

import pytest

from bigmodel_lib import sizing
from bigmodel_lib.exercises import ExerciseFailed, ch01

# The paper's "340M" for BERT-large is 1.4% above what its architecture gives (335.1M, the same as
# transformers' BertModel); every other published figure is within 1%.
PUBLISHED_TOLERANCE = {"BERT-large": 0.015}


@pytest.mark.parametrize("name", list(sizing.MODELS))
def test_counts_match_published_figures(name):
    published, _source = sizing.PUBLISHED_PARAMS[name]
    error = abs(sizing.parameter_count(sizing.MODELS[name]) / published - 1)
    assert error < PUBLISHED_TOLERANCE.get(name, 0.01), (name, error)


def test_bert_large_paper_figure_is_rounded_up():
    # Guard the explanation above: no BERT-large count of our formulas reaches 1% of 340M.
    assert 0.01 < 1 - sizing.parameter_count(sizing.MODELS["BERT-large"]) / 340e6 < 0.015


@pytest.mark.parametrize("name", list(sizing.MODELS))
def test_counts_equal_transformers_models(name):
    arch = sizing.MODELS[name]
    assert sizing.parameter_count(arch) == sizing.count_parameters(sizing.transformers_model(arch), trainable_only=False)


def test_untied_and_biasless_variants_match_transformers():
    llama = sizing.LlamaArch(n_layer=2, n_head=4, n_kv_head=2, d_model=64, d_ff=160, vocab_size=100, tied=False)
    assert sizing.parameter_count(llama) == sizing.count_parameters(sizing.transformers_model(llama), trainable_only=False)
    gpt = sizing.GPTArch(n_layer=2, n_head=2, n_embd=32, vocab_size=50, block_size=16, tied=False)
    assert sizing.parameter_count(gpt) == sizing.count_parameters(sizing.transformers_model(gpt), trainable_only=False)
    assert sizing.parameter_count(gpt) - sizing.parameter_count(sizing.GPTArch(2, 2, 32, 50, 16)) == 50 * 32
    nobias = sizing.GPTArch(n_layer=2, n_head=2, n_embd=32, vocab_size=50, block_size=16, bias=False)
    # per block: 4 Linear biases (3d + d + 4d + d) and 2 LayerNorm biases (2d); plus ln_f's bias
    assert sizing.parameter_count(gpt) - 50 * 32 - sizing.parameter_count(nobias) == 2 * (9 * 32 + 2 * 32) + 32
    with pytest.raises(ValueError, match="biases"):
        sizing.transformers_model(nobias)


def test_gpt_count_takes_any_config_with_the_fields():
    @dataclass
    class MyGPTConfig:  # a chapter's own config: no `tied` field, extra fields ignored
        block_size: int = 1024
        vocab_size: int = 50257
        n_layer: int = 12
        n_head: int = 12
        n_embd: int = 768
        dropout: float = 0.0
        bias: bool = True

    assert sizing.gpt_parameter_count(MyGPTConfig()) == 124_439_808
    assert sizing.gpt_parameter_count(MyGPTConfig(), non_embedding=True) == 124_439_808 - 1024 * 768


def test_real_minilm_checkpoint():
    from bigmodel_lib.data import minilm_dir

    folder = minilm_dir()
    shapes = sizing.safetensors_shapes(folder / "model.safetensors")
    assert "pooler.dense.weight" in shapes  # this checkpoint carries BertModel's pooler
    arch = sizing.bert_arch_from_hf_config(json.loads((folder / "config.json").read_text()))
    assert arch == sizing.MODELS["MiniLM-L6 (all-MiniLM-L6-v2)"]
    assert sizing.count_safetensors_parameters(folder / "model.safetensors") == sizing.parameter_count(arch)


def test_real_smollm2_gguf():
    from bigmodel_lib.data import smollm2_gguf

    path = sizing.gguf_reader(smollm2_gguf())  # read the header once
    shapes = sizing.gguf_shapes(path)
    assert shapes["token_embd.weight"] == (49152, 576)  # reversed from the file's (576, 49152)
    assert shapes["blk.0.attn_k.weight"] == (192, 576)  # 3 KV heads × 64
    assert "output.weight" not in shapes  # tied embeddings
    arch = sizing.llama_arch_from_gguf(path)
    assert arch == sizing.MODELS["SmolLM2-135M"]
    assert sizing.count_gguf_parameters(path) == sizing.parameter_count(arch)


def test_compute_formulas():
    assert sizing.training_flops(2, 3) == 36
    n = sizing.parameter_count(sizing.MODELS["GPT-3 175B"])
    # GPT-3 paper, Table D.1: 3.14e23 FLOPs for 300B tokens
    assert math.isclose(sizing.training_flops(n, 300e9), 3.14e23, rel_tol=0.01)
    assert sizing.flops_per_token(10, 2, 3, 4) == 6 * 10 + 12 * 2 * 3 * 4
    assert sizing.flops_per_token(10, 2, 3, 4, training=False) == 2 * 10 + 4 * 2 * 3 * 4


def test_memory_formulas():
    arch = sizing.MODELS["GPT-2 small"]
    # Korthikanti et al. 2022: s·b·h·(34 + 5·a·s/h) bytes per layer with 16-bit activations
    s, b, h, a, layers = 1024, 2, 768, 12, 12
    assert sizing.activation_bytes(arch, s, b) == layers * s * b * h * (34 + 5 * a * s / h)
    assert sizing.activation_bytes(arch, s, b, "fp32") == 2 * sizing.activation_bytes(arch, s, b)
    n = sizing.parameter_count(arch)
    for precision in ("fp32", "mixed"):  # both 16 bytes per parameter with Adam
        m = sizing.training_memory(arch, 1024, 1, precision)
        assert m.weights + m.gradients + m.optimizer == 16 * n
    assert sizing.training_memory(arch, 1024, 1, "mixed").weights == 2 * n
    with pytest.raises(ValueError, match="precision"):
        sizing.training_memory(arch, precision="fp8")
    smol = sizing.MODELS["SmolLM2-135M"]
    assert sizing.kv_cache_bytes(smol, 100, 1, 2) == 2 * 30 * 3 * 64 * 100 * 2
    assert sizing.inference_memory(smol, 100)["weights"] == 2 * sizing.parameter_count(smol)
    assert sizing.gpus_needed(80 * 2**30) == 1 and sizing.gpus_needed(80 * 2**30 + 1) == 2
    assert sizing.gpus_needed(0) == 1


def test_chinchilla():
    n, d = sizing.chinchilla_optimal(6 * 70e9 * 1.4e12)
    assert math.isclose(n, 70e9, rel_tol=1e-9) and math.isclose(d, 1.4e12, rel_tol=1e-9)
    assert sizing.chinchilla_loss(70e9, 1.4e12) < sizing.chinchilla_loss(280e9, 0.35e12)  # Chinchilla beats Gopher
    for c in (1e19, 1e23):  # the closed-form optimum of the fit is the minimum of an IsoFLOP sweep
        n_fit, d_fit = sizing.chinchilla_fit_optimal(c)
        assert math.isclose(6 * n_fit * d_fit, c)
        sizes = [n_fit * 10 ** (k / 1000) for k in range(-500, 501)]
        best = min(sizes, key=lambda n: sizing.chinchilla_loss(n, c / (6 * n)))
        assert math.isclose(best, n_fit, rel_tol=0.003)


def test_training_cost():
    cost = sizing.training_cost(3600 * 100e12, peak_flops=200e12, mfu=0.5, usd_per_gpu_hour=3.0)
    assert math.isclose(cost.gpu_hours, 1.0) and math.isclose(cost.usd, 3.0) and math.isclose(cost.gpu_days, 1 / 24)
    with pytest.raises(ValueError, match="mfu"):
        sizing.training_cost(1.0, mfu=40)


def test_exercise_checks_accept_right_and_reject_wrong():
    def right(n_layer, n_head, n_embd, vocab, block):
        return sizing.gpt_parameter_count(sizing.GPTArch(n_layer, n_head, n_embd, vocab, block))

    ch01.check_gpt_params(right)
    with pytest.raises(ExerciseFailed, match="tied"):
        ch01.check_gpt_params(lambda *c: right(*c) + c[3] * c[2])
    with pytest.raises(ExerciseFailed):
        ch01.check_gpt_params(lambda *c: right(*c) - 1)

    ch01.check_training_gpu_days(lambda n, d, p, m: 6 * n * d / (p * m) / 86400)
    with pytest.raises(ExerciseFailed, match="6"):
        ch01.check_training_gpu_days(lambda n, d, p, m: 2 * n * d / (p * m) / 86400)

    ch01.check_compute_optimal(lambda c: (math.sqrt(c / 120), 20 * math.sqrt(c / 120)))
    with pytest.raises(ExerciseFailed):
        ch01.check_compute_optimal(lambda c: (math.sqrt(c / 6), math.sqrt(c / 6)))


def test_human():
    assert sizing.human(174.6e9) == "174.6B" and sizing.human(22.7e6) == "22.7M" and sizing.human(12) == "12"
