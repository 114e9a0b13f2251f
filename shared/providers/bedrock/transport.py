"""ConverseStream over an async connection: boto3 builds and signs, aiohttp sends.

boto3 is synchronous: reading a stream with it ties up one thread per open
stream for the stream's whole life. Instead, boto3 does everything up to the
socket — parameter validation, serialisation, endpoint resolution, the
credential chain and SigV4 or Bedrock API key auth — and hands back the
signed request from its ``before-send`` hook, unsent. That takes a fraction
of a millisecond of CPU. With static credentials (named key settings,
environment keys, a Bedrock API key) it runs on the event loop; with the rest
of the default chain (assumed roles, web identity, container or instance
roles) it runs in a worker thread, because refreshing those calls the
network. The request then goes out on an ``aiohttp`` connection pool, as in
aiobotocore, and the body is decoded as it arrives (:mod:`.eventstream`).
No thread is held while a stream is open, so concurrency is bounded by
``max_connections`` rather than by a thread pool; the README's Benchmarks
section has the measurements behind this choice.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from typing import Any

import aiohttp
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    CredentialRetrievalError,
    NoAuthTokenError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
    TokenRetrievalError,
)
from botocore.parsers import create_parser
from yarl import URL

from ...errors import UPSTREAM_AUTH_FAILED, Untranslatable, UpstreamError, UpstreamUnavailable
from ...telemetry.propagation import upstream_trace_headers
from ..upstream.aiohttp_transport import environment_proxy
from .failures import open_failure, transport_failure
from .settings import BedrockSettings, explicit_credentials
from .static_signing import StaticSigner
from .web_identity import session_for

OPERATION = "ConverseStream"
CREDENTIAL_FAILURES = (
    NoCredentialsError,
    PartialCredentialsError,
    CredentialRetrievalError,
    NoAuthTokenError,
    TokenRetrievalError,
)


class _Signed(Exception):
    """Carries the signed request out of botocore, which would otherwise send it."""

    def __init__(self, request: Any) -> None:
        super().__init__("signed")
        self.request = request


def _hand_back(request: Any, **_: Any) -> None:
    raise _Signed(request)


class ConverseClient:
    """One backend's boto3 client (for signing) and HTTP connection pool (for streaming)."""

    def __init__(self, settings: BedrockSettings, environ: Mapping[str, str]) -> None:
        self.backend = settings.name
        self._boto = session_for(settings, environ).client(
            "bedrock-runtime",
            region_name=settings.region,
            endpoint_url=settings.endpoint_url,
            config=Config(
                retries={"total_max_attempts": 1},  # the router retries, on another backend
                connect_timeout=settings.connect_timeout_seconds,
                read_timeout=settings.read_timeout_seconds,
                # botocore's own pool sends nothing here; sized anyway, so no later call is capped at 10.
                max_pool_connections=settings.max_connections,
            ),
            **explicit_credentials(settings, environ),
        )
        self._boto.meta.events.register_first(f"before-send.bedrock-runtime.{OPERATION}", _hand_back)
        service = self._boto.meta.service_model
        self._error_parser = create_parser(service.protocol)
        self._output_shape = service.operation_model(OPERATION).output_shape
        self._settings = settings
        self._ca_bundle = environ.get("AWS_CA_BUNDLE")
        self._signing_may_block = signing_may_block(settings, environ)
        self._static: StaticSigner | None = None
        self._learned = False
        self._session: aiohttp.ClientSession | None = None

    async def open(self, params: dict[str, Any]) -> aiohttp.ClientResponse:
        """Send ConverseStream and wait for the status line; a refusal raises a typed error."""
        signed = await asyncio.to_thread(self.sign, params) if self._signing_may_block else self.sign(params)
        # Trace context is added after signing: SigV4 covers only the headers it lists in SignedHeaders.
        headers = {name: _text(value) for name, value in signed.headers.items()} | upstream_trace_headers()
        try:
            # encoded=True: the path goes out exactly as signed (model ids hold %3A and %2F).
            response = await self._pool(signed.url).request(
                signed.method, URL(signed.url, encoded=True), headers=headers, data=signed.body
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise transport_failure(exc, self.backend, streaming=False) from exc
        if response.status != 200:
            raise await self._refusal(response)
        return response

    def _pool(self, url: str) -> aiohttp.ClientSession:
        """The connection pool, made on first use: aiohttp sessions belong to the running event loop.

        The proxy is read from the environment once here rather than by
        aiohttp on every request (``trust_env`` re-reads ``~/.netrc`` each time).
        """
        if self._session is None:
            settings = self._settings
            ssl_context = ssl.create_default_context(cafile=self._ca_bundle) if self._ca_bundle else True
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=settings.max_connections, ssl=ssl_context),
                timeout=aiohttp.ClientTimeout(
                    total=None, connect=settings.connect_timeout_seconds, sock_read=settings.read_timeout_seconds
                ),
                proxy=environment_proxy(url),
                auto_decompress=False,
                skip_auto_headers=("Accept-Encoding",),
            )
        return self._session

    def sign(self, params: dict[str, Any]) -> Any:
        """The request boto3 would send for ``converse_stream(**params)``, signed; blocking.

        With static keys, every request after the first is signed by
        :class:`.static_signing.StaticSigner` rather than by boto3's full call.
        """
        try:
            if self._static is not None:
                return self._static.sign(params)
            signed = self._boto_sign(params)
        except ParamValidationError as exc:
            raise Untranslatable(f"the request cannot be sent to Bedrock: {exc}") from exc
        except CREDENTIAL_FAILURES as exc:
            raise UpstreamUnavailable(
                f"backend {self.backend} has no usable AWS credentials", code=UPSTREAM_AUTH_FAILED, retryable=True
            ) from exc
        except BotoCoreError as exc:
            raise UpstreamUnavailable(f"backend {self.backend} could not prepare the request") from exc
        if not self._signing_may_block and not self._learned:
            self._learned = True  # once: a Bedrock API key's bearer request teaches nothing
            self._static = static_signer(self._boto, signed)
        return signed

    def _boto_sign(self, params: dict[str, Any]) -> Any:
        try:
            self._boto.converse_stream(**params)
        except _Signed as signed:
            return signed.request
        raise AssertionError("botocore sent the request past the before-send hook")  # pragma: no cover

    async def _refusal(self, response: aiohttp.ClientResponse) -> UpstreamError:
        """The typed error for a non-200 answer, parsed the way boto3 parses it."""
        try:
            body = await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return transport_failure(exc, self.backend, streaming=False)
        finally:
            response.close()
        headers = {name.lower(): value for name, value in response.headers.items()}
        parsed = self._error_parser.parse(
            {"status_code": response.status, "headers": headers, "body": body}, self._output_shape
        )
        error = parsed.get("Error", {})
        code = str(error.get("Code") or response.status)
        return open_failure(response.status, code, str(error.get("Message") or ""), headers, self.backend)

    async def aclose(self) -> None:
        """Close the connection pool and the boto3 client."""
        if self._session is not None:
            await self._session.close()
        self._boto.close()


def signing_may_block(settings: BedrockSettings, environ: Mapping[str, str]) -> bool:
    """Whether signing may have to refresh credentials over the network.

    Named key settings, a Bedrock API key and environment keys (first in the
    default chain) are static; anything else the chain finds may be refreshable,
    and federated (``web_identity``) credentials always are.
    """
    if settings.web_identity is not None:
        return True
    if settings.access_key_id_setting or environ.get("AWS_BEARER_TOKEN_BEDROCK"):
        return False
    return not (environ.get("AWS_ACCESS_KEY_ID") and environ.get("AWS_SECRET_ACCESS_KEY"))


def static_signer(boto: Any, first: Any) -> StaticSigner | None:
    """A signer for the requests after ``first``, or None when ``first`` is not SigV4 (a Bedrock API key)."""
    try:
        return StaticSigner(boto, OPERATION, first)
    except ValueError:
        return None


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value
