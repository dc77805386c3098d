"""Model folders (GPT, classifier, SmolLM2 cache) are written whole and verified on load."""

from __future__ import annotations

import json

import pytest
import torch

from bigmodel_lib import io
from bigmodel_lib.io import MANIFEST, ModelFolderError, model_folder_writer, verify_model_folder
from bigmodel_lib.models.gpt import GPT, GPTConfig, load_pretrained, save_pretrained
from bigmodel_lib.tokenizers.char import CharTokenizer


def _gpt(seed: int, n_layer: int = 1, vocab_size: int = 12) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig(block_size=8, vocab_size=vocab_size, n_layer=n_layer, n_head=2, n_embd=16)).eval()


def _flip_a_byte(path, offset_from_end: int = 5) -> None:
    data = bytearray(path.read_bytes())
    data[-offset_from_end] ^= 0x01
    path.write_bytes(bytes(data))


# --- the shared helper ---------------------------------------------------------------------------


def test_folder_is_replaced_whole_and_only_when_complete(tmp_path):
    final = tmp_path / "m"
    with model_folder_writer(final) as staging:
        (staging / "a.txt").write_text("old")
        (staging / "stale.txt").write_text("only in the old save")
    with model_folder_writer(final) as staging:
        (staging / "a.txt").write_text("new")
        assert (final / "a.txt").read_text() == "old"  # a reader still sees the old folder meanwhile
    assert sorted(p.name for p in final.iterdir()) == ["a.txt", MANIFEST]
    assert (final / "a.txt").read_text() == "new" and verify_model_folder(final, "fix")
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no temporary folder left behind
    with pytest.raises(RuntimeError, match="boom"), model_folder_writer(final) as staging:
        (staging / "a.txt").write_text("newer")
        raise RuntimeError("boom")
    assert (final / "a.txt").read_text() == "new" and [p.name for p in tmp_path.iterdir()] == ["m"]


def test_swap_without_atomic_exchange_and_a_crash_between_its_renames(tmp_path, monkeypatch):
    monkeypatch.setattr(io, "_exchange", lambda a, b: False)  # e.g. macOS, Windows
    final = tmp_path / "m"
    for text in ("old", "new"):
        with model_folder_writer(final) as staging:
            (staging / "a.txt").write_text(text)
    assert (final / "a.txt").read_text() == "new" and [p.name for p in tmp_path.iterdir()] == ["m"]
    final.rename(tmp_path / ".m.abc123.old")  # killed after moving the old folder aside
    assert verify_model_folder(final, "fix") and (final / "a.txt").read_text() == "new"


def test_unreadable_manifest_names_it(tmp_path):
    with model_folder_writer(tmp_path / "m") as staging:
        (staging / "a.txt").write_text("x")
    (tmp_path / "m" / MANIFEST).write_text("{")
    with pytest.raises(ModelFolderError, match=f"{MANIFEST} is unreadable.*re-save"):
        verify_model_folder(tmp_path / "m", "re-save it")


# --- GPT (save_pretrained / load_pretrained) -------------------------------------------------------


def test_gpt_resave_without_tokenizer_leaves_no_stale_tokenizer(tmp_path):
    save_pretrained(_gpt(0), tmp_path / "g", CharTokenizer.train("ab"))
    save_pretrained(_gpt(1), tmp_path / "g")
    model, tokenizer = load_pretrained(tmp_path / "g")
    assert tokenizer is None and not (tmp_path / "g" / "tokenizer.json").exists()


def test_gpt_save_that_fails_midway_keeps_the_previous_folder(tmp_path):
    class BrokenTokenizer:
        def save(self, path):
            raise OSError("disk full")

    first = _gpt(0)
    save_pretrained(first, tmp_path / "g", CharTokenizer.train("abcdefghijkl"))
    with pytest.raises(OSError, match="disk full"):
        save_pretrained(_gpt(1, n_layer=2), tmp_path / "g", BrokenTokenizer())  # after weights and config
    model, tokenizer = load_pretrained(tmp_path / "g")
    assert model.config.n_layer == 1 and torch.equal(model.transformer.wte.weight, first.transformer.wte.weight)
    assert tokenizer.vocab_size == 12


