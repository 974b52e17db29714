"""`earmark upload FILE…`: add your own audio files as episodes of "My uploads" (or --podcast NAME)."""

from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from earmark.cli.app import JSON_OPTION, app, console, err_console, open_library, print_json
from earmark.errors import EarmarkError
from earmark.models import as_dict
from earmark.uploads import import_file


@app.command()
def upload(
    files: list[Path] = typer.Argument(..., help="Audio files: MP3, M4A/AAC, Opus/Ogg, FLAC or WAV."),
    podcast: str | None = typer.Option(None, "--podcast", "-p", help='Add them to this podcast (default: "My uploads").'),
    json: bool = JSON_OPTION,
) -> None:
    """Add your own audio files; `earmark process ID` then works on them as on any episode."""
    settings, library = open_library()
    results, failed = [], []
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=err_console, disable=json, transient=True) as bar:
        for path in files:
            task = bar.add_task(escape(path.name[:40]), total=None)
            try:
                result = import_file(library, settings, path, podcast=podcast, source="cli",
                                     progress=lambda done, total, task=task: bar.update(task, completed=done, total=total))
            except EarmarkError as exc:  # one bad file does not stop the others
                failed.append({"file": str(path), "error": str(exc)})
                bar.console.print(f"[red]✗[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
                continue
            finally:
                bar.remove_task(task)
            results.append(result)
            if not json:
                e = result.episode
                state = "added" if result.created else "already there"
                console.print(
                    f"[green]✓[/] {escape(path.name)} → episode {e.id}: [bold]{escape(e.title)}[/] ({state}, in {escape(result.podcast.title)})",
                    highlight=False, soft_wrap=True,
                )
    if json:
        print_json({"uploaded": [{"episode": as_dict(r.episode), "podcast_id": r.podcast.id, "created": r.created} for r in results],
                    "failed": failed})
    elif results:
        ids = " ".join(str(r.episode.id) for r in results)
        console.print(f"{len(results)} uploaded, {len(failed)} failed. Transcribe with: earmark process {results[0].episode.id}"
                      + (f"  (ids: {ids})" if len(results) > 1 else ""), highlight=False)
    if failed:
        raise typer.Exit(1)
