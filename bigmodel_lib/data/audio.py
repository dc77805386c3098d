"""Audio features from scratch: WAV reading, STFT, mel filterbank, log-mel spectrograms.

    wave, sr = read_wav(path)                             # float32 in [-1, 1], sample rate
    feats = log_mel_spectrogram(wave, sr, n_mels=40)      # (n_mels, frames)
    X = fsdd_log_mels(bml.data.fsdd_recordings())         # (N, n_mels, frames) for the whole set
    X = utterance_cmvn(X)                                 # each recording's loudness and colouring removed
    X = cepstral_smooth(X, keep=20)                       # the spectral envelope only, pitch harmonics gone
    fit(..., augment=warp_spectrograms)                   # a new speed and voice pitch for every batch

The mel filterbank follows TensorFlow's `tf.signal.linear_to_mel_weight_matrix` exactly (HTK mel
scale, triangles in mel space, no DC weight), so the two can be compared to float precision.
"""

from __future__ import annotations

import wave
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

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


def _speech_frames(feats: np.ndarray, eps: float) -> np.ndarray:
    """(..., 1, frames): True where a frame of log-mels (..., n_mels, frames) is not pure digital silence
    (log(eps) in every band, the zeros `pad_or_trim` adds)."""
    return (feats > np.float32(np.log(eps)) + 1e-3).any(axis=-2, keepdims=True)


def utterance_cmvn(feats: np.ndarray, eps: float = 1e-6, variance: bool = True) -> np.ndarray:
    """Per-recording mean and variance normalisation (CMVN) of log-mels (..., n_mels, frames).

    Each recording's mean and std per mel band are taken over its own frames, so its loudness and
    microphone colouring (a constant added to each band's log energy) cancel out — the main difference
    between two speakers' recordings of one digit. Frames of pure digital silence (the zeros added by
    `pad_or_trim`: log(eps) in every band) take no part in the statistics and come out as 0, the mean.
    `eps` must be the one the log-mels were computed with. `variance=False` subtracts the mean only.
    """
    feats = np.asarray(feats, dtype=np.float32)
    signal = _speech_frames(feats, eps)  # (..., 1, frames)
    count = np.maximum(signal.sum(axis=-1, keepdims=True), 1)  # (..., 1, 1)
    mean = np.where(signal, feats, 0.0).sum(axis=-1, keepdims=True) / count  # (..., n_mels, 1)
    var = np.where(signal, (feats - mean) ** 2, 0.0).sum(axis=-1, keepdims=True) / count
    scale = np.sqrt(var) + 1e-5 if variance else 1.0
    return np.where(signal, (feats - mean) / scale, 0.0).astype(np.float32)


def speaker_cmvn(feats: np.ndarray, speakers, eps: float = 1e-6) -> np.ndarray:
    """CMVN per speaker: log-mels (N, n_mels, frames) normalised by the mean and std per mel band of all
    the speech frames of the same speaker (`speakers`: N labels; no digit labels needed).

    Like `utterance_cmvn` it removes a voice's and a microphone's colouring, but it keeps what sets one
    word's average spectrum apart from another's (the hiss of "six", the vowel of "two"), which the
    statistics of one short recording also take away. It needs several recordings of each voice, as a
    recogniser that adapts to its user gets. Silence (see `utterance_cmvn`) comes out as 0.
    """
    feats = np.asarray(feats, dtype=np.float32)
    speakers = np.asarray(speakers)
    if len(speakers) != len(feats):
        raise ValueError(f"{len(speakers)} speaker labels for {len(feats)} recordings: give one per recording.")
    signal = _speech_frames(feats, eps)  # (N, 1, frames)
    out = np.zeros_like(feats)
    for speaker in np.unique(speakers):
        mine = speakers == speaker
        frames = feats[mine].transpose(1, 0, 2)[:, signal[mine][:, 0]]  # (n_mels, speech frames of this voice)
        if frames.shape[1] == 0:
            continue
        mean, std = frames.mean(axis=1)[:, None], frames.std(axis=1)[:, None] + 1e-5  # (n_mels, 1)
        out[mine] = np.where(signal[mine], (feats[mine] - mean) / std, 0.0)
    return out


def dct_matrix(n: int) -> np.ndarray:
    """Orthonormal DCT-II as an (n, n) matrix: `D @ x` along the mel axis gives the cepstrum, `D.T @ c` undoes it."""
    k, i = np.arange(n)[:, None], np.arange(n)[None, :]
    basis = np.cos(np.pi / n * (i + 0.5) * k) * np.sqrt(2.0 / n)
    basis[0] /= np.sqrt(2.0)
    return basis.astype(np.float32)


def cepstra(feats: np.ndarray, n: int) -> np.ndarray:
    """The first `n` cepstral coefficients of log-mels (..., n_mels, frames) → (..., n, frames): MFCCs.

    A DCT-II over the mel axis turns each frame's log spectrum into slow (formants: which vowel, which
    consonant) and fast (pitch harmonics, mostly the speaker) ripples; keeping the first `n` keeps the
    former.
    """
    n_mels = feats.shape[-2]
    if not 1 <= n <= n_mels:
        raise ValueError(f"n={n} cepstral coefficients: choose 1 to n_mels={n_mels}.")
    return np.einsum("km,...mt->...kt", dct_matrix(n_mels)[:n], np.asarray(feats, dtype=np.float32))


