"""The relay's metric instruments, created once from a meter, with the conventions' names, units and buckets."""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry.metrics import Counter, Histogram, Meter

from . import conventions as c


@dataclass(frozen=True)
class Instruments:
    """Every synchronous instrument a finished request records into."""

    token_usage: Histogram
    duration: Histogram
    time_to_first_chunk: Histogram
    time_per_output_chunk: Histogram
    requests: Counter
    attempts: Histogram
    failovers: Counter

    @classmethod
    def create(cls, meter: Meter) -> Instruments:
        def seconds(name: str, description: str, buckets: tuple[float, ...]) -> Histogram:
            return meter.create_histogram(
                name, unit="s", description=description, explicit_bucket_boundaries_advisory=list(buckets)
            )

        return cls(
            token_usage=meter.create_histogram(
                c.TOKEN_USAGE,
                unit="{token}",
                description="Number of input and output tokens used.",
                explicit_bucket_boundaries_advisory=list(c.TOKEN_BUCKETS),
            ),
            duration=seconds(c.OPERATION_DURATION, "GenAI operation duration.", c.DURATION_BUCKETS),
            time_to_first_chunk=seconds(
                c.TIME_TO_FIRST_CHUNK, "Time to receive the first chunk of a streamed response.", c.DURATION_BUCKETS
            ),
            time_per_output_chunk=seconds(
                c.TIME_PER_OUTPUT_CHUNK,
                "Mean time between output chunks after the first, once per streamed response.",
                c.CHUNK_BUCKETS,
            ),
            requests=meter.create_counter(c.REQUESTS, unit="{request}", description="Chat requests by outcome."),
            attempts=meter.create_histogram(
                c.ATTEMPTS_METRIC,
                unit="{attempt}",
                description="Backends tried per request.",
                explicit_bucket_boundaries_advisory=list(c.ATTEMPT_BUCKETS),
            ),
            failovers=meter.create_counter(
                c.FAILOVERS, unit="{failover}", description="Moves from a failed backend to the next one."
            ),
        )
