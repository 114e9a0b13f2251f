"""The relay the resumable tests on one instance share: the in-memory log, two identities."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.builders import RELAY_TEST_KEY, azure_backend
from tests.relay_configs import relay_key
from tests.shared.resumable.sse_text import OTHER_KEY, auth


@pytest.fixture
def relay(azure: Any, start_relay: Callable[..., Any]) -> Iterator[httpx.Client]:
    keys = [relay_key("tests", RELAY_TEST_KEY), relay_key("other", OTHER_KEY)]
    config = {
        "backends": [azure_backend("azure-east", azure.url)],
        "models": {"azure": ["azure-east"]},
        "auth": {"relay_keys": keys},
        "resumable": {"flush_seconds": 0.05},
        "stream": {"heartbeat_seconds": 0.5},
    }
    server = start_relay(config)
    with httpx.Client(base_url=server.url, timeout=30, headers=auth()) as client:
        yield client
