"""Typed records to JSON-ready data and back, for what crosses the broker (JSON only, app.py):
``dump`` any record or list of records; ``load(cls, data)`` rebuilds it, nested records included;
vectors travel as base64 float32."""

from __future__ import annotations

import base64
import dataclasses
from typing import Any, TypeVar

import numpy as np

from earmark.models import ChapterMark, EpisodeChapters, Segment, Transcript, Word, as_dict

T = TypeVar("T")

# Fields that hold records: rebuilt as that type (the rest are plain JSON values).
NESTED: dict[type, dict[str, type]] = {
    Segment: {"words": Word},
    Transcript: {"segments": Segment},
    EpisodeChapters: {"chapters": ChapterMark},
}


def dump(value: Any) -> Any:
    if isinstance(value, list):
        return [dump(v) for v in value]
    if dataclasses.is_dataclass(value):
        return as_dict(value)
    return value


def load(cls: type[T], data: dict) -> T:
    fields = {f.name for f in dataclasses.fields(cls)}
    values = {k: v for k, v in data.items() if k in fields}
    for name, inner in NESTED.get(cls, {}).items():
        if values.get(name) is not None:
            values[name] = [load(inner, item) for item in values[name]]
    return cls(**values)


def load_list(cls: type[T], data: list[dict]) -> list[T]:
    return [load(cls, item) for item in data]


def dump_vectors(vectors: np.ndarray) -> dict:
    array = np.ascontiguousarray(vectors, dtype=np.float32)
    return {"shape": list(array.shape), "data": base64.b64encode(array.tobytes()).decode("ascii")}


def load_vectors(data: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(data["data"]), dtype=np.float32).reshape(data["shape"]).copy()
