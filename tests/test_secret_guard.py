"""The secret guard itself: it must fail a run in which a registered secret leaks, and say where, not what."""

from __future__ import annotations

import os
import threading
from typing import Any

import httpx
import pytest

from devtools.local_host import APP_ROOT
from tests.secret_guard import GUARD, ScanResponses, SecretGuard, SecretLeak, register_secret

INNER_SUITE = """
import logging

import httpx
import openai
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from devtools.threaded_server import ThreadedServer
from tests.secret_guard import register_secret

SECRET = register_secret("s3cr3t-" + "value-for-the-guard", "demo secret")


def test_clean():
    logging.getLogger("app").info("nothing to see")


def test_logs_the_secret():
    logging.getLogger("app.deep").debug("connecting with %s", SECRET)


def test_receives_the_secret():
    app = Starlette(routes=[Route("/", lambda request: PlainTextResponse("key=" + SECRET))])
    with ThreadedServer(app) as server:
        httpx.get(server.url + "/")


def test_the_openai_sdk_receives_the_secret():
    async def leaky(request):
        model = {"id": SECRET, "object": "model", "created": 0, "owned_by": "x"}
        return JSONResponse({"object": "list", "data": [model]})

    app = Starlette(routes=[Route("/v1/models", leaky)])
    with ThreadedServer(app) as server, openai.OpenAI(base_url=server.url + "/v1", api_key="unused") as sdk:
        sdk.models.list()


@pytest.fixture
def chatty():
    logging.getLogger("fixture").warning("oops: %s", SECRET)
    yield


def test_leaks_in_a_fixture(chatty):
    pass
"""


def test_a_leak_fails_the_test_that_caused_it(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(APP_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    pytester.makepyfile(test_inner=INNER_SUITE)
    result = pytester.runpytest_subprocess("-p", "tests.secret_guard", "-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1, failed=4)
    output = result.stdout.str()
    assert "FAILED test_inner.py::test_logs_the_secret" in output
    assert "secret 'demo secret' appeared in a log record of 'app.deep' at DEBUG" in output
    assert "FAILED test_inner.py::test_receives_the_secret" in output
    assert "secret 'demo secret' appeared in an HTTP response from GET" in output
    assert "FAILED test_inner.py::test_the_openai_sdk_receives_the_secret" in output
    assert "FAILED test_inner.py::test_leaks_in_a_fixture" in output
    assert "appeared in a log record of 'fixture' at WARNING" in output
    reports = [line for line in output.splitlines() if "SecretLeak" in line]
    assert reports and not any("s3cr3t-value-for-the-guard" in line for line in reports)


def test_the_check_names_the_label_never_the_value() -> None:
    secret = register_secret("guard-self-test-" + "7f3a9c", "self-test secret")
    GUARD.check_text(f"a message carrying {secret}", "a test string")
    with pytest.raises(SecretLeak) as caught:
        GUARD.raise_if_leaked()
    assert str(caught.value) == "secret 'self-test secret' appeared in a test string"
    GUARD.raise_if_leaked()  # reported once, then cleared


@pytest.mark.anyio
async def test_the_middleware_catches_a_secret_cut_across_frames() -> None:
    secret = register_secret("split-" + "across-two-frames", "split secret")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-note", b"fine")]})
        await send({"type": "http.response.body", "body": f"data: {secret[:9]}".encode(), "more_body": True})
        await send({"type": "http.response.body", "body": f"{secret[9:]}\n\n".encode()})

    transport = httpx.ASGITransport(app=ScanResponses(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://relay") as client:
        await client.get("/stream")
    assert GUARD.take_leaks() == ["secret 'split secret' appeared in a relay response to GET /stream"]


def test_a_check_made_while_the_guard_is_busy_on_the_same_thread_completes() -> None:
    """Garbage collection can finalize a client mid-check, and its log record is checked re-entrantly."""
    guard = SecretGuard()
    secret = guard.register("reentrant-" + "a41c9e", "re-entrant secret")

    def nested_check() -> None:
        with guard._lock:  # what the interrupted outer check holds
            guard.check_text(f"finalizer says {secret}", "a nested log record")

    worker = threading.Thread(target=nested_check, daemon=True)
    worker.start()
    worker.join(timeout=5)
    assert not worker.is_alive(), "the nested check deadlocked on the guard's own lock"
    assert guard.take_leaks() == ["secret 're-entrant secret' appeared in a nested log record"]


def test_short_values_cannot_be_registered() -> None:
    with pytest.raises(ValueError, match="too short"):
        register_secret("abc", "tiny")


SESSION_LEAK = """
import logging

import pytest

from tests.secret_guard import register_secret

SECRET = register_secret("s3cr3t-" + "seen-at-session-end", "session secret")


@pytest.fixture(scope="session")
def noisy_session():
    yield
    logging.getLogger("shutdown").error("closing %s", SECRET)


def test_passes(noisy_session):
    pass
"""


def test_a_leak_outside_any_test_fails_the_session(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(APP_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    pytester.makepyfile(test_session=SESSION_LEAK)
    result = pytester.runpytest_subprocess("-p", "tests.secret_guard", "-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert (
        "SECRET LEAK outside a test: secret 'session secret' appeared in a log record of 'shutdown'"
        in result.stdout.str()
    )
