"""`earmark summary EPISODE_ID [--json] [--refresh]`: the episode's AI summary and key takeaways."""

import typer
from rich.markup import escape

from earmark.cli.app import JSON_OPTION, app, console, open_library, print_json
from earmark.cli.understanding_common import stored_or_compute


@app.command()
def summary(
    episode_id: int = typer.Argument(..., help="An episode's ID from `earmark episodes`."),
    json_out: bool = JSON_OPTION,
    refresh: bool = typer.Option(False, "--refresh", help="Compute it again even if one is stored."),
) -> None:
    """Show an episode's summary and key takeaways (computed now if not stored yet)."""
    settings, library = open_library()
    result = stored_or_compute("summary", settings, library, episode_id, refresh=refresh)
    if json_out:
        print_json(result)
        return
    for paragraph in result.paragraphs:
        console.print(escape(paragraph) + "\n", highlight=False)
    console.print("[bold]Key takeaways[/]")
    for item in result.takeaways:
        console.print(f" • {escape(item)}", highlight=False)
    made = result.provenance
    console.print(f"\n[dim]{escape(made.engine or '')} · {escape(made.model or '')} · {escape(made.prompt_version or '')}[/]")
