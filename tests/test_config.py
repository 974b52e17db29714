import pytest

from earmark.config import Settings
from earmark.errors import ConfigError


def test_home_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("EARMARK_HOME", str(tmp_path))
    settings = Settings.load()
    assert settings.home == tmp_path
    assert settings.db_path == tmp_path / "library.sqlite3"
    assert settings.downloads_dir == tmp_path / "downloads"


def test_settings_toml_overrides_defaults(tmp_path):
    (tmp_path / "settings.toml").write_text('refresh_concurrency = 3\ndownloads_dir = "/srv/pods"\n')
    settings = Settings.load(tmp_path)
    assert settings.refresh_concurrency == 3
    assert str(settings.downloads_dir) == "/srv/pods"


@pytest.mark.parametrize("text, message", [("bogus = 1\n", "unknown setting"), ("x = [\n", "settings.toml")])
def test_bad_settings_file_is_a_clear_error(tmp_path, text, message):
    (tmp_path / "settings.toml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        Settings.load(tmp_path)


@pytest.mark.parametrize("text, message", [
    ('snip_boundary = "fixed:31"\n', "fixed:30, fixed:60, fixed:90, fixed:120"),
    ('snip_boundary = "sometimes"\n', "snip_boundary"),
    ('allowed_hosts = "podcasts.lan"\n', "allowed_hosts must be a list"),
    ('block_private_hosts = "yes"\n', "block_private_hosts must be true or false"),
    ('asr_beam_size = 0\n', "asr_beam_size must be a whole number"),
    ('asr_beam_size = "5"\n', "asr_beam_size must be a whole number"),
    ('asr_threads = -1\n', "asr_threads must be a whole number, 0 or more"),
    ('asr_windows = 1.5\n', "asr_windows must be a whole number, 0 or more"),
    ('llm_slots = 0\n', "llm_slots must be a whole number, 1 or more"),
    ('llm_lookup = -1\n', "llm_lookup must be a whole number, 0 or more"),
    ('asr_device = "gpu"\n', 'asr_device must be "cpu", "cuda" or "auto"'),
    ('broker_url = "amqp://host//"\n', "broker_url must be a Redis URL"),
    ('broker_jobs = 0\n', "broker_jobs must be a whole number, 1 or more"),
])
def test_values_outside_the_documented_ones_are_refused(tmp_path, text, message):
    (tmp_path / "settings.toml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        Settings.load(tmp_path)


def test_documented_values_load(tmp_path):
    (tmp_path / "settings.toml").write_text('snip_boundary = "fixed:90"\nallowed_hosts = ["Podcasts.Home.Lan"]\n'
                                            'asr_beam_size = 1\nasr_threads = 3\nasr_windows = 1\nllm_slots = 2\n')
    settings = Settings.load(tmp_path)
    assert settings.snip_boundary == "fixed:90" and settings.allowed_hosts == ("podcasts.home.lan",)
    assert settings.llm_slots == 2
    from earmark.ai.asr import get_asr

    engine = get_asr(settings)
    assert engine.transcribe_options("en")["beam_size"] == 1 and engine.cpu_threads == 3 and engine.parallel == 1
    # by default as many windows at once as the cores hold at the default threads each (2 on 2 cores)
    from earmark.ai.gate import cpu_count
    from earmark.engines.faster_whisper import default_threads

    assert get_asr(Settings(home=tmp_path)).parallel == max(1, cpu_count() // default_threads())
