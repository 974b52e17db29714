import typer

from earmark.cli.app import app, console


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8321, help="Port to listen on."),
) -> None:
    """Start the Earmark player in your browser (http://127.0.0.1:8321)."""
    import uvicorn

    from earmark.web.app import create_app

    console.print(f"Earmark is playing at [bold]http://{host}:{port}[/]  (Ctrl+C to stop)")
    uvicorn.run(create_app(), host=host, port=port, log_level="warning")
