"""The local host mounts exactly what function_app.py registered, as func start would."""

from __future__ import annotations

import json
import select
import socket
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from devtools.local_host import (
    HostError,
    build_asgi_app,
    create_host,
    describe_routes,
    import_function_app,
    load_local_settings,
    route_prefix,
    server_config,
)
from devtools.threaded_server import ThreadedServer

ECHO_APP = """
import azure.functions as func
from azurefunctions.extensions.http.fastapi import JSONResponse, Request

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="items/{item_id:int}", methods=["GET"])
async def item(req: Request) -> JSONResponse:
    return JSONResponse({
        "item_id": req.path_params["item_id"],
        "invocation": req.headers.get("x-ms-invocation-id"),
        "setting": __import__("os").environ.get("ECHO_SETTING"),
    })
"""

MIXED_APP = """
import azure.functions as func
from azurefunctions.extensions.http.fastapi import Request, Response

app = func.FunctionApp()


@app.route(route="new")
async def new(req: Request) -> Response:
    return Response("ok")


@app.route(route="old")
def old(req: func.HttpRequest) -> func.HttpResponse:
    return func.HttpResponse("ok")
"""


def write_app(root: Path, source: str, prefix: str | None = "relay", values: dict[str, str] | None = None) -> Path:
    (root / "function_app.py").write_text(textwrap.dedent(source))
    if prefix is not None:
        (root / "host.json").write_text(json.dumps({"version": "2.0", "extensions": {"http": {"routePrefix": prefix}}}))
    if values is not None:
        (root / "local.settings.json").write_text(json.dumps({"IsEncrypted": False, "Values": values}))
    return root


def test_routes_are_the_registered_functions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECHO_SETTING", "from-environment")
    root = write_app(tmp_path, ECHO_APP, values={"ECHO_SETTING": "from-file", "OTHER": "x"})
    app = create_host(root, environ={})
    assert describe_routes(app) == ["GET,HEAD     /relay/items/{item_id:int}"]
    with ThreadedServer(app) as server:
        response = httpx.get(f"{server.url}/relay/items/42")
        assert httpx.get(f"{server.url}/relay/items/x").status_code == 404
        assert httpx.post(f"{server.url}/relay/items/42").status_code == 405
    body = response.json()
    assert body["item_id"] == 42
    assert len(body["invocation"]) == 36


def test_local_settings_do_not_override_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "local.settings.json"
    path.write_text(json.dumps({"Values": {"A": "file", "B": "file", "N": 5}}))
    environ = {"A": "env"}
    skipped = load_local_settings(path, environ)
    assert environ == {"A": "env", "B": "file", "N": "5"}
    assert skipped == ["A"]


def test_encrypted_settings_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "local.settings.json"
    path.write_text(json.dumps({"IsEncrypted": True, "Values": {}}))
    with pytest.raises(HostError, match="encrypted"):
        load_local_settings(path, {})


def test_route_prefix_defaults_to_api(tmp_path: Path) -> None:
    assert route_prefix(tmp_path / "host.json") == "api"
    (tmp_path / "host.json").write_text(json.dumps({"extensions": {"http": {"routePrefix": ""}}}))
    assert route_prefix(tmp_path / "host.json") == ""


def test_mixed_request_types_are_refused_like_the_worker(tmp_path: Path) -> None:
    root = write_app(tmp_path, MIXED_APP)
    with pytest.raises(HostError, match=r"'old'.*extensions\.http\.fastapi\.Request"):
        build_asgi_app(import_function_app(root / "function_app.py"))


def test_real_app_routes(relay_url: str) -> None:
    """The real app passed the type check and is mounted under host.json's prefix."""
    assert httpx.get(f"{relay_url}/api/health").status_code == 200
    assert httpx.get(f"{relay_url}/health").status_code == 404


CATCH_ALL_APP = """
import azure.functions as func
from azurefunctions.extensions.http.fastapi import JSONResponse, Request

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="items", methods=["GET"])
async def items(req: Request) -> JSONResponse:
    return JSONResponse({"items": []})


@app.route(route="{*rest}", methods=["OPTIONS"])
async def preflight(req: Request) -> JSONResponse:
    return JSONResponse({"rest": req.path_params["rest"]})
"""


