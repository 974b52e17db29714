"""Markdown / Obsidian: one file per episode, ``<Podcast> - <Episode>.md`` in a chosen folder.

A file Earmark creates holds YAML front matter and Earmark's marked block::

    ---
    podcast: "…"
    episode: "…"
    date: 2024-05-01
    url: "…"
    tags: ["…"]
    ---

    <!-- earmark:begin episode=5 -->
    <!-- earmark:snip id=12 -->
    …
    <!-- earmark:snip-end id=12 -->
    <!-- earmark:end -->

On re-export only the marked block is rewritten (snips in listening order, each between its own
markers, so an edited snip changes in place, a new one appears, a deleted one goes) and, in the
front matter, only the lines of Earmark's own keys (podcast, episode, date, url, tags). Everything
else — text before or after the block, other front matter keys — is kept byte for byte. Files are
written atomically (temporary file + ``os.replace``) and only when their text changed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from earmark.config import Settings
from earmark.export import (
    ExportError,
    ExportReport,
    ExportState,
    content_hash,
    episode_url,
    exported_groups,
    state_target,
    timestamp_link,
)
from earmark.models import Episode, Podcast, Snip
from earmark.store.library import OWNER_ID, Library
from earmark.transcripts.timecode import format_clock

TARGET = "markdown"
BEGIN = re.compile(r"<!-- earmark:begin(?: episode=(\d+))? -->")
END = "<!-- earmark:end -->"
KEYS = ("podcast", "episode", "date", "url", "tags")
_FORBIDDEN = re.compile(r'[<>:"/\\|?*#^\[\]\x00-\x1f\x7f]')  # not allowed in file names or Obsidian links
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
MAX_NAME_BYTES = 200  # file systems allow 255; leaves room for " (123).md"


# -- names and YAML -------------------------------------------------------------------------------


def safe_name(text: str) -> str:
    name = re.sub(r"\s+", " ", _FORBIDDEN.sub(" ", text)).strip().strip(".").strip()
    while len(name.encode("utf-8")) > MAX_NAME_BYTES:
        name = name[:-1]
    name = name.rstrip(" .")
    if not name:
        return "Untitled"
    if name.split(".")[0].upper() in _RESERVED:
        name += "_"
    return name


def file_name(podcast: Podcast, episode: Episode) -> str:
    return safe_name(f"{podcast.title or 'Podcast'} - {episode.title or 'Episode'}") + ".md"


def yaml_str(text: str) -> str:
    """A YAML double-quoted scalar: JSON's escaping, plus ``\\uXXXX`` for characters YAML treats
    as line breaks or does not allow (U+0085, U+2028, …)."""
    quoted = json.dumps(text, ensure_ascii=False)
    return "".join(c if c.isprintable() or c == " " else f"\\u{ord(c):04x}" for c in quoted)


def front_matter_values(podcast: Podcast, episode: Episode, snips: list[Snip]) -> dict[str, str]:
    values = {"podcast": yaml_str(podcast.title or ""), "episode": yaml_str(episode.title or "")}
    if episode.published:
        values["date"] = episode.published.date().isoformat()
    if episode_url(episode):
        values["url"] = yaml_str(episode_url(episode))
    tags = sorted({tag for snip in snips for tag in snip.tags})
    values["tags"] = "[" + ", ".join(yaml_str(tag) for tag in tags) + "]"
    return values


def update_front_matter(text: str, values: dict[str, str]) -> str:
    """Only Earmark's keys' lines change (a key's continuation lines go with it); the rest stays."""
    newline = "\r\n" if text.startswith("---\r\n") else "\n"
    if not text.startswith("---" + newline):
        return text  # the user removed the front matter: leave the file's head as it is
    body_start = 3 + len(newline)
    close = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE).search(text, body_start)
    if close is None:
        return text
    lines = text[body_start : close.start()].splitlines(keepends=True)
    out, seen, i = [], set(), 0
    while i < len(lines):
        match = re.match(r"([A-Za-z_][\w-]*)[ \t]*:", lines[i])
        if match and match.group(1) in values and match.group(1) not in seen:
            key = match.group(1)
            seen.add(key)
            out.append(f"{key}: {values[key]}{newline}")
            i += 1
            while i < len(lines) and lines[i].startswith((" ", "\t", "- ")):
                i += 1  # the old value's continuation (block list items, folded text)
            continue
        out.append(lines[i])
        i += 1
    if out and not out[-1].endswith("\n"):
        out[-1] += newline
    out += [f"{key}: {values[key]}{newline}" for key in KEYS if key in values and key not in seen]
    return text[:body_start] + "".join(out) + text[close.start() :]


# -- rendering ------------------------------------------------------------------------------------


def _clean(text: str) -> str:
    """Text from users and the LLM may not open an HTML comment that could fake a marker."""
    return (text or "").replace("<!--", "&lt;!--").replace("\r\n", "\n").strip()


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", _clean(text))


def _quoted(text: str) -> str:
    return "\n".join(f"> {line}".rstrip() for line in _clean(text).split("\n"))


