"""A web page's own backend, in miniature: it holds a relay key and hands its page browser tokens.

The demo page's "browser token" mode asks ``POST /example/browser-token`` for a
token; this backend answers by calling the relay's ``POST /api/auth/browser-token``
with its own key, server to server, and passes on only the token and its
expiry. The page never sees the key, and a token it leaks is good for a few
minutes, for the aliases and ``max_tokens`` ceiling minted into it.

``make dev`` mounts it in front of the relay on the same origin, so the page's
strict Content-Security-Policy (``connect-src 'self'``) holds. A real backend
would first check who its user is (a session cookie, say) and mint with that
user as ``subject``, so each user gets a quota of their own.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TOKEN_PATH = "/example/browser-token"
MINT_PATH = "/api/auth/browser-token"


class ExampleBackend:
    """Mints browser tokens for the demo page with a key only this server holds."""

    def __init__(
        self, relay_key: str, *, relay_url: str = "", subject: str = "demo-page", ttl_minutes: int = 5
    ) -> None:
        self._relay_key = relay_key
        # Set once the relay listens: tests and ``make dev`` learn its port only then.
        self.relay_url = relay_url
        self.request = {"subject": subject, "ttl_minutes": ttl_minutes}

    def in_front_of(self, relay: ASGIApp) -> ASGIApp:
        """One ASGI app: the token route here, everything else to ``relay``."""

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and scope["path"] == TOKEN_PATH:
                await self.answer(scope, send)
            else:
                await relay(scope, receive, send)

        return app

    async def answer(self, scope: Scope, send: Send) -> None:
        """``POST /example/browser-token``: the token and its expiry, or an error naming no secret."""
        if scope["method"] != "POST":
            await reply(send, 405, error_document("use POST", "method_not_allowed"), ((b"allow", b"POST"),))
            return
        status, document = await self.mint()
        await reply(send, status, document)

    async def mint(self) -> tuple[int, dict[str, Any]]:
        """Ask the relay for a token with this server's key; keep only what the page needs."""
        headers = {"Authorization": f"Bearer {self._relay_key}"}
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                response = await client.post(f"{self.relay_url}{MINT_PATH}", json=self.request, headers=headers)
        except httpx.HTTPError:
            return 502, error_document("the relay could not be reached", "token_unavailable")
        if response.status_code != 200:
            message = f"the relay refused to mint a token (HTTP {response.status_code})"
            return 502, error_document(message, "token_unavailable")
        minted = response.json()
        return 200, {"token": minted["token"], "exp": minted["exp"], "models": minted["models"]}


def error_document(message: str, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "example_backend_error", "code": code}}


async def reply(send: Send, status: int, document: dict[str, Any], extra: tuple[tuple[bytes, bytes], ...] = ()) -> None:
    body = json.dumps(document).encode()
    headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store"), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
