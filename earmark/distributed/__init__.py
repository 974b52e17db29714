"""Processing on a pool of machines: the pipeline's compute steps as Celery tasks (tasks.py) that
`earmark worker`s run, Redis as broker and result backend (app.py), the records that cross it
(codec.py) and a worker's copy of the audio (audio.py). The server's side is earmark/jobs/remote.py.
Off unless ``broker_url`` is set."""