def test_gpt_flipped_byte_is_named_with_the_fix(tmp_path):
    save_pretrained(_gpt(0), tmp_path / "g")
    _flip_a_byte(tmp_path / "g" / "model.safetensors")
    with pytest.raises(ModelFolderError, match=r"model\.safetensors is corrupt.*re-save") as error:
        load_pretrained(tmp_path / "g")
    assert str(tmp_path / "g" / "model.safetensors") in str(error.value) and "\n" not in str(error.value)


def test_gpt_folder_from_before_manifests_loads_with_a_warning_and_names_a_truncated_file(tmp_path):
    model = _gpt(0)
    save_pretrained(model, tmp_path / "g")
    (tmp_path / "g" / MANIFEST).unlink()
    with pytest.warns(UserWarning, match=f"no {MANIFEST}.*re-save"):
        loaded, _ = load_pretrained(tmp_path / "g")
    assert torch.equal(loaded.transformer.wte.weight, model.transformer.wte.weight)
    weights = tmp_path / "g" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    with pytest.warns(UserWarning), pytest.raises(ModelFolderError, match="cannot be read.*re-save") as error:
        load_pretrained(tmp_path / "g")
    assert str(weights) in str(error.value) and "\n" not in str(error.value)


# --- classifier (save_classifier / load_classifier) ----------------------------------------------


@pytest.fixture()
def classify():
    pytest.importorskip("transformers")
    from bigmodel_lib.finetuning import classify

    return classify


@pytest.fixture()
def wordpiece(classify):
    from bigmodel_lib.data import minilm_dir

    return classify.WordPieceTokenizer(minilm_dir() / "tokenizer.json")


def _classifier(classify, seed: int, strategy: str = "full"):
    import transformers

    torch.manual_seed(seed)
    cfg = transformers.BertConfig(vocab_size=128, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                                  intermediate_size=32, max_position_embeddings=32)
    return classify.configure(classify.EncoderClassifier(transformers.BertModel(cfg), 2), strategy, r=2)


IDS = [[101, 20, 30, 102], [101, 40, 102]]


def test_classifier_save_that_fails_after_the_weights_keeps_the_previous_folder(classify, wordpiece, tmp_path):
    first = _classifier(classify, 0)
    classify.save_classifier(first, wordpiece, tmp_path / "c", ["neg", "pos"])
    with pytest.raises(TypeError):  # config.json cannot be written: the save stops after the weights
        classify.save_classifier(_classifier(classify, 1), wordpiece, tmp_path / "c", [object(), "pos"])
    loaded, _, meta = classify.load_classifier(tmp_path / "c")
    assert meta["classes"] == ["neg", "pos"]
    torch.testing.assert_close(torch.as_tensor(classify.predict_logits(loaded, IDS)),
                               torch.as_tensor(classify.predict_logits(first, IDS)))


def test_classifier_damaged_or_missing_files_are_named(classify, wordpiece, tmp_path):
    folder = classify.save_classifier(_classifier(classify, 0), wordpiece, tmp_path / "c", ["a", "b"])
    assert {p.name for p in folder.iterdir()} == {"model.safetensors", "config.json", "tokenizer.json", MANIFEST}
    _flip_a_byte(folder / "model.safetensors")
    with pytest.raises(ModelFolderError, match=r"model\.safetensors is corrupt.*save_classifier"):
        classify.load_classifier(folder)
    classify.save_classifier(_classifier(classify, 0), wordpiece, folder, ["a", "b"])
    (folder / MANIFEST).unlink()  # a folder saved before manifests
    (folder / "tokenizer.json").unlink()
    with pytest.warns(UserWarning), pytest.raises(ModelFolderError, match="tokenizer.json is missing") as error:
        classify.load_classifier(folder)
    assert str(folder / "tokenizer.json") in str(error.value) and "re-run chapter 08" in str(error.value)


