"""`earmark jobs`: the processing queue and recent jobs, with each stage's state."""

from rich.markup import escape
from rich.table import Table

from earmark.cli.app import JSON_OPTION, app, console, open_library, print_json
from earmark.store.jobs import JobStore


@app.command()
def jobs(json: bool = JSON_OPTION) -> None:
    """List queued, running and recent jobs."""
    settings, library = open_library()
    store = JobStore(library)
    store.recover(settings.job_max_attempts)  # a job whose process was killed is queued again, not shown running
    listed = store.list()
    if json:
        print_json(listed)
        return
    table = Table("ID", "Episode", "State", "Stage", "Progress", "Worker", "Error")
    for job in listed:
        # The worker of the stage running (or last run): `earmark worker`'s name, or "–" for this machine.
        worker = next((s.worker for s in job.stages if s.name == job.stage), None)
        table.add_row(
            str(job.id), str(job.episode_id), job.state, job.stage or "–", f"{job.progress:.0f}%", escape(worker or "–"),
            escape(job.error or ""),
        )
    console.print(table)
