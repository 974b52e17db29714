"""The background snip enricher: one daemon thread with its own library connection, running the
snip job's stages (earmark/jobs/snip_stages.py) through its runner (snip_runner.py). The store is
the queue: every snip in state ``pending`` is work, so nothing is lost on a crash or restart — on
start, every pending snip (even one waiting for a transcript) is looked at again. Each pass also
re-snaps snips whose episode's full transcript landed after they were written.

``notify()`` (snips/wake.py; called by create_snip) wakes the enrichers running in this process; otherwise they
look again every ``poll`` seconds.
"""

from __future__ import annotations

import logging
import threading

from earmark.ai.asr import ASREngine
from earmark.ai.llm import LLMEngine, get_llm
from earmark.config import Settings
from earmark.errors import EarmarkError
from earmark.jobs.snip_runner import SnipRunner
from earmark.snips.service import pending_snips, snips_to_resnap
from earmark.snips.wake import notify, register, unregister
from earmark.store.library import Library

log = logging.getLogger(__name__)


def run_once(
    library: Library,
    settings: Settings,
    *,
    llm: LLMEngine | None = None,
    asr: ASREngine | None = None,
    include_waiting: bool = False,
) -> int:
    """One pass: enrich the pending snips, then re-snap those the full transcript overtook.
    Returns how many snips it worked on. Runs inline in tests and the CLI's --wait. One runner for
    the pass: the engines it loads serve every snip of it."""
    done = 0
    runner = SnipRunner(library, settings, llm=llm, asr=asr)
    for snip_id in pending_snips(library, include_waiting=include_waiting):
        try:
            runner.enrich(snip_id)
        except EarmarkError as exc:  # e.g. the snip or its episode was deleted meanwhile
            log.info("snip %s: %s", snip_id, exc)
        done += 1
    for snip_id in snips_to_resnap(library):
        try:
            runner.resnap(snip_id)
        except EarmarkError as exc:
            log.info("snip %s: %s", snip_id, exc)
        done += 1
    return done



class Enricher:
    def __init__(self, settings: Settings, *, poll: float = 2.0, llm: LLMEngine | None = None,
                 asr: ASREngine | None = None):
        self.settings = settings
        self.poll = poll
        self._llm = llm  # built once, on first need, and kept (loading a model is slow)
        self.asr = asr
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="earmark-snips", daemon=True)
        register(self)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        self._wake.set()
        unregister(self)
        if self._thread is not None:
            self._thread.join(timeout)

    def _engine(self) -> LLMEngine | None:
        if self._llm is None:
            try:
                self._llm = get_llm(self.settings)
            except EarmarkError as exc:  # the card stage calls get_llm again and records the reason
                log.warning("snip cards: no language model: %s", exc)
                return None
        return self._llm

    def _loop(self) -> None:
        library = Library(self.settings.db_path)
        first = True
        try:
            while not self._stop.is_set():
                self._wake.clear()
                try:
                    worked = run_once(library, self.settings, llm=self._engine(), asr=self.asr,
                                      include_waiting=first)
                except Exception:  # a bug must not kill the thread
                    log.exception("snip enrichment pass failed")
                    worked = 0
                first = False
                if not worked:
                    self._wake.wait(self.poll)
        finally:
            library.close()


__all__ = ["Enricher", "notify", "run_once"]  # notify lives in snips/wake.py; imported from here as before
