"""Block quantisation from scratch vs the `gguf` package's reference code and torch's quantize_per_channel,
on real MiniLM weight matrices."""

import pytest
import torch

from bigmodel_lib import quantization as qz
from bigmodel_lib.numerics import check_matches


@pytest.fixture(scope="module")
def minilm_weights():
    from safetensors.torch import load_file

    from bigmodel_lib.data import minilm_dir

    try:
        state = load_file(str(minilm_dir() / "model.safetensors"))
    except Exception as exc:
        pytest.skip(f"MiniLM not available: {exc}")
    names = [n for n in state if n.endswith("attention.self.query.weight")][:2] + ["embeddings.word_embeddings.weight"]
    return {n: state[n] for n in names}


@pytest.mark.reference
@pytest.mark.parametrize("scheme, qtype", [("q8_0", "Q8_0"), ("q4_1", "Q4_1")])
def test_block_formats_match_gguf(minilm_weights, scheme, qtype):
    from gguf import GGMLQuantizationType, quants

    t = getattr(GGMLQuantizationType, qtype)
    for w in minilm_weights.values():
        w = w[:2048]  # keep the numpy reference quick
        ref = quants.dequantize(quants.quantize(w.numpy(), t), t)
        # Same integer codes; the scale and the dequantised value are each a few float32 roundings.
        check_matches(f"{scheme} vs gguf", qz.fake_quantize(w, scheme), ref, terms=4)


@pytest.mark.reference
def test_int8_per_channel_matches_torch(minilm_weights):
    w = next(iter(minilm_weights.values()))
    scales = w.abs().amax(dim=1) / 127.5
    ref = torch.quantize_per_channel(w, scales.double(), torch.zeros(len(w), dtype=torch.long), 0, torch.qint8)
    check_matches("int8 per channel vs torch", qz.int8_per_channel(w), ref.dequantize(), terms=4)  # as above


def test_errors_shrink_with_bits(minilm_weights):
    w = next(iter(minilm_weights.values()))
    err = {s: (qz.fake_quantize(w, s) - w).abs().mean().item() for s in ("bf16", "q8_0", "q4_1")}
    assert 0 < err["bf16"] < err["q8_0"] < err["q4_1"]
    assert err["q4_1"] < 0.1 * w.abs().mean().item()  # 4 bits keep the weights within ~10%


def test_quantize_model_weights_leaves_original_and_small_params():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.LayerNorm(64))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    q = qz.quantize_model_weights(model, "q4_1")
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])  # original untouched
    assert not torch.equal(q[0].weight, model[0].weight)
    assert torch.equal(q[0].bias, model[0].bias) and torch.equal(q[1].weight, model[1].weight)
    with pytest.raises(ValueError, match="unknown scheme"):
        qz.fake_quantize(model[0].weight, "q3")
    with pytest.raises(ValueError, match="multiple of the block size"):
        qz.q8_0(torch.ones(3, 33))


def test_sizes():
    assert qz.checkpoint_bytes(1e6, "q4_1") == 625_000 and qz.checkpoint_bytes(1e6, "fp32") == 4e6
    model = torch.nn.Linear(256, 256)
    assert abs(qz.saved_bytes(model) - 4 * (256 * 256 + 256)) < 4096  # weights plus a little pickle framing
    assert qz.median_seconds(lambda: None, repeat=3) >= 0
