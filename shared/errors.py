"""Every failure the relay reports, as one hierarchy keyed to an HTTP status.

    RelayError                      any failure a client may be told about
     ├── ClientError                the client's request is at fault (4xx)
     │    ├── InvalidRequest        400  malformed JSON, wrong types, bad fields
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
"""

from __future__ import annotations


class RelayError(Exception):
    """A failure with everything needed to answer the client."""

    status: int = 500
    code: str = "relay_error"
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
    code = "invalid_request"


class Unauthorized(ClientError):
    status = 401
    code = "invalid_api_key"
    error_type = "authentication_error"


class Forbidden(ClientError):
    status = 403
    code = "forbidden"
    error_type = "permission_error"


class ModelNotFound(ClientError):
    status = 404
    code = "model_not_found"


class RequestTimeout(ClientError):
    status = 408
    code = "request_timeout"


class PayloadTooLarge(ClientError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(ClientError):
    status = 415
    code = "unsupported_media_type"


class TooManyRequests(ClientError):
    status = 429
    code = "rate_limit_exceeded"
    error_type = "rate_limit_error"
    retryable = True


class UpstreamError(RelayError):
    """A provider failed; ``retryable`` says whether another backend may succeed."""

    status = 502
    code = "upstream_error"
    error_type = "api_error"


class UpstreamRejected(UpstreamError):
    status = 400
    code = "upstream_rejected"
    error_type = "invalid_request_error"


class UpstreamRateLimited(UpstreamError):
    status = 429
    code = "rate_limit_exceeded"
    error_type = "rate_limit_error"
    retryable = True


class UpstreamUnavailable(UpstreamError):
    status = 502
    code = "upstream_unavailable"
    retryable = True


class UpstreamTimeout(UpstreamError):
    status = 504
    code = "upstream_timeout"
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
