"""`earmark ask EPISODE_ID "question" [--json]`: an answer grounded in the transcript, with timestamps."""

import typer
from rich.markup import escape

from earmark.ai.llm import get_llm
from earmark.ai.tasks.ask import ask as ask_episode
from earmark.cli.app import JSON_OPTION, app, console, err_console, open_library, print_json
from earmark.errors import NotFound
from earmark.jobs.understanding import show_notes
from earmark.search.episode import episode_retriever
from earmark.store.transcripts import TranscriptStore
from earmark.transcripts.timecode import format_clock


@app.command()
def ask(
    episode_id: int = typer.Argument(..., help="An episode's ID from `earmark episodes`."),
    question: str = typer.Argument(..., help="What you want to know."),
    json_out: bool = JSON_OPTION,
) -> None:
    """Ask the episode a question; the answer cites the moments it comes from."""
    settings, library = open_library()
    episode = library.episode(episode_id)
    transcript = TranscriptStore(library).get(episode_id)
    if transcript is None:
        raise NotFound(f"episode {episode_id} has no transcript yet; run `earmark process {episode_id} --wait`")
    with err_console.status("Reading the episode…"):
        answer = ask_episode(transcript, question, get_llm(settings), title=episode.title,
                             retriever=episode_retriever(library, episode_id), notes=show_notes(library, episode))
    if json_out:
        print_json(answer)
        return
    console.print(escape(answer.answer), highlight=False)
    for c in answer.citations:
        console.print(f"  [cyan]{format_clock(c.start)}[/] {escape(c.text[:160])}", highlight=False)
