"""The resume route as EventSource uses it: GET, reconnects carrying Last-Event-ID, and 204 to stop.

The client here does what the WHATWG EventSource algorithm does, step by
step: it remembers the last ``id:`` it saw, reconnects with
``Last-Event-ID`` when the connection drops or ends, and stops reconnecting
when the answer is 204.
"""

from __future__ import annotations

import httpx
import pytest

from devtools.emulators.scenario import inline_prompt
from tests.relay_configs import CHAT_URL, chat_body
from tests.shared.resumable.sse_text import RESUMABLE, Event, chat_text, events_of, read_events

pytestmark = pytest.mark.timeout(60)

TEXT = "EventSource reconnects on its own, and the relay picks up where it left off: 続き 🚀."
EVENT_SOURCE_HEADERS = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}


def reconnect(relay: httpx.Client, stream_id: str, last_id: int, take: int | None) -> tuple[int, list[Event]]:
    """One EventSource connection: status and the events read (at most ``take``, then the network drops)."""
    headers = {**EVENT_SOURCE_HEADERS, "Last-Event-ID": str(last_id)}
    with relay.stream("GET", f"/api/v1/streams/{stream_id}", headers=headers) as response:
        if response.status_code != 200:
            return response.status_code, []
        assert response.headers["content-type"].startswith("text/event-stream")
        if take is not None:
            return 200, read_events(response, take)[1]
        return 200, events_of(response.read().decode())


def test_event_source_reconnects_resume_exactly_and_a_204_ends_them(relay: httpx.Client) -> None:
    body = chat_body(inline_prompt(text=TEXT, chunks=20, delay_ms=50), stream=True)
    with relay.stream("POST", CHAT_URL, json=body, headers=RESUMABLE) as response:
        stream_id = response.headers["x-relay-stream-id"]
        _, seen = read_events(response, 3)
    statuses = []
    for take in (4, None, None):  # a dropped connection, the rest to the end, then the reconnect after the end
        status, events = reconnect(relay, stream_id, seen[-1].id or 0, take)
        statuses.append(status)
        seen += events
    assert statuses == [200, 200, 204]
    assert [event.id for event in seen] == list(range(1, len(seen) + 1))
    assert chat_text(seen) == TEXT
    assert seen[-1].data == "[DONE]"
