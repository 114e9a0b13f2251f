"""A wire-faithful Vertex AI emulator, OAuth2 token endpoint included.

Serves, on one loopback port:

* ``POST /token`` - Google's OAuth2 token endpoint for service-account JWT
  grants (see :mod:`devtools.emulators.google_oauth`);
* ``POST /{v1,v1beta1}/projects/{p}/locations/{l}/endpoints/openapi/chat/completions``
  - the OpenAI-compatible endpoint; scenario key = the body's ``model``
  (``google/gemini-2.0-flash-001``);
* ``POST /{v1,v1beta1}/projects/{p}/locations/{l}/publishers/google/models/{m}:streamGenerateContent``
  (``?alt=sse`` or the JSON-array stream) and ``:generateContent`` - the native
  API; scenario key = ``{m}``;
* ``/_emulator/*`` - the shared admin API, plus ``/_emulator/tokens`` (GET to
  list issued tokens, DELETE to expire them all) and
  ``POST /_emulator/service-account`` (a registered key file for this server).

Every model call needs a live bearer token this emulator issued, so the
relay's whole credential loop (fetch, cache, refresh on expiry or 401) is
exercised. ``location`` may be ``global``; the real host differs, the path
does not. Run it with ``python -m devtools.emulators.vertex --port 8103``.

Known approximations: OpenAI-compatible ids, key order, tool-call ``index``
and ``reasoning_content`` follow public reports, not a live capture; token
requests are checked as Google documents (RS256, ``aud``, a <=1 h ``iat``/``exp``
window, a scope), with signatures verified only for keys the emulator knows.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from .asgi import (
    ADMIN_PREFIX,
    Receive,
    Scope,
    Send,
    handle_admin,
    header,
    play,
    query,
    rate_limit_headers,
    read_body,
    send_bytes,
    send_json,
)
from .cli import emulator_parser, run_emulator
from .google_oauth import GrantError, IssuedToken, TokenAuthority, make_service_account_info, token_response
from .recorder import Recorder, RequestRecord
from .scenario import Scenario, ScenarioBook, ScenarioError
from .structured import gemini_wanted, openai_wanted, shaped
from .vertex_frames import (
    INVALID_CREDENTIALS,
    JSON_TYPE,
    MISSING_CREDENTIALS,
    ResponseMeta,
    google_error,
    pretty,
    pretty_array,
    tool_args,
    unauthenticated_error,
    upfront_error,
    wire_frames,
)
from .vertex_signatures import native_problem, openai_problem, remember

__all__ = ["VertexEmulator", "create_app", "main", "make_service_account_info"]

TOKEN_PATH = "/token"
_PREFIX = r"^/(?P<version>v1|v1beta1)/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
OPENAI_ROUTE = re.compile(_PREFIX + r"/endpoints/openapi/chat/completions$")
NATIVE_ROUTE = re.compile(
    _PREFIX + r"/publishers/google/models/(?P<model>[^/:]+):(?P<method>streamGenerateContent|generateContent)$"
)
GOOGLE_HEADERS = (
    ("vary", "Origin, X-Origin, Referer"),
    ("x-xss-protection", "0"),
    ("x-frame-options", "SAMEORIGIN"),
    ("x-content-type-options", "nosniff"),
)


@dataclass(frozen=True)
class ModelCall:
    """One model request, parsed far enough to pick a scenario and a wire format."""

    path: str
    version: str
    model: str
    openai: bool
    stream: bool
    sse: bool
    body: Any

    @property
    def key(self) -> str:
        """The scenario key: the OpenAI ``model`` string or the native model name."""
        return self.model

    @property
    def errors_as_array(self) -> bool:
        """Streaming methods (and the OpenAI shim) wrap error bodies in a list."""
        return self.openai or self.stream

    @property
    def wire(self) -> str:
        """Which of the five response formats this call gets."""
        if self.openai:
            return "openai-stream" if self.stream else "openai"
        if self.stream:
            return "native-sse" if self.sse else "native-array"
        return "native"

    @property
    def rpc_method(self) -> str:
        """The RPC name Google puts in ErrorInfo metadata."""
        name = "ChatCompletions" if self.openai else ("StreamGenerateContent" if self.stream else "GenerateContent")
        return f"google.cloud.aiplatform.{self.version}.PredictionService.{name}"


def parse_model_call(scope: Scope, body: Any) -> ModelCall | None:
    """Match the path against the two model routes; None when neither fits."""
    path = scope["path"]
    document = body if isinstance(body, dict) else {}
    if match := OPENAI_ROUTE.match(path):
        stream = bool(document.get("stream"))
        return ModelCall(path, match["version"], str(document.get("model") or ""), True, stream, stream, body)
    if match := NATIVE_ROUTE.match(path):
        stream = match["method"] == "streamGenerateContent"
        sse = stream and query(scope).get("alt") == "sse"
        return ModelCall(path, match["version"], match["model"], False, stream, sse, body)
    return None


def _text_of(content: Any) -> str:
    """Plain text of an OpenAI message content (string or list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _parts_text(content: Any) -> str:
    """Plain text of a native Content object's parts."""
    parts = content.get("parts", []) if isinstance(content, dict) else []
    return "".join(str(part.get("text", "")) for part in parts if isinstance(part, dict))


def _native_contents(body: Mapping[str, Any]) -> list[Any]:
    contents = body.get("contents") or []
    return [contents] if isinstance(contents, dict) else list(contents)


def prompt_of(call: ModelCall) -> tuple[str | None, int]:
    """The last user turn's text (for inline scenarios) and the prompt's length."""
    body = call.body
    if call.openai:
        messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
        users = [_text_of(m.get("content")) for m in messages if m.get("role") == "user"]
        return (users[-1] if users else None), sum(len(_text_of(m.get("content"))) for m in messages)
    contents = _native_contents(body)
    users = [_parts_text(c) for c in contents if isinstance(c, dict) and c.get("role", "user") == "user"]
    chars = sum(len(_parts_text(c)) for c in contents) + len(_parts_text(body.get("systemInstruction")))
    return (users[-1] if users else None), chars


def request_problem(call: ModelCall) -> str | None:
    """What Vertex would reject as INVALID_ARGUMENT before generating; None when fine."""
    if not isinstance(call.body, dict):
        return "Invalid JSON payload received. Expected a JSON object."
    if call.openai:
        if "/" not in call.model:
            return f"Malformed publisher model name {call.model!r}: expected format '<publisher>/<model>'."
        if not call.body.get("messages"):
            return "messages must not be empty."
    elif not _native_contents(call.body):
        return "Unable to submit request because it has an empty contents field."
    return None


class VertexEmulator:
    """The emulator as a raw ASGI app; see the module docstring for its routes."""

    def __init__(
        self,
        default: Scenario | None = None,
        token_lifetime: float = 3600.0,
        public_keys: Mapping[str, Any] | None = None,
        accept_any_token: bool = False,
        strict_accounts: bool = False,
        authority: TokenAuthority | None = None,
    ) -> None:
        """``authority`` replaces the emulator's own: keyless mode passes the federation's, so
        only tokens a workload identity exchange issued open a model call."""
        self.book = ScenarioBook(default=default or Scenario())
        self.recorder = Recorder()
        self.authority = authority or TokenAuthority(token_lifetime, public_keys, strict_accounts)
        self.keys_disabled = authority is not None
        self.accept_any_token = accept_any_token
        self.url = ""

    # ------------------------------------------------------------ test helpers

    def register_service_account(self, info: Mapping[str, Any]) -> None:
        """Trust this key file: its JWT signatures will be verified."""
        self.authority.register(info)

    def issued_tokens(self) -> list[IssuedToken]:
        """Every access token issued so far, oldest first, with its expiry."""
        return self.authority.issued()

    def expire_tokens(self) -> int:
        """Expire every issued token now; returns how many there were."""
        return self.authority.expire_all()

    # ------------------------------------------------------------ ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path.startswith(ADMIN_PREFIX):
            await self._admin(scope, receive, send)
        elif path == TOKEN_PATH and method == "POST":
            await self._token(scope, receive, send)
        elif method == "POST":
            await self._model(scope, receive, send)
        else:
            await _not_found(send, path)

    async def _admin(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = (scope["method"], scope["path"][len(ADMIN_PREFIX) :])
        if route == ("GET", "/tokens"):
            tokens = [{**asdict(token), "expired": token.expired} for token in self.issued_tokens()]
            await send_json(send, 200, {"tokens": tokens})
        elif route == ("DELETE", "/tokens"):
            await send_json(send, 200, {"expired": self.expire_tokens()})
        elif route == ("POST", "/service-account"):
            info = make_service_account_info(own_token_uri(scope))
            self.register_service_account(info)
            await send_json(send, 200, info)
        else:
            await handle_admin(scope, receive, send, self.book, self.recorder)

    async def _token(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The OAuth2 token endpoint: one JWT grant in, one access token out."""
        self.recorder.token_requests += 1
        form = _form(await read_body(receive), header(scope, "content-type") or "")
        try:
            if self.keys_disabled:
                raise GrantError("unauthorized_client", "Service account keys are disabled: keyless mode.")
            issued = self.authority.grant(form, own_token_uri(scope))
        except GrantError as exc:
            await send_bytes(send, 400, pretty(exc.body()), JSON_TYPE)
            return
        no_store = [("cache-control", "no-cache, no-store, max-age=0, must-revalidate"), ("pragma", "no-cache")]
        await send_bytes(send, 200, pretty(token_response(issued)), JSON_TYPE, no_store)

    async def _model(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = await read_body(receive)
        body = _json_or_none(raw)
        call = parse_model_call(scope, body)
        if call is None:
            await _not_found(send, scope["path"])
            return
        auth = header(scope, "authorization") or ""
        record = self.recorder.start(call.path, call.key, auth, body, header(scope, "traceparent"))
        if not await self._authorized(send, call, record, auth):
            return
        signatures = self.book.signatures
        problem = request_problem(call) or (openai_problem if call.openai else native_problem)(call.body, signatures)
        prompt, prompt_chars = prompt_of(call) if problem is None else (None, 0)
        scenario, scenario_problem = self._choose(call.key, prompt)
        problem = problem or scenario_problem
        if problem is None:
            wanted = openai_wanted(call.body, openai_rules=False) if call.openai else gemini_wanted(call.body)
            problem = wanted.problem
            scenario = shaped(scenario, wanted)
        if problem is not None:
            await _fail(send, record, call, 400, google_error(400, problem, "INVALID_ARGUMENT"))
        elif scenario.status != 200:
            await _fail(send, record, call, scenario.status, upfront_error(scenario), rate_limit_headers(scenario))
        else:
            if scenario.tool_calls:
                remember(signatures, scenario, tool_args(scenario.tool_calls[0]))
            await _respond(send, receive, record, call, scenario, prompt_chars)

    def _choose(self, key: str, prompt: str | None) -> tuple[Scenario, str | None]:
        """The scenario to play, or the default plus a complaint about a bad inline one."""
        try:
            return self.book.choose(key, prompt), None
        except ScenarioError as exc:
            return self.book.default, f"Invalid emulator scenario: {exc}"

    async def _authorized(self, send: Send, call: ModelCall, record: RequestRecord, auth: str) -> bool:
        """Google's front end: a missing, unknown or expired token is a 401."""
        if self.accept_any_token:
            return True
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            reason, message = "CREDENTIALS_MISSING", MISSING_CREDENTIALS
        else:
            reason, message = self.authority.check(token.strip()) or "", INVALID_CREDENTIALS
        if not reason:
            return True
        document = unauthenticated_error(reason, message, call.rpc_method)
        challenge = [("www-authenticate", 'Bearer realm="https://accounts.google.com/", error="invalid_token"')]
        record.status = 401
        record.finish("unauthenticated")
        await send_bytes(send, 401, pretty(document), JSON_TYPE, [*GOOGLE_HEADERS, *challenge])
        return False


async def _respond(
    send: Send, receive: Receive, record: RequestRecord, call: ModelCall, scenario: Scenario, prompt_chars: int
) -> None:
    """Build the frames for the call's wire format and play them with the scenario's faults."""
    wire = wire_frames(call.wire, scenario, ResponseMeta(model=call.model), prompt_chars)
    await play(
        send,
        receive,
        scenario=scenario,
        record=record,
        frames=wire.frames,
        error_frames=wire.error_frames,
        malformed_frames=wire.malformed_frames,
        content_type=wire.content_type,
        headers=[*GOOGLE_HEADERS, *wire.headers],
    )


async def _fail(
    send: Send,
    record: RequestRecord,
    call: ModelCall,
    status: int,
    document: dict[str, Any],
    headers: Sequence[tuple[str, str]] = (),
) -> None:
    """Answer with a Google error before any output; a list when the method streams."""
    body = pretty_array(document) if call.errors_as_array else pretty(document)
    record.status = status
    record.finish("error")
    await send_bytes(send, status, body, JSON_TYPE, [*GOOGLE_HEADERS, *headers])


async def _not_found(send: Send, path: str) -> None:
    document = google_error(404, f"The requested URL {path} was not found on this server.", "NOT_FOUND")
    await send_bytes(send, 404, pretty(document), JSON_TYPE)


async def _lifespan(receive: Receive, send: Send) -> None:
    """Accept uvicorn's lifespan protocol so the app runs with any lifespan setting."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def own_token_uri(scope: Scope) -> str:
    """This server's token URL as the client addressed it (for ``aud`` and key files)."""
    host = header(scope, "host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}{TOKEN_PATH}"


def _form(raw: bytes, content_type: str) -> dict[str, str]:
    """Token-request parameters: form-encoded as google-auth sends, or JSON."""
    if "json" in content_type:
        document = _json_or_none(raw)
        return {str(k): str(v) for k, v in document.items()} if isinstance(document, dict) else {}
    return dict(parse_qsl(raw.decode("utf-8", errors="replace")))


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def create_app(default: Scenario | None = None, token_lifetime: float = 3600.0) -> VertexEmulator:
    """The emulator with a default scenario; what fixtures and ``make dev`` call."""
    return VertexEmulator(default=default, token_lifetime=token_lifetime)


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of ``python -m devtools.emulators.vertex``."""
    parser = emulator_parser("Vertex AI emulator (serves on 127.0.0.1)", "vertex", log_level="info")
    parser.add_argument("--token-lifetime", type=float, default=3600.0, help="access-token lifetime in seconds")
    parser.add_argument("--accept-any-token", action="store_true", help="dev mode: skip bearer-token checks")
    parser.add_argument("--write-service-account", type=Path, help="write a trusted key file for this server here")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Run the emulator on 127.0.0.1 until interrupted."""
    run_emulator(build_parser(), emulator_from_args, argv)


def emulator_from_args(args: argparse.Namespace, default: Scenario | None) -> VertexEmulator:
    """The emulator the command line asks for, after writing the key file it should trust, if asked."""
    app = VertexEmulator(default, args.token_lifetime, accept_any_token=args.accept_any_token)
    if args.write_service_account:
        info = make_service_account_info(f"http://{args.host}:{args.port}{TOKEN_PATH}")
        app.register_service_account(info)
        args.write_service_account.write_text(json.dumps(info, indent=2))
    return app


if __name__ == "__main__":
    main()
