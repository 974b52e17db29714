"""probe_audio's truncation check: a file cut short while its header still states the full length
is refused with where its audio stops; files whose length is measured or estimated are not."""

from __future__ import annotations

import subprocess

import pytest

from earmark.errors import AudioError
from earmark.jobs.asr import probe_audio
from tests.jobs.audio_files import encoded
from tests.jobs.conftest import wav_bytes


def _half(data: bytes) -> bytes:
    return data[: len(data) // 2]


@pytest.mark.parametrize("name, make, where", [
    ("cut.mp3", lambda: _half(encoded("mp3", "libmp3lame")), "stops at about 0:20 of the 0:40"),
    ("cut.m4a", lambda: _half(encoded("mp4", "aac", movflags="faststart")), "stops before 0:36 of the 0:40"),
])
def test_truncated_files_are_refused_with_where_they_stop(tmp_path, name, make, where):
    path = tmp_path / name
    path.write_bytes(make())
    with pytest.raises(AudioError, match=f"{name}: the audio file is truncated: it {where} it states"):
        probe_audio(path)


def test_whole_files_pass_including_long_pages_and_estimated_lengths(tmp_path):
    files = {
        "whole.mp3": encoded("mp3", "libmp3lame"),
        "whole.m4a": encoded("mp4", "aac", movflags="faststart"),
        # Raw AAC: the length is guessed from the quiet start's bitrate (far too long); no verdict.
        "quiet.aac": encoded("adts", "aac", seconds=60, quiet_first=20),
        "short.wav": _half(wav_bytes(40.0)),  # a WAV's length is measured from its data
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    # Ogg Vorbis of a steady tone: pages last seconds, so a seek lands well before its target.
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", str(tmp_path / "tone.ogg"), "synth", "12", "sine", "300"],
                   check=True)
    for path in sorted(tmp_path.iterdir()):
        assert probe_audio(path).duration > 0, path.name


def test_an_mp3_states_its_length_only_with_a_xing_frame(tmp_path):
    from earmark.jobs.asr import _states_length

    with_xing, without = tmp_path / "xing.mp3", tmp_path / "plain.mp3"
    with_xing.write_bytes(encoded("mp3", "libmp3lame"))  # the muxer writes an ID3v2 tag, then Xing/Info
    without.write_bytes(_half(encoded("mp3", "libmp3lame", write_xing="0")))
    assert _states_length(with_xing, {"mp3"}) and not _states_length(without, {"mp3"})
    # without it ffmpeg's length is a bitrate guess (a VBR file with a quiet start "lasts" far longer):
    # no verdict, the file is transcribed for what it holds
    assert probe_audio(without).duration > 0
