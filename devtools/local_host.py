"""A stand-in for ``func start``: serve the functions ``function_app.py`` registered.

Core Tools cannot be installed everywhere (its installer downloads a binary),
so this host does what it and the Python worker do for HTTP functions, and no
more. It loads ``local.settings.json`` Values into the environment without
overriding variables already set, imports the app, asks the registered
``func.FunctionApp`` for its functions, and mounts each HTTP trigger's own
route, methods and user function under host.json's ``routePrefix``. There is
no second routing table: a route exists here only because the app declared it.

Like the real worker, it refuses an HTTP function whose request parameter is
not the streaming extension's ``Request``, and it hands each invocation an
``x-ms-invocation-id`` header.
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import logging
import os
import re
import sys
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import azure.functions as func
from azure.functions.decorators.http import HttpTrigger
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request as StarletteRequest
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from devtools.connection_deadlines import head_deadline_protocol
from devtools.ports import relay_port

logger = logging.getLogger("devtools.local_host")

APP_ROOT = Path(__file__).resolve().parent.parent
ALL_METHODS = ["GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH"]

# Connection limits, so a slow or idle client cannot hold a socket for ever (the relay
# bounds the body itself, with limits.body_read_seconds). Values in the range Kestrel uses.
HEAD_SECONDS = 10.0
KEEP_ALIVE_SECONDS = 5
MAX_HEAD_BYTES = 32 * 1024
MAX_CONNECTIONS = 2048  # beyond this uvicorn answers 503 rather than accept more sockets


class HostError(RuntimeError):
    """The app cannot be hosted, for a reason the real host would also refuse."""


def load_local_settings(path: Path, environ: MutableMapping[str, str]) -> list[str]:
    """Copy ``Values`` into ``environ``; variables already set win, as with ``func start``."""
    if not path.exists():
        return []
    document = json.loads(path.read_text(encoding="utf-8"))
    if document.get("IsEncrypted"):
        raise HostError(f"{path} is encrypted; decrypt it with 'func settings decrypt'")
    skipped = []
    for name, value in (document.get("Values") or {}).items():
        if name in environ:
            skipped.append(name)
            continue
        environ[name] = str(value)
    return skipped


def route_prefix(host_json: Path) -> str:
    """host.json's ``extensions.http.routePrefix``; ``api`` when absent, as in Functions."""
    if not host_json.exists():
        return "api"
    document = json.loads(host_json.read_text(encoding="utf-8"))
    prefix = document.get("extensions", {}).get("http", {}).get("routePrefix", "api")
    return str(prefix).strip("/")


def import_function_app(script: Path, module_name: str | None = None) -> func.FunctionApp:
    """Import ``function_app.py`` as the worker does and return its registered app.

    Each call imports a fresh copy under its own module name, like a fresh
    worker process, so tests can host apps configured differently.
    """
    return function_app_of(import_app_module(script, module_name))