def cepstral_smooth(feats: np.ndarray, keep: int) -> np.ndarray:
    """Log-mels (..., n_mels, frames) with only their first `keep` cepstral coefficients, back on the mel axis.

    The same information as `cepstra(feats, keep)` (liftering), but still a spectrogram: bands stay bands,
    so mel-axis warping and band masks keep their meaning and the CNN its input shape.
    """
    basis = dct_matrix(feats.shape[-2])[:keep]  # (keep, n_mels)
    return np.einsum("km,...kt->...mt", basis, cepstra(feats, keep)).astype(np.float32)


def _uniform(n: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    import torch

    return low + (high - low) * torch.rand(n, generator=generator)


def warp_spectrograms(batch: torch.Tensor, generator: torch.Generator, freq: float = 0.15,
                      time: float = 0.15) -> torch.Tensor:
    """Random speed and vocal-tract changes for a batch of spectrograms (B, n_mels, frames): data augmentation.

    Each example's mel axis is stretched by a factor drawn in [1 − freq, 1 + freq] around band 0 (a
    shorter or longer vocal tract moves every formant by one factor, the idea of vocal tract length
    perturbation) and its time axis by one in [1 − time, 1 + time] around frame 0 (faster or slower
    speech); values are read by bilinear interpolation, and what comes from beyond the edges is 0 (the
    mean after `utterance_cmvn`). Four training speakers are few voices: warping invents more.
    """
    import torch
    from torch.nn import functional as F

    n = len(batch)
    along_mels, along_time = _uniform(n, 1 - freq, 1 + freq, generator), _uniform(n, 1 - time, 1 + time, generator)
    theta = torch.zeros(n, 2, 3)  # output (x=time, y=mel) in [-1, 1] reads input at scale·(coord + 1) − 1
    theta[:, 0, 0], theta[:, 0, 2] = along_time, along_time - 1
    theta[:, 1, 1], theta[:, 1, 2] = along_mels, along_mels - 1
    images = batch.unsqueeze(1)  # (B, 1, n_mels, frames)
    grid = F.affine_grid(theta.to(batch.dtype), list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, align_corners=False, padding_mode="zeros").squeeze(1)


def mask_spectrograms(batch: torch.Tensor, generator: torch.Generator, max_bands: int = 6,
                      max_frames: int = 12, count: int = 1) -> torch.Tensor:
    """SpecAugment-style masking of a batch (B, n_mels, frames): in each example one run of up to
    `max_bands` mel bands and one run of up to `max_frames` frames, at random places, are set to 0 (the
    mean after normalisation), so the model cannot lean on any single band or moment. `count` > 1
    repeats this (`count` runs of each, drawn independently, which may overlap)."""
    import torch

    for _ in range(count - 1):
        batch = mask_spectrograms(batch, generator, max_bands, max_frames)
    n, n_mels, frames = batch.shape
    band_width = torch.randint(0, max_bands + 1, (n, 1), generator=generator)
    band_start = (torch.rand(n, 1, generator=generator) * (n_mels - band_width + 1)).long()
    frame_width = torch.randint(0, max_frames + 1, (n, 1), generator=generator)
    frame_start = (torch.rand(n, 1, generator=generator) * (frames - frame_width + 1)).long()
    bands, steps = torch.arange(n_mels)[None], torch.arange(frames)[None]  # (1, n_mels), (1, frames)
    masked_bands = (bands >= band_start) & (bands < band_start + band_width)  # (B, n_mels)
    masked_steps = (steps >= frame_start) & (steps < frame_start + frame_width)  # (B, frames)
    return batch.masked_fill(masked_bands[:, :, None] | masked_steps[:, None, :], 0.0)


def shift_spectrograms(batch: torch.Tensor, generator: torch.Generator, max_frames: int = 10) -> torch.Tensor:
    """Move each example of a batch (B, n_mels, frames) later in time by 0 to `max_frames` frames, drawn
    per example; what moves in at the start is 0 (silence after `utterance_cmvn`), what moves past the end
    is dropped. FSDD's recordings all start at the word's onset: shifting teaches that the onset may be
    anywhere."""
    import torch

    n, _, frames = batch.shape
    shift = torch.randint(0, max_frames + 1, (n, 1), generator=generator)  # (B, 1)
    source = torch.arange(frames)[None] - shift  # (B, frames): output frame t reads input frame t − shift
    gathered = batch.gather(2, source.clamp(min=0)[:, None, :].expand_as(batch))
    return gathered.masked_fill((source < 0)[:, None, :], 0.0)


def noise_spectrograms(batch: torch.Tensor, generator: torch.Generator, std: float = 0.1) -> torch.Tensor:
    """Add Gaussian noise of standard deviation `std` (in the standardised units of the input) to a batch."""
    import torch

    return batch + std * torch.randn(batch.shape, generator=generator, dtype=batch.dtype)
