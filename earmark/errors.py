"""Errors users can catch. They subclass builtins so callers may catch either; the CLI and web
edges turn them into messages."""


class EarmarkError(Exception):
    """Base of every error Earmark raises on purpose."""


class ConfigError(EarmarkError, ValueError):
    """A setting is wrong."""


class FeedError(EarmarkError, ValueError):
    """A feed could not be fetched or understood. The message says what and where."""


class FetchError(FeedError):
    """The feed's host could not be reached or answered with an error."""


class DownloadError(EarmarkError, OSError):
    """An episode's audio could not be downloaded completely."""

    retryable = True  # a network failure may pass: the pipeline tries again


class DiskFullError(DownloadError):
    """No space left where the download is written. Trying again at once cannot help; the
    partial file is deleted, so its space is free again."""

    retryable = False


class NotFound(EarmarkError, LookupError):
    """No podcast / episode with that id."""


class OPMLError(EarmarkError, ValueError):
    """An OPML file could not be read."""


class TranscriptError(EarmarkError, ValueError):
    """A transcript document could not be read. The message says what is wrong with it."""


class ChaptersError(EarmarkError, ValueError):
    """A chapters document could not be read."""


class AudioError(EarmarkError, ValueError):
    """An audio file could not be read (missing, empty, corrupt, not audio, unsupported codec).
    The message names the file."""


class LLMError(EarmarkError, RuntimeError):
    """A language model could not answer (engine failed to load, endpoint refused or errored,
    timed out, prompt too long). The message says which engine/endpoint and why. (Answers that are
    not valid JSON are returned as text; the task layer validates and retries.)"""
