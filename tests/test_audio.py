"""Audio features from scratch vs TensorFlow's reference ops and scipy's WAV reader, on real FSDD files."""

import numpy as np
import pytest

from bigmodel_lib.data import audio
from bigmodel_lib.numerics import check_matches


@pytest.fixture(scope="module")
def fsdd_table():
    from bigmodel_lib.data import fsdd_recordings

    try:
        return fsdd_recordings()
    except Exception as exc:  # data not fetched
        pytest.skip(f"FSDD not available: {exc}")


def test_read_wav_matches_scipy(fsdd_table):
    from scipy.io import wavfile

    path = fsdd_table["path"].iloc[0]
    ours, sr = audio.read_wav(path)
    sr_ref, ref = wavfile.read(path)
    assert sr == sr_ref == 8000
    # int16 samples and a power-of-two scale are exact in float32: one rounding at most.
    check_matches("samples vs scipy", ours, ref.astype(np.float32) / 32768.0, terms=1, magnitude=1.0)


@pytest.mark.reference
def test_mel_filterbank_matches_tensorflow():
    tf = pytest.importorskip("tensorflow")
    for n_mels, n_fft, sr, lo, hi in [(40, 256, 8000, 20.0, 4000.0), (80, 512, 16000, 0.0, 7600.0), (13, 128, 8000, 100.0, 3000.0)]:
        ours = audio.mel_filterbank(n_mels, n_fft, sr, lo, hi)
        ref = tf.signal.linear_to_mel_weight_matrix(n_mels, n_fft // 2 + 1, sr, lo, hi).numpy()
        assert ours.shape == ref.shape
        # Triangle weights (f − f_left) / width: frequencies up to `hi` are rounded relative to their size
        # (a few float32 operations through the mel scale), then divided by the narrowest filter's width.
        edges = audio.mel_to_hz(np.linspace(audio.hz_to_mel(lo), audio.hz_to_mel(hi), n_mels + 2))
        check_matches(f"mel filterbank {n_mels}x{n_fft}", ours, ref, terms=8, magnitude=hi / np.diff(edges).min())


@pytest.mark.reference
def test_stft_matches_tensorflow(fsdd_table):
    tf = pytest.importorskip("tensorflow")
    samples, _ = audio.read_wav(fsdd_table["path"].iloc[7])
    ours = audio.stft_magnitude(samples, frame_length=256, hop=80)
    ref = np.abs(tf.signal.stft(samples, 256, 80, 256, window_fn=tf.signal.hann_window).numpy())
    # Window products and a 256-point FFT's sums per value, relative to the largest magnitude.
    check_matches("STFT magnitudes vs tensorflow", ours, ref, terms=2 * 256)


@pytest.mark.reference
def test_log_mel_shape_and_batch_consistency(fsdd_table):
    rows = fsdd_table.iloc[[0, 500, 2999]]
    batch = audio.fsdd_log_mels(rows, seconds=1.0, n_mels=40, progress=False)
    assert batch.shape == (3, 40, 1 + (8000 - 256) // 80)
    single = audio.log_mel_spectrogram(audio.pad_or_trim(audio.read_wav(rows["path"].iloc[1])[0], 8000), 8000)
    # The same STFT (2·256), mel sums (129) and log, in another batch layout.
    check_matches("log-mel batched vs alone", batch[1], single, terms=2 * 256 + 129 + 1)
    assert np.isfinite(batch).all()


def test_speaker_split_keeps_voices_apart(fsdd_table):
    train, test = audio.speaker_split(fsdd_table, ("theo", "jackson"))
    assert test.sum() == 1000 and train.sum() == 2000
    assert not set(fsdd_table.speaker[train]) & set(fsdd_table.speaker[test])
    with pytest.raises(ValueError, match="unknown speakers"):
        audio.speaker_split(fsdd_table, ("nobody",))


def test_frame_and_bad_inputs():
    x = np.arange(10, dtype=np.float32)
    np.testing.assert_array_equal(audio.frame(x, 4, 3), [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]])
    with pytest.raises(ValueError, match="shorter than one frame"):
        audio.frame(x, 16, 4)
    with pytest.raises(ValueError, match="fmin"):
        audio.mel_filterbank(10, 256, 8000, 100.0, 5000.0)
    check_matches("mel round trip", audio.mel_to_hz(audio.hz_to_mel([0.0, 440.0, 4000.0])), [0.0, 440.0, 4000.0],
                  terms=6, dtype="float64")  # a log, an exp and four products or sums