def test_saving_a_lora_classifier_leaves_it_trainable(classify, wordpiece, tmp_path):
    from bigmodel_lib.finetuning.lora import lora_layers

    model = _classifier(classify, 0, "lora")
    with torch.no_grad():
        for layer in lora_layers(model):
            torch.nn.init.normal_(layer.lora_B, std=0.1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    logits = classify.predict_logits(model, IDS)
    saved, _, _ = classify.load_classifier(classify.save_classifier(model, wordpiece, tmp_path / "c", ["a", "b"]))
    torch.testing.assert_close(torch.as_tensor(classify.predict_logits(saved, IDS)), torch.as_tensor(logits))
    assert not any(layer.merged for layer in lora_layers(model))  # the live model was not merged
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    classify.train_classifier(model, IDS * 4, [0, 1] * 4, steps=1, lr=1e-2, batch_size=8, progress=False)
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items() if k.endswith("lora_B"))


def test_saving_a_peft_classifier_keeps_its_adapters(classify, wordpiece, tmp_path):
    pytest.importorskip("peft")
    model = _classifier(classify, 0, "full")
    classify.peft_lora(model, r=2)
    encoder = model.encoder
    classify.save_classifier(model, wordpiece, tmp_path / "c", ["a", "b"])
    assert model.encoder is encoder and any("lora_" in name for name, _ in model.named_parameters())


# --- SmolLM2's de-quantised cache -----------------------------------------------------------------


@pytest.fixture()
def fake_smollm2(tmp_path, monkeypatch):
    """The cache code path with a tiny stand-in for de-quantising the real GGUF; yields the build count."""
    import bigmodel_lib.data
    from bigmodel_lib.models import pretrained

    gguf = tmp_path / "fake.gguf"
    gguf.write_bytes(b"not really a gguf")
    monkeypatch.setenv("BIGMODEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(bigmodel_lib.data, "smollm2_gguf", lambda: gguf)
    builds = []

    def dequantize(gguf, digest, folder, progress):
        from safetensors.torch import save_file

        builds.append(folder)
        save_file({"w": torch.arange(64, dtype=torch.float32)}, str(folder / "model.safetensors"))
        (folder / "config.json").write_text("{}")
        (folder / "source.json").write_text(json.dumps({"sha256": digest}))

    monkeypatch.setattr(pretrained, "_dequantize_smollm2", dequantize)
    return builds


def test_smollm2_cache_is_built_once_verified_and_a_damaged_one_names_the_fix(fake_smollm2):
    from bigmodel_lib.models.pretrained import smollm2_dequantized_dir

    folder = smollm2_dequantized_dir(progress=False)
    assert smollm2_dequantized_dir(progress=False) == folder and len(fake_smollm2) == 1
    _flip_a_byte(folder / "model.safetensors", offset_from_end=9)
    with pytest.raises(ModelFolderError, match=r"model\.safetensors is corrupt.*delete the cache folder") as error:
        smollm2_dequantized_dir(progress=False)
    assert str(folder) in str(error.value)
    (folder / MANIFEST).unlink()  # a cache from before manifests: rebuilt, not trusted
    assert smollm2_dequantized_dir(progress=False) == folder and len(fake_smollm2) == 2
    assert verify_model_folder(folder, "fix")


def test_a_saved_folder_is_readable_by_other_users_as_the_umask_allows(tmp_path):
    # Staged with mkdtemp, a folder would be 0o700 and a classroom copy unreadable by the students.
    import os

    old = os.umask(0o022)
    try:
        with model_folder_writer(tmp_path / "model") as staging:
            (staging / "weights.bin").write_bytes(b"w")
    finally:
        os.umask(old)
    assert (tmp_path / "model").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "model" / "weights.bin").stat().st_mode & 0o777 == 0o644
