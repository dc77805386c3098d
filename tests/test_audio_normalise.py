"""Speaker-robust log-mel front end: per-recording CMVN and the warping augmentation (fast, synthetic inputs)."""

import numpy as np
import pytest
import scipy.fft
import torch

from bigmodel_lib.data import audio
from bigmodel_lib.numerics import check_matches

FLOOR = np.float32(np.log(1e-6))  # log-mel of the zero padding


def _recording(rng, frames=30, pad=20, n_mels=8):
    speech = rng.normal(size=(n_mels, frames)).astype(np.float32) * 3 - 5
    return np.concatenate([speech, np.full((n_mels, pad), FLOOR, np.float32)], axis=1)


def test_cmvn_removes_gain_and_ignores_the_padding():
    rng = np.random.default_rng(0)
    x = _recording(rng)
    louder = x.copy()
    louder[:, :30] += np.linspace(1, 4, 8, dtype=np.float32)[:, None]  # another gain per band (mic, loudness)
    out, out_louder = audio.utterance_cmvn(np.stack([x, louder]))
    np.testing.assert_allclose(out, out_louder, atol=1e-5)
    speech = out[:, :30]
    np.testing.assert_allclose(speech.mean(axis=1), 0, atol=1e-5)  # statistics over the speech frames only,
    np.testing.assert_allclose(speech.std(axis=1), 1, atol=1e-3)  # not the padding
    assert (out[:, 30:] == 0).all()
    assert audio.utterance_cmvn(np.full((8, 10), FLOOR)).tolist() == np.zeros((8, 10)).tolist()  # all silence: no NaN


def test_warp_without_range_is_the_identity():
    x = torch.randn(3, 16, 24)
    out = audio.warp_spectrograms(x, torch.Generator().manual_seed(0), freq=0.0, time=0.0)
    torch.testing.assert_close(out, x, atol=1e-5, rtol=0)


def test_warp_moves_a_band_and_an_onset_by_the_drawn_factors():
    n, n_mels, frames, band, onset = 4, 32, 40, 12, 20
    rows = torch.arange(n_mels, dtype=torch.float32)
    x = torch.exp(-((rows - band) ** 2) / 8)[None, :, None].repeat(n, 1, frames)  # a smooth formant at `band`
    x[:, :, onset:] += 1.0  # and an onset in every band at frame `onset`
    generator = torch.Generator().manual_seed(1)
    draws = torch.Generator()
    draws.set_state(generator.get_state())
    mel_scale = 0.8 + 0.4 * torch.rand(n, generator=draws)  # the same draws, in the same order
    time_scale = 0.8 + 0.4 * torch.rand(n, generator=draws)
    out = audio.warp_spectrograms(x, generator, freq=0.2, time=0.2)
    # output row r reads input row s·(r + ½) − ½, so the formant's centre lands at (band + ½)/s − ½
    line = out[:, :, 2]  # a frame before the onset
    centre = (line * rows).sum(1) / line.sum(1)
    torch.testing.assert_close(centre, (band + 0.5) / mel_scale - 0.5, atol=0.05, rtol=0)
    step = out[:, 3, :30]  # a band far from the formant, frames that read inside the input: ~0, then ~1
    crossing = (step < 0.5).sum(1).float() - 0.5  # where the step passes ½, to the nearest half frame
    torch.testing.assert_close(crossing, onset / time_scale - 0.5, atol=0.51, rtol=0)
    assert mel_scale.std() > 0.01  # each example gets its own factors


def test_masks_zero_one_run_of_bands_and_one_of_frames():
    x = torch.ones(64, 20, 30)
    out = audio.mask_spectrograms(x, torch.Generator().manual_seed(0), max_bands=5, max_frames=7)
    zero = out == 0
    rows, cols = zero.all(dim=2), zero.all(dim=1)  # (B, n_mels) fully masked bands, (B, frames) fully masked frames
    assert (rows.sum(1) <= 5).all() and (cols.sum(1) <= 7).all() and rows.any() and cols.any()
    for r, c, z in zip(rows, cols, zero, strict=True):
        assert torch.equal(z, r[:, None] | c[None, :])  # nothing else is touched
        for run in (r, c):  # each mask is one contiguous run
            idx = run.nonzero().flatten()
            assert len(idx) == 0 or idx[-1] - idx[0] + 1 == len(idx)
    assert torch.equal(x, torch.ones(64, 20, 30))  # the input is left as it was


