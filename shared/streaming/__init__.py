"""The stages every client stream passes through, in the order an event meets them.

1. :mod:`.terminal_guarantee` - exactly one terminal event; upstream errors scrubbed; upstream closed.
2. :mod:`.keepalive` - heartbeats while the upstream is quiet; first-token and idle timeouts.
3. :mod:`.outcome_report` - how the stream ended goes to the router, exactly once.
4. :mod:`.quota_lease` - the caller's lease, settled from the final usage.
5. :mod:`.request_record` - one log line per request.

Before any of these, :mod:`.open_throttle` spreads a burst of opens over
loop turns. :mod:`.cancellation` holds the shielded close every stage uses.
"""
