"""What every upstream shares, whatever its protocol.

* ``http_status`` — the one policy for an upstream's error status;
* ``failures`` — the common failures (timed out, unreachable, lost
  mid-stream...) and ``client_message``, worded once;
* ``headers`` — the response headers the router reads;
* ``sse_decoder`` — incremental Server-Sent Events decoding;
* ``aiohttp_transport`` — httpx2 requests sent on aiohttp;
* ``usage`` — a provider's token counts as a canonical ``Usage``.

Nothing here knows a provider's name or wire format beyond HTTP and SSE.
"""