def test_catch_all_routes_match_any_path_but_never_turn_404_into_405(tmp_path: Path) -> None:
    root = write_app(tmp_path, CATCH_ALL_APP, prefix="api")
    app = build_asgi_app(import_function_app(root / "function_app.py"), "api")
    with ThreadedServer(app) as server:
        assert httpx.options(f"{server.url}/api/deep/nested/path").json() == {"rest": "deep/nested/path"}
        # Starlette's path convertor stops at a newline; a percent-encoded one is still part of the path.
        assert httpx.options(f"{server.url}/api/line%0Abreak%5B").json() == {"rest": "line\nbreak["}
        assert httpx.options(f"{server.url}/api/items").status_code == 200
        assert httpx.get(f"{server.url}/api/items").json() == {"items": []}
        assert httpx.get(f"{server.url}/api/missing").status_code == 404
        assert httpx.post(f"{server.url}/api/items").status_code == 405


class DeadlineHost(ThreadedServer):
    """The local host's own uvicorn configuration, served in a thread, with a half-second head deadline."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self._server = uvicorn.Server(server_config(app, "127.0.0.1", 0, head_timeout=0.5))


@pytest.fixture
def hosted_port(tmp_path: Path) -> Iterator[int]:
    """The echo app behind the local host's connection deadlines."""
    with DeadlineHost(create_host(write_app(tmp_path, ECHO_APP), environ={})) as server:
        yield server.port


def closed_by_server(connection: socket.socket, trickle: bytes, give_up_after: float = 8) -> bool:
    """Send ``trickle`` one byte per 0.1 s (then nothing); whether the server closed the connection meanwhile."""
    deadline = time.monotonic() + give_up_after
    pending = list(trickle)
    while time.monotonic() < deadline:
        readable, _, _ = select.select([connection], [], [], 0.1)
        try:
            if readable and connection.recv(65536) == b"":
                return True
            if pending:
                connection.sendall(bytes([pending.pop(0)]))
        except OSError:
            return True
    return False


def test_a_connection_that_never_speaks_is_closed(hosted_port: int) -> None:
    with socket.create_connection(("127.0.0.1", hosted_port), timeout=10) as connection:
        assert closed_by_server(connection, b"")


def test_headers_sent_one_byte_at_a_time_are_cut_off(hosted_port: int) -> None:
    head = b"GET /relay/items/1 HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 200 + b"\r\n\r\n"
    with socket.create_connection(("127.0.0.1", hosted_port), timeout=10) as connection:
        assert closed_by_server(connection, head)


def test_a_keep_alive_connection_that_idles_is_closed(hosted_port: int) -> None:
    with socket.create_connection(("127.0.0.1", hosted_port), timeout=10) as connection:
        connection.sendall(b"GET /relay/items/1 HTTP/1.1\r\nHost: x\r\n\r\n")
        assert connection.recv(65536).startswith(b"HTTP/1.1 200")
        assert closed_by_server(connection, b"")


CATCH_ALL_DECLARED_FIRST = """
import azure.functions as func
from azurefunctions.extensions.http.fastapi import Request, Response

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)


@app.route(route="{*path}", methods=["GET"])
async def NAME(req: Request) -> Response:
    return Response("catch-all")


@app.route(route="health", methods=["GET"])
async def health(req: Request) -> Response:
    return Response("health")
"""


@pytest.mark.parametrize(("name", "health_answer"), [("zz_everything", "health"), ("a_everything", "catch-all")])
def test_routes_are_tried_in_the_hosts_order_by_function_name(tmp_path: Path, name: str, health_answer: str) -> None:
    """The Functions host maps routes sorted by function name and takes the first match, whatever was declared first.

    A catch-all declared first but named to sort last never shadows ``health``;
    one whose name sorts first shadows it, on Azure and here alike.
    """
    app = create_host(write_app(tmp_path, CATCH_ALL_DECLARED_FIRST.replace("NAME", name)), environ={})
    with ThreadedServer(app) as server:
        assert httpx.get(f"{server.url}/relay/health").text == health_answer
        assert httpx.get(f"{server.url}/relay/other").text == "catch-all"
