"""Audio features from scratch: WAV reading, STFT, mel filterbank, log-mel spectrograms.

    wave, sr = read_wav(path)                             # float32 in [-1, 1], sample rate
    feats = log_mel_spectrogram(wave, sr, n_mels=40)      # (n_mels, frames)
    X = fsdd_log_mels(bml.data.fsdd_recordings())         # (N, n_mels, frames) for the whole set

The mel filterbank follows TensorFlow's `tf.signal.linear_to_mel_weight_matrix` exactly (HTK mel
scale, triangles in mel space, no DC weight), so the two can be compared to float precision.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

MEL_BREAK_HZ = 700.0
MEL_HIGH_Q = 1127.0


def read_wav(path: Path | str) -> tuple[np.ndarray, int]:
    """A PCM WAV file as mono float32 samples in [-1, 1] and its sample rate (8/16/32-bit ints)."""
    with wave.open(str(path), "rb") as f:
        sr, width, channels, n = f.getframerate(), f.getsampwidth(), f.getnchannels(), f.getnframes()
        raw = f.readframes(n)
    if width == 1:  # 8-bit WAV is unsigned
        samples = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width in (2, 4):
        dtype = np.int16 if width == 2 else np.int32
        samples = np.frombuffer(raw, dtype=f"<i{width}").astype(np.float32) / float(np.iinfo(dtype).max + 1)
    else:
        raise ValueError(f"{path}: {8 * width}-bit PCM is not supported (use 8, 16 or 32-bit).")
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)  # (n,) mono
    return samples, sr


def pad_or_trim(samples: np.ndarray, length: int) -> np.ndarray:
    """Cut to `length` samples or pad the end with zeros."""
    if len(samples) >= length:
        return samples[:length]
    return np.pad(samples, (0, length - len(samples)))


def hz_to_mel(hz):
    """HTK mel scale: 1127·ln(1 + f/700)."""
    return MEL_HIGH_Q * np.log1p(np.asarray(hz, dtype=np.float64) / MEL_BREAK_HZ)


def mel_to_hz(mel):
    return MEL_BREAK_HZ * np.expm1(np.asarray(mel, dtype=np.float64) / MEL_HIGH_Q)


def mel_filterbank(n_mels: int, n_fft: int, sample_rate: int, fmin: float = 20.0, fmax: float | None = None) -> np.ndarray:
    """Triangular mel filters as a (n_fft // 2 + 1, n_mels) matrix: `power @ W` gives mel energies.

    Band edges are spaced evenly on the mel scale; each filter rises from its lower edge to its
    centre and falls to its upper edge (linearly in mel). The DC bin gets no weight.
    """
    fmax = sample_rate / 2 if fmax is None else fmax
    if not 0 <= fmin < fmax <= sample_rate / 2:
        raise ValueError(f"need 0 ≤ fmin < fmax ≤ sample_rate/2, got fmin={fmin}, fmax={fmax}, sr={sample_rate}")
    n_bins = n_fft // 2 + 1
    bin_mels = hz_to_mel(np.linspace(0.0, sample_rate / 2, n_bins)[1:])[:, None]  # (n_bins-1, 1), DC dropped
    edges = np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]  # (n_mels,) each
    rising = (bin_mels - lower) / (center - lower)
    falling = (upper - bin_mels) / (upper - center)
    weights = np.maximum(0.0, np.minimum(rising, falling))  # (n_bins-1, n_mels)
    return np.pad(weights, ((1, 0), (0, 0))).astype(np.float32)  # DC row of zeros


def hann_window(length: int) -> np.ndarray:
    """Periodic Hann window (the STFT convention of TensorFlow and torch)."""
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(length) / length)).astype(np.float32)


def frame(samples: np.ndarray, frame_length: int, hop: int) -> np.ndarray:
    """(..., n) → (..., frames, frame_length) overlapping frames, no padding."""
    n = samples.shape[-1]
    if n < frame_length:
        raise ValueError(f"signal of {n} samples is shorter than one frame ({frame_length}); pad it first.")
    count = 1 + (n - frame_length) // hop
    index = hop * np.arange(count)[:, None] + np.arange(frame_length)[None, :]  # (frames, frame_length)
    return samples[..., index]


def stft_magnitude(samples: np.ndarray, frame_length: int = 256, hop: int = 80, n_fft: int | None = None) -> np.ndarray:
    """|STFT| of (..., n) samples → (..., frames, n_fft // 2 + 1), Hann-windowed frames."""
    n_fft = frame_length if n_fft is None else n_fft
    frames = frame(np.asarray(samples, dtype=np.float32), frame_length, hop) * hann_window(frame_length)
    return np.abs(np.fft.rfft(frames, n=n_fft, axis=-1)).astype(np.float32)


def log_mel_spectrogram(samples: np.ndarray, sample_rate: int, n_mels: int = 40, frame_length: int = 256,
                        hop: int = 80, fmin: float = 20.0, fmax: float | None = None, eps: float = 1e-6) -> np.ndarray:
    """Log mel energies of (..., n) samples → (..., n_mels, frames): log(|STFT|² · W + eps)."""
    power = stft_magnitude(samples, frame_length, hop) ** 2  # (..., frames, bins)
    mel = power @ mel_filterbank(n_mels, frame_length, sample_rate, fmin, fmax)  # (..., frames, n_mels)
    return np.log(mel + eps).swapaxes(-1, -2).astype(np.float32)


def fsdd_log_mels(table, seconds: float = 1.0, n_mels: int = 40, frame_length: int = 256, hop: int = 80,
                  progress: bool = True) -> np.ndarray:
    """Log-mel spectrograms of every recording in an `fsdd_recordings()` table → (N, n_mels, frames).

    Each recording is cut or zero-padded to `seconds` first, so all share one shape.
    """
    from tqdm.auto import tqdm

    waves, rate = [], None
    for path in tqdm(list(table["path"]), desc="reading WAVs", disable=not progress, mininterval=1.0):
        samples, sr = read_wav(path)
        if rate is not None and sr != rate:
            raise ValueError(f"{path} has sample rate {sr}, the others {rate}; resample first.")
        rate = sr
        waves.append(pad_or_trim(samples, int(seconds * sr)))
    return log_mel_spectrogram(np.stack(waves), rate, n_mels=n_mels, frame_length=frame_length, hop=hop)


def speaker_split(table, test_speakers: tuple[str, ...]):
    """Boolean masks (train, test): every recording of `test_speakers` goes to test, so the test
    set measures voices the model never heard."""
    unknown = set(test_speakers) - set(table["speaker"])
    if unknown:
        raise ValueError(f"unknown speakers {sorted(unknown)}; the table has {sorted(set(table['speaker']))}")
    test = table["speaker"].isin(test_speakers).to_numpy()
    return ~test, test


def standardize(train: np.ndarray, *others: np.ndarray, axis: tuple[int, ...] = (0, 2)):
    """Scale every array by the training set's mean and std per mel bin (statistics from train only)."""
    mean = train.mean(axis=axis, keepdims=True)
    std = train.std(axis=axis, keepdims=True) + 1e-6
    return tuple((a - mean) / std for a in (train, *others))