def test_cepstra_are_an_orthonormal_dct_and_smoothing_keeps_the_envelope():
    d = audio.dct_matrix(40)
    np.testing.assert_allclose(d @ d.T, np.eye(40), atol=1e-5)  # orthonormal: all coefficients give x back
    x = np.random.default_rng(0).normal(size=(40, 7)).astype(np.float32)
    # each coefficient is a sum of 40 fp32 products (the basis itself rounded once more)
    check_matches("dct_matrix vs scipy.fft.dct(norm='ortho')", d @ x, scipy.fft.dct(x.astype(np.float64), axis=0,
                                                                                  norm="ortho"), terms=41)
    mels = np.arange(40, dtype=np.float32)
    envelope = np.cos(np.pi * (mels + 0.5) * 2 / 40)  # a slow ripple (cepstral coefficient 2): formant-like
    harmonics = 0.5 * np.cos(np.pi * (mels + 0.5) * 30 / 40)  # a fast one (coefficient 30): pitch harmonics
    x = np.stack([envelope + harmonics] * 3, axis=-1)[None]  # (1, 40 mels, 3 frames)
    c = audio.cepstra(x, 13)
    assert c.shape == (1, 13, 3)
    np.testing.assert_allclose(c, np.einsum("km,bmt->bkt", d[:13], x), atol=1e-5)
    smooth = audio.cepstral_smooth(x, 13)
    assert smooth.shape == x.shape
    np.testing.assert_allclose(smooth[0, :, 0], envelope, atol=1e-5)  # the envelope stays, the harmonics go
    np.testing.assert_allclose(audio.cepstral_smooth(x, 40), x, atol=1e-4)


def test_shift_delays_each_example_and_fills_with_silence():
    x = torch.arange(1, 21, dtype=torch.float32).repeat(32, 4, 1)  # (32, 4 bands, 20 frames): frame t holds t + 1
    out = audio.shift_spectrograms(x, torch.Generator().manual_seed(0), max_frames=5)
    shifts = (out[:, 0] == 0).sum(1)  # leading zero frames of each example
    assert shifts.max() <= 5 and shifts.min() >= 0 and len(set(shifts.tolist())) > 1
    for example, s in zip(out, shifts, strict=True):
        expected = torch.cat([torch.zeros(int(s)), torch.arange(1, 21 - int(s), dtype=torch.float32)])
        assert torch.equal(example, expected.repeat(4, 1))


def test_more_masks_hide_more_and_noise_has_the_given_size():
    x = torch.ones(256, 20, 30)
    one = (audio.mask_spectrograms(x, torch.Generator().manual_seed(0), count=1) == 0).float().mean()
    three = (audio.mask_spectrograms(x, torch.Generator().manual_seed(0), count=3) == 0).float().mean()
    assert three > 2 * one
    noisy = audio.noise_spectrograms(torch.zeros(64, 20, 30), torch.Generator().manual_seed(0), std=0.3)
    assert abs(noisy.std().item() - 0.3) < 0.01 and abs(noisy.mean().item()) < 0.01


def test_cmvn_without_variance_only_removes_the_mean():
    rng = np.random.default_rng(0)
    x = _recording(rng)
    out = audio.utterance_cmvn(x, variance=False)
    np.testing.assert_allclose(out[:, :30], x[:, :30] - x[:, :30].mean(axis=1, keepdims=True), atol=1e-5)
    assert (out[:, 30:] == 0).all()


def test_speaker_cmvn_removes_each_voices_colouring_but_keeps_word_differences():
    rng = np.random.default_rng(0)
    words = [_recording(rng), _recording(rng) + np.where(np.arange(50) < 30, 2.0, 0.0)]  # word 2: louder in all bands
    gain = np.linspace(1, 4, 8, dtype=np.float32)[:, None]
    voice_b = [np.where(np.arange(50) < 30, w + gain, w) for w in words]  # the same words, another voice and mic
    out = audio.speaker_cmvn(np.stack(words + voice_b), ["a", "a", "b", "b"])
    np.testing.assert_allclose(out[:2], out[2:], atol=1e-4)  # the voice's colouring cancels
    assert out[1, :, :30].mean() - out[0, :, :30].mean() > 0.5  # what sets the words apart stays
    assert (out[:, :, 30:] == 0).all()
    speech = out[:2, :, :30].transpose(1, 0, 2).reshape(8, -1)  # per band over the speaker's speech frames
    np.testing.assert_allclose(speech.mean(axis=1), 0, atol=1e-5)
    np.testing.assert_allclose(speech.std(axis=1), 1, atol=1e-3)
    with pytest.raises(ValueError, match="one per recording"):
        audio.speaker_cmvn(np.stack(words), ["a"])
