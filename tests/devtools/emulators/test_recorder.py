"""The request log every emulator keeps, read by tests on another thread."""

from __future__ import annotations

import json
import threading

import pytest

from devtools.emulators.recorder import Recorder


def test_first_outcome_wins_and_later_ones_are_ignored() -> None:
    record = Recorder().start("/chat", "model", "key")
    record.finish("completed")
    record.mark_disconnected()
    assert (record.outcome, record.client_disconnected) == ("completed", True)


def test_wait_finished_returns_once_another_thread_finishes_the_record() -> None:
    record = Recorder().start("/chat", "model", "key")
    finisher = threading.Timer(0.05, record.finish, args=("completed",))
    finisher.start()
    assert record.wait_finished(timeout=5).outcome == "completed"
    finisher.join()


def test_wait_finished_names_the_record_that_never_finished() -> None:
    record = Recorder().start("/chat", "model", "key")
    with pytest.raises(TimeoutError, match=rf"request {record.id} still 'open'"):
        record.wait_finished(timeout=0.01)


def test_admin_form_is_json_and_leaves_out_the_wait_handle() -> None:
    recorder = Recorder()
    recorder.start("/chat", "model", "key", body={"messages": []}).finish("completed")
    document = json.loads(json.dumps(recorder.as_dict()))
    (request,) = document["requests"]
    assert request["outcome"] == "completed" and request["body"] == {"messages": []}
    assert not any(name.startswith("_") for name in request)
