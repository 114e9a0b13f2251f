"""CORS for browser clients, answered by the app rather than the platform.

The Functions platform has its own CORS list; when it is non-empty the
platform answers preflights itself and these rules never run, so a deployment
configures CORS in exactly one place (see the README). Here the preflight
``OPTIONS`` is answered by a function, and every actual response from an
allowed origin gets ``Access-Control-Allow-Origin``, and ``Timing-Allow-Origin``
so the page can read the ``Server-Timing`` durations through Resource Timing.

CORS is not authentication: it only tells browsers which pages may read
responses. Every request is still authenticated.
"""

from __future__ import annotations

from collections.abc import Mapping

from azurefunctions.extensions.http.fastapi import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from .dialects.openai_chat import error_body
from .errors import Forbidden

ANY_ORIGIN = "*"
# DELETE cancels a resumable stream (README, Resumable streams).
ALLOWED_METHODS = ("GET", "POST", "DELETE")


class CorsSettings(BaseModel):
    """Which web origins may call the relay from a browser."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    allowed_origins: list[str] = Field(
        default=[], description='Exact origins such as "https://app.example.com", or ["*"]; empty: no CORS.'
    )
    allowed_headers: list[str] = Field(
        default=[
            "authorization",
            "api-key",
            "content-type",
            "x-stainless-*",
            "traceparent",
            "tracestate",
            "x-relay-resumable",
            "last-event-id",
        ],
        description="Request headers pages may send; a trailing * matches a prefix (the OpenAI SDK's x-stainless-*).",
    )
    expose_headers: list[str] = Field(
        default=["x-relay-backend", "x-relay-attempts", "retry-after", "server-timing", "x-relay-stream-id"],
        description="Response headers pages may read.",
    )
    allow_credentials: bool = Field(default=False, description="Allow cookies (Easy Auth sessions) cross-origin.")
    max_age_seconds: int = Field(default=600, ge=0, le=86400, description="How long browsers cache a preflight.")

    @model_validator(mode="after")
    def _no_wildcard_with_credentials(self) -> CorsSettings:
        if self.allow_credentials and ANY_ORIGIN in self.allowed_origins:
            raise ValueError('allowed_origins ["*"] cannot be combined with allow_credentials')
        return self


class Cors:
    """Preflight answers and response headers for one configuration."""

    def __init__(self, settings: CorsSettings) -> None:
        self.settings = settings
        self._origins = {origin.lower().rstrip("/") for origin in settings.allowed_origins}
        self._headers = [header.lower() for header in settings.allowed_headers]

    def preflight(self, headers: Mapping[str, str]) -> Response:
        """Answer ``OPTIONS``: 204 with the grants, or 403 naming what was refused."""
        origin = headers.get("origin")
        method = headers.get("access-control-request-method")
        if origin is None or method is None:
            return Response(status_code=204, headers={"Allow": ", ".join((*ALLOWED_METHODS, "OPTIONS"))})
        requested = [name.strip().lower() for name in headers.get("access-control-request-headers", "").split(",")]
        refusal = self._refusal(origin, method, [name for name in requested if name])
        if refusal is not None:
            return JSONResponse(error_body(Forbidden(refusal, code="cors_rejected")), status_code=403)
        grant = {
            **self._origin_headers(origin),
            "Access-Control-Allow-Methods": ", ".join(ALLOWED_METHODS),
            "Access-Control-Max-Age": str(self.settings.max_age_seconds),
            "Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        }
        if any(requested):
            grant["Access-Control-Allow-Headers"] = ", ".join(name for name in requested if name)
        return Response(status_code=204, headers=grant)

    def decorate(self, headers: Mapping[str, str], response: Response) -> Response:
        """Let an allowed origin's page read ``response``; others get no CORS headers."""
        origin = headers.get("origin")
        if origin is not None and self.allows_origin(origin):
            granted = self._origin_headers(origin)
            response.headers.update(granted)
            # Lets the page's Resource Timing API (not only devtools) see Server-Timing, for the origins CORS allows.
            response.headers["Timing-Allow-Origin"] = granted["Access-Control-Allow-Origin"]
            response.headers["Access-Control-Expose-Headers"] = ", ".join(self.settings.expose_headers)
            response.headers["Vary"] = "Origin"
        return response

    def allows_origin(self, origin: str) -> bool:
        return ANY_ORIGIN in self._origins or origin.lower().rstrip("/") in self._origins

    def _refusal(self, origin: str, method: str, requested: list[str]) -> str | None:
        if not self.allows_origin(origin):
            return f"CORS: origin {origin!r} is not allowed"
        if method.upper() not in ALLOWED_METHODS:
            return f"CORS: method {method!r} is not allowed"
        refused = [name for name in requested if not self._allows_header(name)]
        if refused:
            return f"CORS: request header {refused[0]!r} is not allowed"
        return None

    def _allows_header(self, name: str) -> bool:
        return any(
            name.startswith(allowed[:-1]) if allowed.endswith("*") else name == allowed for allowed in self._headers
        )

    def _origin_headers(self, origin: str) -> dict[str, str]:
        wildcard = ANY_ORIGIN in self._origins and not self.settings.allow_credentials
        granted = {"Access-Control-Allow-Origin": ANY_ORIGIN if wildcard else origin}
        if self.settings.allow_credentials:
            granted["Access-Control-Allow-Credentials"] = "true"
        return granted
