"""The API contract, fuzzed: schemathesis reads the app's own /openapi.json and runs every check
against the app under uvicorn — first stateful (following the document's links from the lists to
the ids they hold: podcast → episodes → snips), then examples, coverage and fuzzing of each
operation. Any undocumented status, schema-valid request refused, response off its schema, 5xx or
405 without a right Allow header fails the test. tests/web/contract/schemathesis.toml lists the few
rules a schema cannot express. Seed: EARMARK_CONTRACT_SEED (default 1); examples per operation:
EARMARK_CONTRACT_EXAMPLES (default 25); seconds per phase: EARMARK_CONTRACT_SECONDS (default 45)."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from pathlib import Path

from earmark.models import ChapterMark, EpisodeChapters, Segment, Summary, Transcript
from earmark.snips import create_snip
from earmark.store.transcripts import TranscriptStore
from earmark.store.understanding import UnderstandingStore
from tests.directory.conftest import KEY, SECRET, catalogue
from tests.directory.stub import DirectoryStub
from tests.web.conftest import serving

CONFIG = Path(__file__).parent / "contract" / "schemathesis.toml"
SEGMENTS = [
    Segment(0.0, 10.0, "Welcome to the show about bridges.", "Ann"),
    Segment(10.0, 20.0, "Bridges sway because of vortex shedding in the wind.", "Ben"),
    Segment(20.0, 30.0, "The Tacoma Narrows bridge fell in 1940.", "Ann"),
]


def _seed(app, show) -> None:
    """Every episode with a transcript, one with a summary and chapters, a snip on each."""
    library = app.state.library
    for guid in ("g1", "g2", "g3"):
        TranscriptStore(library).save(show[guid], Transcript(SEGMENTS, source="publisher", format="json"))
        create_snip(library, app.state.settings, show[guid], 15.0)
    understanding = UnderstandingStore(library)
    understanding.save_summary(show["g3"], Summary(["Bridges sway in the wind."], ["Wind moves bridges"], "fake", "m", "summary@1"))
    understanding.save_chapters(
        show["g3"], EpisodeChapters([ChapterMark(0.0, "Welcome", 10.0), ChapterMark(10.0, "Bridges")], "generated", "llm", "fake", "m")
    )


def _run(url: str, cwd: Path, phases: str) -> tuple[int, str]:
    command = [
        str(Path(sys.executable).parent / "st"), "--config-file", str(CONFIG), "run", f"{url}/openapi.json",
        "--checks", "all", "--phases", phases, "--continue-on-failure", "--no-color",
        "-n", os.environ.get("EARMARK_CONTRACT_EXAMPLES", "25"), "--seed", os.environ.get("EARMARK_CONTRACT_SEED", "1"),
        "--request-timeout", "20", "--max-time", os.environ.get("EARMARK_CONTRACT_SECONDS", "45"),
    ]
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)
    (cwd / f"{phases}.txt").write_text(done.stdout + done.stderr)
    if dump := os.environ.get("EARMARK_CONTRACT_DUMP"):  # the whole report, to read after a run
        Path(dump, f"{phases}.txt").write_text(done.stdout + done.stderr)
    return done.returncode, done.stdout + done.stderr


def test_the_api_keeps_its_contract(app, show, tmp_path):
    _seed(app, show)
    # The podcast directories (/api/v1/directory/…) are a stub on 127.0.0.1 answering their documented shapes.
    directories = DirectoryStub(catalogue())
    app.state.settings = dataclasses.replace(
        app.state.settings, itunes_base_url=directories.base, podcastindex_base_url=directories.pi_base,
        podcastindex_key=KEY, podcastindex_secret=SECRET,
    )
    with serving(app) as url:
        # Stateful first: the fuzzing phase deletes podcasts and snips the links start from.
        try:
            results = [_run(url, tmp_path, "stateful"), _run(url, tmp_path, "examples,coverage,fuzzing")]
        finally:
            directories.close()
    for code, output in results:
        summary = output[output.rfind("SUMMARY"):]
        print(summary)
        failures = output[output.find("FAILURES"):output.find("WARNINGS")] if "FAILURES" in output else output
        assert code == 0, failures[:20000] + summary
        assert re.search(r"Tested: (\d+)", summary) and "Failures:" not in summary, summary
