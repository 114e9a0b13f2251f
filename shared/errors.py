"""Every failure the relay reports, as one hierarchy keyed to an HTTP status.

    RelayError                      any failure a client may be told about
     ├── ClientError                the client's request is at fault (4xx)
     │    ├── InvalidRequest        400  malformed JSON, wrong types, bad fields
     │    │    └── Untranslatable   400  valid, but the chosen provider cannot express it
     │    ├── Unauthorized          401  no or bad relay credentials
     │    ├── Forbidden             403  credentials valid, action not allowed
     │    ├── ModelNotFound         404  unknown model alias
     │    ├── RequestTimeout        408  body not received in time
     │    ├── PayloadTooLarge       413  body over the limit
     │    ├── UnsupportedMediaType  415  body not sent as application/json
     │    └── TooManyRequests       429  the relay's own limits
     └── UpstreamError              a provider failed us (status chosen per case)
          ├── UpstreamRejected      400  the provider refused the request's content
          ├── UpstreamRateLimited   429  retryable, carries Retry-After
          ├── UpstreamUnavailable   502/503  5xx, connect errors; retryable
          └── UpstreamTimeout       504  no answer in time; retryable

    ConfigError                     the configuration document is invalid (start-up)

Adapters convert SDK exceptions into these with ``raise ... from exc``;
messages are written for the client and never include upstream secrets,
URLs with keys, or raw upstream bodies. A message or ``param`` that quotes
client input (a key holding a lone surrogate, say) is made writable as UTF-8
here, once, so answering with an error can never itself fail.

Every ``code`` a client may see is named once below; raise sites use the
names, never the bare strings.
"""

from __future__ import annotations

from typing import Final

# The relay's own codes.
RELAY_ERROR: Final = "relay_error"
INTERNAL_ERROR: Final = "internal_error"
INVALID_REQUEST: Final = "invalid_request"
INVALID_API_KEY: Final = "invalid_api_key"
FORBIDDEN: Final = "forbidden"
MODEL_NOT_FOUND: Final = "model_not_found"
NOT_FOUND: Final = "not_found"
METHOD_NOT_ALLOWED: Final = "method_not_allowed"
REQUEST_TIMEOUT: Final = "request_timeout"
PAYLOAD_TOO_LARGE: Final = "payload_too_large"
UNSUPPORTED_MEDIA_TYPE: Final = "unsupported_media_type"
UNSUPPORTED_CONTENT: Final = "unsupported_content"
RATE_LIMIT_EXCEEDED: Final = "rate_limit_exceeded"
# An upstream's failures, as the relay names them (a provider's own code may be passed on instead).
UPSTREAM_ERROR: Final = "upstream_error"
UPSTREAM_REJECTED: Final = "upstream_rejected"
UPSTREAM_UNAVAILABLE: Final = "upstream_unavailable"
UPSTREAM_TIMEOUT: Final = "upstream_timeout"
UPSTREAM_AUTH_FAILED: Final = "upstream_auth_failed"
UPSTREAM_NOT_FOUND: Final = "upstream_not_found"
UPSTREAM_DISCONNECTED: Final = "upstream_disconnected"
UPSTREAM_TRUNCATED: Final = "upstream_truncated"
UPSTREAM_PROTOCOL_ERROR: Final = "upstream_protocol_error"
MODEL_STREAM_ERROR: Final = "model_stream_error"


class RelayError(Exception):
    """A failure with everything needed to answer the client."""

    status: int = 500
    code: str = RELAY_ERROR
    error_type: str = "api_error"
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
        param: str | None = None,
    ) -> None:
        message = writable(message)
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        if retryable is not None:
            self.retryable = retryable
        self.retry_after = retry_after
        self.param = writable(param) if param is not None else None


def writable(text: str) -> str:
    """``text`` with lone surrogates written as ``\\udfff`` escapes, which UTF-8 can encode."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class ClientError(RelayError):
    """The request itself is at fault; sending it again will not help."""

    status = 400
    error_type = "invalid_request_error"


class InvalidRequest(ClientError):
    status = 400
    code = INVALID_REQUEST


class Untranslatable(InvalidRequest):
    """A valid request the chosen provider cannot express, refused before anything is sent.

    Every provider raises this one class, so a client sees the same 400
    whichever backend the router picked.
    """


class Unauthorized(ClientError):
    status = 401
    code = INVALID_API_KEY
    error_type = "authentication_error"


class Forbidden(ClientError):
    status = 403
    code = FORBIDDEN
    error_type = "permission_error"


class ModelNotFound(ClientError):
    status = 404
    code = MODEL_NOT_FOUND


class RequestTimeout(ClientError):
    status = 408
    code = REQUEST_TIMEOUT


class PayloadTooLarge(ClientError):
    status = 413
    code = PAYLOAD_TOO_LARGE


class UnsupportedMediaType(ClientError):
    status = 415
    code = UNSUPPORTED_MEDIA_TYPE


class TooManyRequests(ClientError):
    status = 429
    code = RATE_LIMIT_EXCEEDED
    error_type = "rate_limit_error"
    retryable = True


class UpstreamError(RelayError):
    """A provider failed; ``retryable`` says whether another backend may succeed."""

    status = 502
    code = UPSTREAM_ERROR
    error_type = "api_error"


class UpstreamRejected(UpstreamError):
    status = 400
    code = UPSTREAM_REJECTED
    error_type = "invalid_request_error"


class UpstreamRateLimited(UpstreamError):
    status = 429
    code = RATE_LIMIT_EXCEEDED
    error_type = "rate_limit_error"
    retryable = True


class UpstreamUnavailable(UpstreamError):
    status = 502
    code = UPSTREAM_UNAVAILABLE
    retryable = True


class UpstreamTimeout(UpstreamError):
    status = 504
    code = UPSTREAM_TIMEOUT
    error_type = "timeout_error"
    retryable = True


class ConfigError(Exception):
    """The configuration document is invalid; each problem names its field.

    ``problems`` lists ``(field path, message)`` pairs, for example
    ``("backends[1].endpoint", "is required for provider azure_openai")``.
    """

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {path}: {message}" for path, message in problems)
        super().__init__(f"invalid relay configuration:\n{lines}")
