"""The spoken-digit CNN: shapes, the PyTorch and Keras twins agree once weights are copied, and it learns
on real FSDD log-mels."""

import numpy as np
import pytest
import torch

from bigmodel_lib.models.audio_cnn import AudioCNN, AudioCNNConfig, predict, train_classifier
from bigmodel_lib.numerics import check_matches


def test_shapes_and_parameter_count():
    model = AudioCNN(AudioCNNConfig(n_classes=10, channels=(8, 16, 32)))
    assert model(torch.randn(5, 40, 97)).shape == (5, 10)
    assert model.head.in_features == 32 * 5  # channels × frequency bands left after three pools
    images = AudioCNN(AudioCNNConfig(n_classes=10, channels=(8, 16, 32), n_mels=8))
    assert images(torch.randn(5, 1, 8, 8)).shape == (5, 10)  # works on 8x8 digit images too
    with pytest.raises(ValueError, match="too small"):
        AudioCNNConfig(n_mels=4)


@pytest.mark.reference
def test_keras_twin_matches_torch():
    pytest.importorskip("keras")
    from bigmodel_lib.keras_models.audio_cnn import build_audio_cnn, copy_torch_weights

    cfg = AudioCNNConfig(n_classes=10, channels=(8, 16, 32))
    torch.manual_seed(0)
    model = AudioCNN(cfg)
    with torch.no_grad():  # non-trivial BatchNorm statistics
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    model.eval()
    k_model = build_audio_cnn(40, 97, cfg)
    assert k_model.count_params() == sum(p.numel() for p in model.parameters()) + sum(
        b.numel() for n, b in model.named_buffers() if "running" in n)
    copy_torch_weights(k_model, model)
    x = np.random.default_rng(0).standard_normal((4, 40, 97)).astype(np.float32)
    ours = model(torch.from_numpy(x)).detach().numpy()
    theirs = np.asarray(k_model(x[..., None], training=False))
    # 3×3 convolutions (9 · input channels terms each), BatchNorm, the average over time (97 / 8 frames) and the
    # head over channels × bands, relative to the logits.
    terms = 9 * (1 + 8 + 16) + 3 * 4 + 97 // 8 + 32 * cfg.bands_out
    check_matches("AudioCNN torch vs keras logits", ours, theirs, terms=terms)


def test_learns_real_spoken_digits():
    from bigmodel_lib.data import audio, fsdd_recordings

    try:
        table = fsdd_recordings()
    except Exception as exc:
        pytest.skip(f"FSDD not available: {exc}")
    table = table[table.speaker.isin(["george", "jackson", "lucas"])].iloc[::3]  # 500 recordings
    x = audio.fsdd_log_mels(table, n_mels=32, progress=False)
    train, test = audio.speaker_split(table, ("lucas",))
    x_train, x_test = audio.standardize(x[train], x[test])
    y = torch.tensor(table.digit.to_numpy())
    torch.manual_seed(0)
    model = AudioCNN(AudioCNNConfig(channels=(8, 16, 32), n_mels=32))
    losses = train_classifier(model, torch.from_numpy(x_train), y[train], epochs=15, progress=False)
    assert losses[-1] < 0.8 * losses[0]
    acc = (predict(model, torch.from_numpy(x_train)) == y[train]).float().mean().item()
    assert acc > 0.3  # well above the 10% of guessing
