"""Resumable streams: a stream opted into with ``x-relay-resumable: 1`` outlives its connection.

Its events go to a replay log (in memory, or Azure Table shared by every
instance), and ``GET /api/v1/streams/{id}`` replays them after the client's
last event, then follows live, in the original dialect; ``DELETE`` cancels.
"""
