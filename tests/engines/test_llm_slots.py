"""The llama.cpp engine's slots, around a stand-in for xllamacpp's server: independent calls run
together, in order, never more of them at once than the slots or the shared context hold."""

from __future__ import annotations

import threading
import time

from earmark.ai.llm import Message, Request, complete_all
from earmark.config import Settings
from earmark.engines.llama_cpp import LlamaCppEngine, estimate_tokens


class Server:
    """Answers each call with its prompt's last word after a short wait; records how many calls
    and how many tokens were under way at once."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = self.most = 0
        self.tokens = self.most_tokens = 0

    def handle_chat_completions(self, body: dict) -> dict:
        need = estimate_tokens("".join(m["content"] for m in body["messages"])) + body["max_tokens"]
        with self.lock:
            self.running += 1
            self.tokens += need
            self.most, self.most_tokens = max(self.most, self.running), max(self.most_tokens, self.tokens)
        time.sleep(0.05)
        with self.lock:
            self.running -= 1
            self.tokens -= need
        word = body["messages"][-1]["content"].split()[-1]
        return {"choices": [{"message": {"content": word}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": need, "completion_tokens": 1}}


def _engine(tmp_path, **settings) -> tuple[LlamaCppEngine, Server]:
    engine = LlamaCppEngine(Settings(home=tmp_path, **settings))
    engine._server = server = Server()  # loaded: load() leaves it be
    return engine, server


def test_independent_calls_run_on_every_slot_and_come_back_in_order(tmp_path):
    engine, server = _engine(tmp_path, llm_slots=4)
    answers = complete_all(engine, [Request([Message("user", f"say w{n}")], max_tokens=8) for n in range(10)])
    assert [a.text for a in answers] == [f"w{n}" for n in range(10)]
    assert server.most == 4


def test_calls_under_way_at_once_fit_the_shared_context(tmp_path):
    engine, server = _engine(tmp_path, llm_slots=4, llm_context=2048)
    long = "word " * 1200  # about 1,700 tokens by the engine's estimate, with its answer
    answers = complete_all(engine, [Request([Message("user", long + f"w{n}")], max_tokens=80) for n in range(3)])
    assert [a.text for a in answers] == ["w0", "w1", "w2"]
    assert server.most == 1 and server.most_tokens <= 2048


def test_one_slot_answers_one_call_at_a_time(tmp_path):
    engine, server = _engine(tmp_path, llm_slots=1)
    complete_all(engine, [Request([Message("user", f"say w{n}")], max_tokens=8) for n in range(3)])
    assert server.most == 1
