from rich.markup import escape
from rich.table import Table

from earmark.cli.app import JSON_OPTION, app, console, open_library, print_json, when


@app.command()
def podcasts(json: bool = JSON_OPTION) -> None:
    """List your subscriptions."""
    _, library = open_library()
    items = library.podcasts()
    if json:
        print_json(items)
        return
    if not items:
        console.print("No subscriptions yet: [bold]earmark add URL[/] or [bold]earmark opml import FILE[/].")
        return
    table = Table("ID", "Title", "Episodes", "Last checked", "Status")
    for p in items:
        # Titles and errors come from feeds and servers: escaped so "[...]" is not read as markup.
        status = "[green]ok[/]" if p.status == "ok" else f"[red]{p.status}[/]: {escape(p.error)}" if p.error else p.status
        table.add_row(str(p.id), escape(p.title), str(p.episode_count), when(p.last_checked), status)
    console.print(table)
