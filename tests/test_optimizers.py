"""Our Muon + AdamW optimizer against torch.optim.Muon and torch.optim.AdamW."""

import math

import torch

from bigmodel_lib.models.modern_gpt import ModernGPT, ModernGPTConfig
from bigmodel_lib.numerics import check_matches, unit_roundoff
from bigmodel_lib.training.optimizers import MuonAdamW, muon_param_groups, orthogonalize


def test_orthogonalize_pushes_every_singular_value_near_one():
    torch.manual_seed(0)
    g = torch.randn(64, 16) @ torch.diag(torch.logspace(-1, 1, 16))  # singular values over 2 decades
    s = torch.linalg.svdvals(orthogonalize(g).float())
    # the quintic's fixed band (Jordan et al.): about 0.7-1.2 after 5 steps, whatever the input's spread
    assert 0.5 < float(s.min()) and float(s.max()) < 1.5, f"singular values after 5 steps: {s.min():.3f}-{s.max():.3f}"


def test_a_muon_step_matches_torch_optim_muon():
    torch.manual_seed(0)
    w = torch.randn(48, 96)
    ours, theirs = w.clone().requires_grad_(), w.clone().requires_grad_()
    mine = MuonAdamW([{"params": [ours], "muon": True, "weight_decay": 0.1}], lr=0.02)
    ref = torch.optim.Muon([theirs], lr=0.02, weight_decay=0.1, momentum=0.95, nesterov=True,
                           adjust_lr_fn="match_rms_adamw")
    step = 0.02 * 0.2 * math.sqrt(96)  # the step's scale: lr · 0.2 · √max(rows, cols)
    for _ in range(3):
        g = torch.randn(48, 96)
        ours.grad, theirs.grad = g.clone(), g.clone()
        mine.step()
        ref.step()
    # both orthogonalize in bfloat16; the products are grouped differently, so each of 5 iterations' sums
    # (over 48 and 96 terms) may round differently: bound in bfloat16 units, relative to the step's size
    check_matches("weights after 3 Muon steps, ours vs torch.optim.Muon", ours, theirs, terms=3 * 5 * (48 + 96),
                  magnitude=step, dtype="bfloat16")
    assert unit_roundoff("bfloat16") == 2.0 ** -8


def test_the_adamw_groups_match_torch_optim_adamw():
    torch.manual_seed(0)
    b = torch.randn(40)
    ours, theirs = b.clone().requires_grad_(), b.clone().requires_grad_()
    mine = MuonAdamW([{"params": [ours], "weight_decay": 0.1}], lr=1e-2, betas=(0.9, 0.99))
    ref = torch.optim.AdamW([theirs], lr=1e-2, betas=(0.9, 0.99), weight_decay=0.1)
    for _ in range(50):
        g = torch.randn(40)
        ours.grad, theirs.grad = g.clone(), g.clone()
        mine.step()
        ref.step()
    # each step a handful of roundings on each value (moments, square root, division): 10 per step
    check_matches("weights after 50 AdamW steps, ours vs torch.optim.AdamW", ours, theirs, terms=50 * 10)


def test_muon_takes_the_blocks_matrices_and_adamw_the_rest():
    model = ModernGPT(ModernGPTConfig(block_size=8, vocab_size=11, n_layer=2, n_head=2, n_embd=16))
    groups = muon_param_groups(model, weight_decay=0.1)
    names = {id(p): n for n, p in model.named_parameters()}
    muon = {names[id(p)] for p in groups[0]["params"]}
    assert muon and all(".h." in n and n.endswith("weight") and "norm" not in n for n in muon)
    assert "transformer.wte.weight" in {names[id(p)] for p in groups[1]["params"]}
    assert sum(len(g["params"]) for g in groups) == len(list(model.parameters()))


def test_the_trainer_trains_the_modern_recipe_with_muon():
    from bigmodel_lib.training.batches import TokenWindows
    from bigmodel_lib.training.trainer import TrainConfig, Trainer

    torch.manual_seed(0)
    tokens = torch.arange(400) % 7  # a periodic sequence: easy to learn
    data = TokenWindows(tokens[:300], tokens[300:], 16, seed=0)
    model = ModernGPT(ModernGPTConfig(block_size=16, vocab_size=7, n_layer=1, n_head=2, n_embd=16))
    config = TrainConfig(max_steps=80, batch_size=8, lr=1e-2, warmup_steps=5, optimizer="muon", eval_every=0,
                         eval_batches=2, eval_at_start=True, progress=False)
    result = Trainer(model, data, config, device="cpu").fit()
    assert isinstance(Trainer(model, data, config, device="cpu").optimizer, MuonAdamW)
    assert result.evals[-1]["val"] < 0.5 * result.evals[0]["val"], f"validation loss {result.evals} did not halve"
