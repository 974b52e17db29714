"""Real encoded audio for tests, made with PyAV's encoders (no external tools): a tone, or noise
after a silent start (which makes a raw AAC stream's bitrate-estimated length wildly wrong)."""

from __future__ import annotations

import tempfile

import numpy as np


def encoded(fmt: str, codec: str, seconds: float = 40.0, rate: int = 16000, *, quiet_first: float = 0.0,
            **options) -> bytes:
    import av

    suffix = {"mp4": "m4a", "adts": "aac"}.get(fmt, fmt)
    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/audio.{suffix}"
        out = av.open(path, "w", format=fmt, options=options)
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        rng = np.random.default_rng(0)
        step = 1024
        for i in range(0, int(seconds * rate), step):
            t = np.arange(i, i + step) / rate
            if t[0] < quiet_first:
                data = np.zeros(step, np.float32)
            elif quiet_first:
                data = (0.3 * rng.standard_normal(step)).astype(np.float32)
            else:
                data = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
            frame = av.AudioFrame.from_ndarray(data[None, :], format="flt", layout="mono")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
        out.close()
        with open(path, "rb") as f:
            return f.read()
