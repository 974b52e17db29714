"""The durable job pipeline: stages (download → transcript) that compute without touching the
store, and the runner and workers that record their progress and results."""

from earmark.jobs.asr import AudioError, probe_audio, transcribe_chunks
from earmark.jobs.download import download_audio
from earmark.jobs.publisher import publisher_transcript
from earmark.jobs.runner import Cancelled, Pipeline, ProgressEvent
from earmark.jobs.worker import Workers

__all__ = [
    "AudioError",
    "Cancelled",
    "Pipeline",
    "ProgressEvent",
    "Workers",
    "download_audio",
    "probe_audio",
    "publisher_transcript",
    "transcribe_chunks",
]