def import_app_module(script: Path, module_name: str | None = None) -> ModuleType:
    """Import a fresh copy of ``function_app.py``; tests reach its globals through it."""
    name = module_name or f"function_app_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(name, script)
    if spec is None or spec.loader is None:
        raise HostError(f"cannot import {script}")
    module = importlib.util.module_from_spec(spec)
    root = str(script.resolve().parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    spec.loader.exec_module(module)
    return module


def function_app_of(module: ModuleType) -> func.FunctionApp:
    """The one ``func.FunctionApp`` an imported app module defines."""
    apps = [value for value in vars(module).values() if isinstance(value, func.FunctionApp)]
    if len(apps) != 1:
        raise HostError(f"{module.__file__} must define exactly one func.FunctionApp; found {len(apps)}")
    return apps[0]


def build_asgi_app(function_app: func.FunctionApp, prefix: str = "api") -> Starlette:
    """An ASGI app with one route per HTTP function the app registered, tried in the host's order.

    The Functions host gives no precedence to literal routes over parameters
    or catch-alls: it maps the routes in the order of the function metadata,
    which it sorts by function name, case-insensitively
    (Azure/azure-functions-host ``FunctionMetadataManager.LoadFunctionMetadata``,
    then ``WebScriptHostHttpRoutesManager.InitializeHttpFunctionRoutes``), into
    an ASP.NET ``RouteCollection`` whose first matching route wins
    (Azure/azure-webjobs-sdk-extensions ``WebJobsRouteBuilder.Build``; the
    change that would have ordered routes by specificity, PR #842, was never
    merged). Starlette also takes the first full match, so sorting the same
    way makes a catch-all that would shadow a route on Azure shadow it here too.
    """
    routes = []
    for function in host_order(function_app.get_functions()):
        found = function.get_trigger()
        if found is None or found.get_binding_name() != "httpTrigger":
            continue
        trigger = cast(HttpTrigger, found)
        user_function = function.get_user_function()
        name = function.get_function_name() or user_function.__name__
        _check_http_types(name, user_function)
        template = _starlette_path(trigger.route or name)
        path = "/" + "/".join(part for part in (prefix, template) if part)
        methods = [str(getattr(method, "value", method)).upper() for method in (trigger.methods or ALL_METHODS)]
        route_type = CatchAllRoute if "{*" in (trigger.route or "") else Route
        routes.append(route_type(path, endpoint=_invoker(user_function), methods=methods))
    return Starlette(routes=routes)


def host_order(functions: list[func.Function]) -> list[func.Function]:
    """The functions in the order the host maps their routes: by name, ignoring case."""
    return sorted(functions, key=lambda function: (function.get_function_name() or "").upper())


class CatchAllRoute(Route):
    """A ``{*rest}`` route: with the wrong method it does not match at all.

    Otherwise an ``OPTIONS``-only catch-all would answer every unknown path
    with 405 instead of the host's 404. It also matches paths holding a
    percent-encoded newline, which Starlette's ``path`` convertor stops at,
    and the bare prefix, which an empty catch-all matches on the host.
    """

    def __init__(self, path: str, **kwargs: Any) -> None:
        super().__init__(path, **kwargs)
        self.path_regex = re.compile(self.path_regex.pattern, re.DOTALL)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is Match.NONE and scope.get("type") == "http" and not scope["path"].endswith("/"):
            # The catch-all may be empty, as in ASP.NET: ``api/{*path}`` also takes ``/api``.
            match, child_scope = super().matches({**scope, "path": scope["path"] + "/"})
        return (Match.NONE, {}) if match is Match.PARTIAL else (match, child_scope)


def _check_http_types(name: str, user_function: Callable[..., Any]) -> None:
    """Refuse ``func.HttpRequest`` once the extension is in use, as the worker does."""
    from azurefunctions.extensions.base import RequestTrackerMeta

    for parameter in inspect.signature(user_function, eval_str=True).parameters.values():
        annotation = parameter.annotation
        if annotation is func.HttpRequest or not RequestTrackerMeta.check_type(annotation):
            raise HostError(
                f"function {name!r}: parameter {parameter.name!r} must be typed with "
                "azurefunctions.extensions.http.fastapi.Request; the worker refuses mixed request types"
            )


def _starlette_path(template: str) -> str:
    """Functions route templates (``{id:int}``, ``{name?}``, catch-all ``{*rest}``) in Starlette's syntax."""

    def convert(match: re.Match[str]) -> str:
        catch_all, name, constraint = match.group(1), match.group(2).rstrip("?"), match.group(3)
        if catch_all:
            return f"{{{name}:path}}"
        return f"{{{name}:int}}" if constraint == "int" else f"{{{name}}}"

    return re.sub(r"\{(\*?)([A-Za-z_][A-Za-z0-9_]*\??)(?::([a-z]+)[^}]*)?\}", convert, template.strip("/"))


def _invoker(user_function: Callable[..., Any]) -> Callable[[StarletteRequest], Awaitable[Response]]:
    parameter = next(iter(inspect.signature(user_function).parameters))

    async def invoke(request: StarletteRequest) -> Response:
        invocation_id = str(uuid.uuid4())
        request.scope["headers"] = [*request.scope["headers"], (b"x-ms-invocation-id", invocation_id.encode())]
        from fastapi import Request as FastAPIRequest

        fastapi_request = FastAPIRequest(request.scope, request.receive)
        if inspect.iscoroutinefunction(user_function):
            response = await user_function(**{parameter: fastapi_request})
        else:
            response = await run_in_threadpool(user_function, **{parameter: fastapi_request})
        return response  # type: ignore[no-any-return]

    return invoke


def create_host(app_root: Path = APP_ROOT, environ: MutableMapping[str, str] | None = None) -> Starlette:
    """Everything ``func start`` would do before serving: settings, import, routes."""
    module = load_app_module(app_root, environ)
    return build_asgi_app(function_app_of(module), route_prefix(app_root / "host.json"))


def load_app_module(app_root: Path = APP_ROOT, environ: MutableMapping[str, str] | None = None) -> ModuleType:
    """``local.settings.json`` into the environment, then a fresh import of the app, as a worker starts."""
    environ = os.environ if environ is None else environ
    skipped = load_local_settings(app_root / "local.settings.json", environ)
    for name in skipped:
        logger.info("Skipping %r from local.settings.json: already set in the environment", name)
    return import_app_module(app_root / "function_app.py")


def describe_routes(app: Starlette) -> list[str]:
    """``METHODS path`` lines, printed at start like Core Tools does."""
    lines = []
    for route in app.routes:
        if isinstance(route, Route):
            methods = ",".join(sorted(route.methods or []))
            lines.append(f"{methods:<12} {route.path}")
    return lines


def main(argv: list[str] | None = None) -> None:
    """``python -m devtools.local_host [--port N]``: serve the app like ``func start``."""
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=relay_port())
    parser.add_argument("--app-root", type=Path, default=APP_ROOT)
    parser.add_argument("--head-timeout", type=float, default=HEAD_SECONDS, help="seconds for a request's headers")
    parser.add_argument("--keep-alive", type=int, default=KEEP_ALIVE_SECONDS, help="idle seconds between requests")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_host(args.app_root)
    for line in describe_routes(app):
        print(f"  {line}", flush=True)
    uvicorn.Server(server_config(app, args.host, args.port, args.head_timeout, args.keep_alive)).run()


def server_config(
    app: Starlette, host: str, port: int, head_timeout: float = HEAD_SECONDS, keep_alive: int = KEEP_ALIVE_SECONDS
) -> Any:
    """uvicorn's configuration for the local host, with deadlines on slow and idle connections."""
    import uvicorn

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=3,
        http=head_deadline_protocol(head_timeout),
        timeout_keep_alive=keep_alive,
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        limit_concurrency=MAX_CONNECTIONS,
    )


if __name__ == "__main__":
    main()
