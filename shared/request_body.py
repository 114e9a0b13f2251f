"""Reading a request body: JSON only, bounded in size and in time.

The body is the one part of a request a client controls the pace of. A body
that never finishes would hold a connection, a file descriptor and a worker
slot, so it has a deadline; a client that leaves halfway is named as such,
not reported as a fault of the relay.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from azurefunctions.extensions.http.fastapi import Request
from starlette.requests import ClientDisconnect

from .client_disconnect import ClientDisconnected
from .errors import InvalidRequest, PayloadTooLarge, RequestTimeout, UnsupportedMediaType

JSON_MEDIA_TYPE = "application/json"


def require_json(headers: Mapping[str, str]) -> None:
    """Refuse a body not declared as JSON.

    Browsers send ``text/plain`` and form bodies cross-site without a CORS
    preflight; refusing them keeps a page on another origin from posting
    with the user's cookies.
    """
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != JSON_MEDIA_TYPE:
        raise UnsupportedMediaType(f"Content-Type must be {JSON_MEDIA_TYPE}")


async def read_body(request: Request, limit: int, seconds: float) -> bytes:
    """The body, refusing more than ``limit`` bytes or more than ``seconds`` to send them.

    A client that closes the connection halfway raises ``ClientDisconnected``:
    nobody is left to answer, and nothing went wrong in the relay.
    """
    _check_declared_length(request.headers, limit)
    try:
        async with asyncio.timeout(seconds):
            return await _read_up_to(request, limit)
    except TimeoutError:
        raise RequestTimeout(f"the request body did not arrive within {seconds:g} s") from None
    except ClientDisconnect:
        raise ClientDisconnected from None


def _check_declared_length(headers: Mapping[str, str], limit: int) -> None:
    declared = headers.get("content-length")
    if declared is None:
        return
    if not declared.isdigit():
        raise InvalidRequest("Content-Length is not a number")
    if int(declared) > limit:
        raise _too_large(limit)


async def _read_up_to(request: Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"request body is larger than {limit} bytes")
