"""The llama.cpp engine's slots, around a stand-in for xllamacpp's server: independent calls run
together, in order, never more of them at once than there are slots."""

from __future__ import annotations

import threading
import time

from earmark.ai.llm import Message, Request, complete_all
from earmark.config import Settings
from earmark.engines.llama_cpp import LlamaCppEngine


class Server:
    """Answers each call with its prompt's last word after a short wait; records how many calls
    were under way at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = self.most = 0

    def handle_chat_completions(self, body: dict) -> dict:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.05)
        with self.lock:
            self.running -= 1
        word = body["messages"][-1]["content"].split()[-1]
        return {"choices": [{"message": {"content": word}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 10, "completion_tokens": 1}}


def _engine(tmp_path, **settings) -> tuple[LlamaCppEngine, Server]:
    engine = LlamaCppEngine(Settings(home=tmp_path, **settings))
    engine._server = server = Server()  # loaded: load() leaves it be
    return engine, server


def test_independent_calls_run_on_every_slot_and_come_back_in_order(tmp_path):
    engine, server = _engine(tmp_path, llm_slots=4)
    answers = complete_all(engine, [Request([Message("user", f"say w{n}")], max_tokens=8) for n in range(10)])
    assert [a.text for a in answers] == [f"w{n}" for n in range(10)]
    assert server.most == 4


def test_a_listener_s_request_goes_ahead_between_waves(tmp_path):
    """Each wave of calls is one turn at the compute gate, not the whole batch."""
    from earmark.ai.gate import COMPUTE

    engine, server = _engine(tmp_path, llm_slots=2)
    turns = []
    held = COMPUTE.held

    def counting(*args, **kwargs):
        turns.append(1)
        return held(*args, **kwargs)

    COMPUTE.held = counting
    try:
        complete_all(engine, [Request([Message("user", f"say w{n}")], max_tokens=8) for n in range(5)])
    finally:
        COMPUTE.held = held
    assert len(turns) == 3 and server.most == 2


def test_one_slot_answers_one_call_at_a_time(tmp_path):
    engine, server = _engine(tmp_path, llm_slots=1)
    complete_all(engine, [Request([Message("user", f"say w{n}")], max_tokens=8) for n in range(3)])
    assert server.most == 1
