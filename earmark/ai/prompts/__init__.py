"""Prompts live here as files, one per task step, each opening with a small header::

    ---
    version: 3
    ---
    The prompt text, with {placeholders} filled by str.format.

A stored result records ``name@version`` (``Prompt.id``): change a prompt's wording, bump its version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from earmark.errors import ConfigError

_HEADER = re.compile(r"\A---\n(?P<head>.*?)\n---\n", re.S)


@dataclass(frozen=True, slots=True)
class Prompt:
    name: str
    version: str
    text: str

    @property
    def id(self) -> str:
        return f"{self.name}@{self.version}"

    def format(self, **values) -> str:
        return self.text.format(**values)


@cache
def load_prompt(name: str) -> Prompt:
    try:
        raw = resources.files(__package__).joinpath(f"{name}.md").read_text("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"no prompt named {name!r}") from None
    match = _HEADER.match(raw)
    if not match:
        raise ConfigError(f"prompt {name!r} has no '---' header with a version")
    head = dict(
        (k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in match["head"].splitlines()) if k.strip()
    )
    if not head.get("version"):
        raise ConfigError(f"prompt {name!r}: header lacks 'version'")
    return Prompt(name, head["version"], raw[match.end():].strip())
