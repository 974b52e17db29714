"""The one stage table (earmark/jobs/stages.py): built from the store's ordered names, with each
stage's progress weight, and the parts `earmark process --redo` reruns."""

from earmark.jobs import stages
from earmark.store.jobs import STAGES


def test_the_table_follows_the_stores_order_with_each_stages_weight():
    assert tuple(s.name for s in stages.TABLE) == STAGES
    assert STAGES == ("download", "transcript", "speakers", "names", "index", "chapters", "summary", "highlights")
    assert stages.WEIGHTS == {"download": 30.0, "transcript": 65.0, "speakers": 10.0, "names": 2.0, "index": 5.0,
                              "chapters": 6.0, "summary": 8.0, "highlights": 6.0}
    assert all(callable(s.run) and callable(s.due) for s in stages.TABLE)
    assert stages.BY_NAME["download"].due is stages.download_due
    assert all(s.due is stages.not_done for s in stages.TABLE if s.name != "download")


def test_redo_parts():
    assert stages.REDO == {"understanding": ("names", "chapters", "summary", "highlights"), "index": ("index",)}
    assert list(stages.REDO) == ["understanding", "index"]  # as `--redo` lists them
