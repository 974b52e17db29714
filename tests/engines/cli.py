"""``python -m tests.engines.cli ARGS``: the Earmark CLI with the test engines registered (the
"fake" ASR and LLM of tests/engines), for tests and benchmarks that run Earmark in a child process
with ``asr_engine = "fake"`` or ``llm_engine = "fake"`` in its settings.toml. Run it from the
repository root (``cwd=REPO``) so ``tests`` is importable."""

from tests.engines import fake_asr  # noqa: F401  (registration: each engine with the environment's settings)
from tests.engines.fake_llm import FakeLLMProvider

if __name__ == "__main__":
    from earmark.cli import main

    FakeLLMProvider().install()  # one fake LLM for the whole process

    main()
