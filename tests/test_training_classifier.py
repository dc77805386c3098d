"""The course's one classifier loop (`training.classifier`): early stopping, restored weights, shared names."""

import pytest
import torch
from torch import nn

from bigmodel_lib.numerics import roundoff_bound
from bigmodel_lib.training import classifier


def _data(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    return x, (x[:, 0] > 0).long()


def test_early_stopping_stops_and_restores_the_best_epoch():
    torch.manual_seed(0)
    x, y = _data()
    x_val, y_val = _data(32, seed=1)
    flipped = 1 - y_val  # a validation set that disagrees with training: its loss rises from the first epoch
    model = nn.Linear(4, 2)
    history = classifier.fit(model, x, y, epochs=10, batch_size=16, learning_rate=0.1, validation=(x_val, flipped),
                             patience=2, progress=False)
    losses = [row["val_loss"] for row in history]
    best = min(range(len(losses)), key=losses.__getitem__)
    assert len(history) == best + 1 + 2 < 10, "stops `patience` epochs after the best one"
    assert history[best].get("best") and sum(bool(row.get("best")) for row in history) == 1
    # the same weights and the same arithmetic as the best epoch's measurement: the same loss, exactly
    assert classifier.evaluate(model, x_val, flipped)["loss"] == losses[best]


def test_without_patience_every_epoch_runs_and_learns():
    torch.manual_seed(0)
    x, y = _data()
    model = nn.Linear(4, 2)
    history = classifier.fit(model, x, y, epochs=5, batch_size=16, learning_rate=0.1, validation=(x, y), progress=False)
    assert [row["epoch"] for row in history] == [1, 2, 3, 4, 5] and not any("best" in row for row in history)
    assert history[-1]["loss"] < history[0]["loss"] and classifier.accuracy(model, x, y) > 0.9


def test_patience_needs_a_validation_set():
    x, y = _data()
    with pytest.raises(ValueError, match="needs validation"):
        classifier.fit(nn.Linear(4, 2), x, y, epochs=1, patience=1, progress=False)


def test_one_sigmoid_output_predicts_by_sign():
    logits = torch.tensor([[-0.5], [0.2], [0.0]])
    assert classifier.labels_from_logits(logits).tolist() == [0, 1, 0]


def test_old_homes_reexport_the_one_loop():
    from bigmodel_lib.models import audio_cnn, fitting
    from bigmodel_lib.training import text_classifier

    assert text_classifier.fit is classifier.fit and text_classifier.predict is classifier.predict
    assert fitting.accuracy is classifier.accuracy and audio_cnn.predict is classifier.predict


def test_train_step_clips_and_schedules_like_the_fine_tuning_step():
    from bigmodel_lib.training.schedules import LinearWarmupDecay

    torch.manual_seed(0)
    x, y = _data()
    model = nn.Linear(4, 2)
    with torch.no_grad():
        model.weight.mul_(100.0)  # large logits: a large gradient to clip
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, LinearWarmupDecay(2, 4))
    before = torch.cat([model.weight.detach().flatten(), model.bias.detach()])
    loss, logits = classifier.train_step(model, (x,), 1 - y, optimizer, scheduler=scheduler, clip_norm=0.5)
    assert logits.shape == (len(x), 2) and not logits.requires_grad and loss > 0
    # SGD at lr × LinearWarmupDecay(2, 4)(0) = 0.5 moves the weights by at most 0.5 × the clipped norm 0.5
    moved = torch.linalg.vector_norm(torch.cat([model.weight.detach().flatten(), model.bias.detach()]) - before)
    # float32 differences of weights near 100: each carries a round-off of order 100 × 2⁻²⁴
    assert 0 < moved and moved - 0.25 <= roundoff_bound(10, magnitude=100.0)
    assert optimizer.param_groups[0]["lr"] == LinearWarmupDecay(2, 4)(1)


def test_augment_transforms_every_training_batch_and_only_those():
    """`augment` sees each training batch (drawing from the seeded generator), never the validation data."""
    x, y = _data()
    seen = []

    def flip_feature(batch, generator):
        seen.append(len(batch))
        assert isinstance(generator, torch.Generator)
        return -batch  # the label rule (x0 > 0) is inverted on what the model trains on

    torch.manual_seed(0)
    model = nn.Linear(4, 2)
    history = classifier.fit(model, x, y, epochs=5, batch_size=16, learning_rate=0.1, validation=(x, y),
                             augment=flip_feature, progress=False)
    assert seen == [16] * 4 * 5
    assert history[-1]["accuracy"] > 0.9 and classifier.accuracy(model, -x, y) > 0.9
    assert history[-1]["val_accuracy"] < 0.5  # validation saw x itself: the learnt (flipped) rule fails there


def test_fit_steps_the_scheduler_after_every_batch():
    x, y = _data()
    model = nn.Linear(4, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0 / (1 + step))
    classifier.fit(model, x, y, epochs=3, batch_size=16, optimizer=optimizer, scheduler=scheduler, progress=False)
    assert scheduler.last_epoch == 3 * 4 and optimizer.param_groups[0]["lr"] == 1.0 / 13
    with pytest.raises(ValueError, match="pass optimizer="):
        classifier.fit(model, x, y, epochs=1, scheduler=scheduler, progress=False)


def test_audio_train_classifier_cosine_warms_up_over_an_epoch_then_decays(monkeypatch):
    from bigmodel_lib.models import audio_cnn
    from bigmodel_lib.training.schedules import WarmupCosine

    x, y = _data()  # 64 examples: 4 batches of 16 per epoch
    seen = []
    monkeypatch.setattr(audio_cnn, "fit", lambda *a, **kw: seen.append(kw) or classifier.fit(*a, **kw))
    for cosine in (False, True):
        audio_cnn.train_classifier(nn.Linear(4, 2), x, y, epochs=3, batch_size=16, lr=0.1, progress=False, cosine=cosine)
    lrs = [kw["optimizer"].param_groups[0]["lr"] for kw in seen]  # after the last of 12 steps
    assert seen[0]["scheduler"] is None and lrs[0] == 0.1
    assert seen[1]["scheduler"].lr_lambdas[0] == WarmupCosine(warmup_steps=4, total_steps=12, min_ratio=0.01)
    assert lrs[1] == pytest.approx(0.1 * 0.01)
