import sys

from thoughts_common import metrics, uwsgi_runtime


def test_outside_uwsgi_there_is_no_module(monkeypatch):
    monkeypatch.delitem(sys.modules, "uwsgi", raising=False)
    assert uwsgi_runtime.module() is None


def test_a_folder_named_uwsgi_on_the_path_is_not_uwsgi(monkeypatch, tmp_path):
    # As common/uwsgi/ (the shared ini) is when Python runs from common/.
    (tmp_path / "uwsgi").mkdir()
    (tmp_path / "uwsgi" / "base.ini").write_text("[uwsgi]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "uwsgi", raising=False)
    assert uwsgi_runtime.module() is None
    # It used to raise AttributeError here ('uwsgi' has no attribute 'worker_id').
    assert metrics._in_uwsgi_worker() is False
