"""A backend that accepts connections but never answers gets one attempt's time, not the whole budget."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from devtools.threaded_server import ThreadedServer
from tests.builders import AUTH_HEADERS, azure_backend
from tests.relay_configs import CHAT_URL, chat_body

ATTEMPT_TIMEOUT = 1.0
BUDGET = 30.0


@pytest.fixture
def silent_upstream() -> Iterator[str]:
    """A listening socket on a free port: the kernel completes every handshake, nothing ever answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_a_hung_backend_gives_way_to_the_next_within_the_attempt_timeout(
    start_relay: Callable[..., ThreadedServer], azure: Any, silent_upstream: str
) -> None:
    config = {
        "backends": [
            azure_backend("hung", silent_upstream, priority=1),
            azure_backend("healthy", azure.url, priority=2),
        ],
        "models": {"azure": ["hung", "healthy"]},
        "routing": {"failover": {"budget_seconds": BUDGET, "attempt_timeout_seconds": ATTEMPT_TIMEOUT}},
    }
    server = start_relay(config)
    response = httpx.post(f"{server.url}{CHAT_URL}", json=chat_body(), headers=AUTH_HEADERS, timeout=BUDGET + 10)
    assert response.status_code == 200, response.text
    assert (response.headers["x-relay-attempts"], response.headers["x-relay-backend"]) == ("2", "healthy")
