"""GE2E speaker encoder: Resemblyzer 0.1.4's ``VoiceEncoder`` with its weights shipped here.

The network (3-layer LSTM over 40-band mel frames, a linear layer, ReLU, L2 norm), its mel
spectrogram and its partial-utterance slicing are Resemblyzer's (Apache-2.0, ``ge2e-LICENSE``),
reduced to what :mod:`earmark.speakers.diarize` uses. ``ge2e.npz`` holds the ``model_state`` of
Resemblyzer 0.1.4's ``pretrained.pt`` (sha256 39373b86…f134e) as the same float32 arrays, without
its optimizer state and its unused similarity scale. Depending on Resemblyzer itself would pull in
``webrtcvad``, published only as source: installing Earmark would need a C compiler for a voice
activity detector that Earmark never calls (its VAD is faster-whisper's Silero).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

WEIGHTS = Path(__file__).with_name("ge2e.npz")

SAMPLING_RATE = 16000
MEL_WINDOW_MS = 25
MEL_STEP_MS = 10
MEL_CHANNELS = 40
PARTIAL_FRAMES = 160  # 1.6 s per partial utterance
HIDDEN = 256
EMBEDDING = 256
LAYERS = 3


def wav_to_mel_spectrogram(wav: np.ndarray) -> np.ndarray:
    """(frames, 40) mel power spectrogram (not log-mel), as Resemblyzer's ``audio.wav_to_mel_spectrogram``."""
    import librosa  # heavy: numba

    frames = librosa.feature.melspectrogram(
        y=wav,
        sr=SAMPLING_RATE,
        n_fft=SAMPLING_RATE * MEL_WINDOW_MS // 1000,
        hop_length=SAMPLING_RATE * MEL_STEP_MS // 1000,
        n_mels=MEL_CHANNELS,
    )
    return frames.astype(np.float32).T


def partial_slices(n_samples: int, rate: float = 1.3, min_coverage: float = 0.75) -> tuple[list[slice], list[slice]]:
    """Waveform and mel slices of the 1.6 s partial utterances of a waveform, as Resemblyzer's
    ``VoiceEncoder.compute_partial_slices`` (``rate`` partials a second; a last partial covering
    less than ``min_coverage`` is dropped unless it is the only one). The slices may run past the
    waveform: pad it with zeros up to ``wav_slices[-1].stop``."""
    assert 0 < min_coverage <= 1
    samples_per_frame = SAMPLING_RATE * MEL_STEP_MS // 1000
    n_frames = int(np.ceil((n_samples + 1) / samples_per_frame))
    frame_step = int(np.round((SAMPLING_RATE / rate) / samples_per_frame))
    assert 0 < frame_step <= PARTIAL_FRAMES, "rate out of range"
    wav_slices, mel_slices = [], []
    for i in range(0, max(1, n_frames - PARTIAL_FRAMES + frame_step + 1), frame_step):
        mel_slices.append(slice(i, i + PARTIAL_FRAMES))
        wav_slices.append(slice(i * samples_per_frame, (i + PARTIAL_FRAMES) * samples_per_frame))
    last = wav_slices[-1]
    if (n_samples - last.start) / (last.stop - last.start) < min_coverage and len(mel_slices) > 1:
        mel_slices, wav_slices = mel_slices[:-1], wav_slices[:-1]
    return wav_slices, mel_slices


class VoiceEncoder(nn.Module):
    """Mel partials (batch, 160, 40) → L2-normed d-vectors (batch, 256), on the CPU."""

    def __init__(self, weights: Path = WEIGHTS) -> None:
        super().__init__()
        self.lstm = nn.LSTM(MEL_CHANNELS, HIDDEN, LAYERS, batch_first=True)
        self.linear = nn.Linear(HIDDEN, EMBEDDING)
        self.relu = nn.ReLU()
        with np.load(weights, allow_pickle=False) as arrays:
            self.load_state_dict({name: torch.from_numpy(arrays[name]) for name in arrays.files})
        self.eval()

    def forward(self, mels: torch.Tensor) -> torch.Tensor:
        _, (hidden, _) = self.lstm(mels)
        raw = self.relu(self.linear(hidden[-1]))
        return raw / torch.norm(raw, dim=1, keepdim=True)
