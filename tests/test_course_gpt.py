import torch

from bigmodel_lib.models.gpt import GPT, GPTConfig, load_pretrained, save_pretrained
from bigmodel_lib.tokenizers.char import CharTokenizer
from bigmodel_lib.training import course_gpt as cg


def test_save_and_load_round_trip_gives_identical_logits(tmp_path):
    tokenizer = CharTokenizer.train("to be or not to be")
    torch.manual_seed(0)
    model = GPT(GPTConfig(block_size=8, vocab_size=tokenizer.vocab_size, n_layer=1, n_head=2, n_embd=16)).eval()
    save_pretrained(model, tmp_path, tokenizer)
    loaded, loaded_tok = load_pretrained(tmp_path)
    idx = torch.tensor([tokenizer.encode("to be")])
    assert torch.equal(model(idx)[0], loaded(idx)[0])
    assert loaded_tok.chars == tokenizer.chars
    assert loaded.lm_head.weight.data_ptr() == loaded.transformer.wte.weight.data_ptr()  # still tied


def test_load_pretrained_without_a_model_says_what_to_do(tmp_path):
    try:
        load_pretrained(tmp_path)
    except FileNotFoundError as error:
        assert "chapter 07" in str(error)
    else:
        raise AssertionError("expected FileNotFoundError")


def test_course_gpt_prefers_the_saved_model(tmp_path, monkeypatch):
    monkeypatch.setenv("BIGMODEL_RESULTS_DIR", str(tmp_path))
    tokenizer = CharTokenizer.train("abc\n")
    torch.manual_seed(1)
    saved = GPT(cg.recipe_config(tokenizer.vocab_size))
    cg.save_course_gpt(saved, tokenizer)
    model, tok, source = cg.course_gpt(fallback_steps=1)
    assert "chapter 07" in source
    assert torch.equal(model.transformer.wte.weight, saved.transformer.wte.weight)


def test_course_gpt_trains_a_fallback_when_nothing_was_saved(tmp_path, monkeypatch):
    monkeypatch.setenv("BIGMODEL_RESULTS_DIR", str(tmp_path))
    model, tok, source = cg.course_gpt(fallback_steps=2, progress=False)
    assert "trained now" in source and tok.vocab_size == 65
    assert model.config.n_layer == 4
