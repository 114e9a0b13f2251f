"""Which of an upstream's response headers the relay keeps."""

from __future__ import annotations

from collections.abc import Iterable

# Response headers worth keeping for routing decisions; none carry secrets.
ROUTING_HEADERS = frozenset(
    {
        "retry-after",
        "retry-after-ms",
        "x-ratelimit-remaining-requests",
        "x-ratelimit-remaining-tokens",
        "x-ratelimit-limit-requests",
        "x-ratelimit-limit-tokens",
        "x-ratelimit-reset-requests",
        "x-ratelimit-reset-tokens",
    }
)


def routing_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The rate-limit and Retry-After headers the router reads; never credentials or anything else.

    ``headers`` is any response's ``headers.items()``, whichever HTTP client made it.
    """
    return {name: value for name, value in headers if name.lower() in ROUTING_HEADERS}