def render_snip(snip: Snip, base_url: str) -> str:
    link = timestamp_link(base_url, snip)
    span = f"{format_clock(snip.start)}–{format_clock(snip.end)}"
    title = _one_line(snip.title) or f"Snip at {format_clock(snip.start)}"
    parts = [f"<!-- earmark:snip id={snip.id} -->", f"### {title}", ""]
    if snip.quote.strip():
        quote = _quoted(f"“{snip.quote.strip()}”")
        if snip.quote_speaker:
            quote += f"\n> — {_one_line(snip.quote_speaker)}"
        parts += [quote, ""]
    if snip.takeaways:
        parts += ["**Takeaways**", "", *(f"- {_one_line(t)}" for t in snip.takeaways if t.strip()), ""]
    if snip.excerpt.strip():
        parts += [f"**Transcript** ({span})", "", _quoted(snip.excerpt), ""]
    if snip.note.strip():
        parts += ["**Note**", "", _clean(snip.note), ""]
    footer = f"[▶ Play from {format_clock(snip.start)} in Earmark]({link})"
    if snip.tags:
        footer += " · " + " ".join("#" + re.sub(r"\s+", "-", _one_line(tag)) for tag in snip.tags)
    parts += [footer, f"<!-- earmark:snip-end id={snip.id} -->"]
    return "\n".join(parts)


def render_block(episode: Episode, sections: list[str]) -> str:
    body = "\n\n".join(sections)
    return (
        f"<!-- earmark:begin episode={episode.id} -->\n"
        "<!-- Earmark rewrites this block on export; write your own notes above or below it. -->\n"
        + (f"\n{body}\n" if body else "")
        + END
    )


def new_file(values: dict[str, str], block: str) -> str:
    head = "".join(f"{key}: {values[key]}\n" for key in KEYS if key in values)
    return f"---\n{head}---\n\n{block}\n"


def replace_block(text: str, block: str) -> str:
    begin = BEGIN.search(text)
    if begin is None:  # markers removed by the user: add a fresh block at the end, keep all text
        return text + ("" if text.endswith("\n") or not text else "\n") + "\n" + block + "\n"
    end = text.find(END, begin.end())
    if end < 0:
        raise ExportError("Earmark's block has a begin marker but no end marker; fix or remove the marker")
    return text[: begin.start()] + block + text[end + len(END) :]


def write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(text.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        if path.exists():
            shutil.copymode(path, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- export ---------------------------------------------------------------------------------------


def _owner(path: Path) -> int | None:
    """The episode id in an existing file's begin marker (None: no marker / not ours)."""
    try:
        match = BEGIN.search(path.read_bytes().decode("utf-8", errors="replace"))
    except OSError:
        return None
    return int(match.group(1)) if match and match.group(1) else None


def _path_for(directory: Path, podcast: Podcast, episode: Episode, state: ExportState) -> Path:
    known = state.get(f"episode:{episode.id}")
    if known and known.remote_id:
        remembered = Path(known.remote_id)
        if remembered.parent == directory and remembered.exists():
            return remembered  # keeps its name when a title changes, or after the user renamed nothing
    path = directory / file_name(podcast, episode)
    if path.exists() and _owner(path) not in (None, episode.id):
        path = path.with_name(f"{path.stem} ({episode.id}).md")  # two episodes with the same title
    return path


def export_markdown(library: Library, settings: Settings, directory: Path | str, *, user_id: int = OWNER_ID) -> ExportReport:
    """``user_id``'s snips, a file per episode in ``directory``."""
    directory = Path(directory).expanduser().resolve()
    directory.mkdir(parents=True, exist_ok=True)
    state = ExportState(library, state_target(TARGET, user_id))
    report = ExportReport(TARGET)
    # Episodes exported before whose snips are all gone get their blocks emptied; one no longer in
    # the library is forgotten (its file stays the user's).
    groups = exported_groups(library, state, user_id, on_missing=state.forget)
    known_snips = state.all("snip:")
    for episode_id in sorted(groups):
        podcast, episode, items = groups[episode_id]
        path = _path_for(directory, podcast, episode, state)
        sections = [render_snip(snip, settings.public_base_url) for snip in items]
        block = render_block(episode, sections)
        values = front_matter_values(podcast, episode, items)
        try:
            if path.exists():
                old = path.read_bytes().decode("utf-8")
                text = update_front_matter(replace_block(old, block), values)
                action = "unchanged" if text == old else "updated"
            else:
                old, text, action = None, new_file(values, block), "created"
            if action != "unchanged":
                write_atomic(path, text)
        except (OSError, UnicodeDecodeError, ExportError) as exc:
            report.error = f"{path}: {exc}"
            continue
        report.containers[str(path)] = action
        state.put(f"episode:{episode_id}", content_hash(block), str(path))
        present = set()
        for snip, section in zip(items, sections):
            key = f"snip:{snip.id}"
            present.add(key)
            digest = content_hash(section)
            previous = known_snips.get(key)
            if previous is None or previous.remote_id != str(path):
                report.created.append(key)
            elif previous.content_hash != digest:
                report.updated.append(key)
            else:
                report.skipped.append(key)
            state.put(key, digest, str(path))
        for key, previous in known_snips.items():
            if previous.remote_id == str(path) and key not in present:
                report.deleted.append(key)
                state.forget(key)
    return report
