"""`earmark transcript EPISODE_ID [--format txt|srt|vtt|json]`: print a stored transcript."""

import sys

import typer

from earmark.cli.app import app, open_library
from earmark.errors import NotFound
from earmark.store.transcripts import TranscriptStore
from earmark.transcripts import write_transcript

FORMATS = {"txt": "text", "text": "text", "srt": "srt", "vtt": "vtt", "json": "json"}


@app.command()
def transcript(
    episode_id: int = typer.Argument(..., help="An episode's ID from `earmark episodes`."),
    format: str = typer.Option("txt", "--format", "-f", help="txt, srt, vtt or json (Podcasting 2.0)."),
) -> None:
    """Print an episode's transcript (run `earmark process` first)."""
    if format not in FORMATS:
        raise typer.BadParameter(f"choose from {', '.join(sorted(set(FORMATS) - {'text'}))}", param_hint="--format")
    _settings, library = open_library()
    library.episode(episode_id)
    stored = TranscriptStore(library).get(episode_id)
    if stored is None:
        raise NotFound(f"episode {episode_id} has no transcript yet; run `earmark process {episode_id} --wait`")
    sys.stdout.write(write_transcript(stored, FORMATS[format]))
