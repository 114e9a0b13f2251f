"""A scripted half-minute of traffic through a local relay, summed up the way the workbook's panels sum up telemetry.

``python -m bench.workbook_sample infra/workbook/sample.svg`` runs it and draws
the panels (:mod:`.workbook_svg`). There is no Azure here, so this is the
README's picture of what an operator sees: two Azure OpenAI deployments on the
emulator behind alias ``gpt-4o`` (one also alone behind ``gpt-4o-mini``), two
client keys, and a script of upstream trouble: 429s on one deployment, then on
both, then 500s until its circuit opens, then recovery. Every figure comes
from the run: the client's timings and the relay's ``x-relay-backend`` and
``x-relay-attempts`` headers, the emulator's record of each upstream answer,
and ``GET /api/health`` sampled twice a second for cooldowns and circuits.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from .processes import relay_server, started_server
from .workbook_svg import render

SECONDS = 30
REQUESTS_PER_SECOND = 6
KEYS = {"web-app": "sample-web-key-8d1f", "batch-jobs": "sample-batch-key-3a7c"}
HEALTHY = {"chunks": 12, "delay_ms": 15}
DEPLOYMENTS = {"azure-east": {**HEALTHY, "first_delay_ms": 60}, "azure-west": {**HEALTHY, "first_delay_ms": 170}}
# (from second, deployment, scenario): what each upstream does from then on.
SCRIPT = [
    (7, "azure-east", {"status": 429, "retry_after": 2}),
    (10, "azure-west", {"status": 429, "retry_after": 1}),
    (12, "azure-west", DEPLOYMENTS["azure-west"]),
    (14, "azure-east", {"status": 500}),
    (21, "azure-east", DEPLOYMENTS["azure-east"]),
]


@dataclass
class Sample:
    """What the run saw, each event stamped with seconds since the start."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    upstream: list[dict[str, Any]] = field(default_factory=list)
    health: list[tuple[float, dict[str, str]]] = field(default_factory=list)


def relay_config(emulator_url: str) -> dict[str, Any]:
    backends = [
        {
            "name": name,
            "provider": "azure_openai",
            "endpoint": emulator_url,
            "deployment": name,
            "api_key_setting": "SAMPLE_KEY",
        }
        for name in DEPLOYMENTS
    ]
    keys = [
        {"name": name, "sha256": hashlib.sha256(key.encode()).hexdigest(), "models": ["*"]}
        for name, key in KEYS.items()
    ]
    return {
        "backends": backends,
        "models": {"gpt-4o": list(DEPLOYMENTS), "gpt-4o-mini": ["azure-west"]},
        "auth": {"relay_keys": keys},
        "routing": {"cooldown": {"default_seconds": 3}, "breaker": {"failure_threshold": 2, "open_seconds": 4}},
    }


async def one_request(client: httpx.AsyncClient, url: str, started: float, rng: random.Random) -> dict[str, Any]:
    """One streamed chat completion from a random key and alias; its timings, tokens and the relay's headers."""
    key = rng.choice(list(KEYS))
    alias = rng.choice(["gpt-4o", "gpt-4o", "gpt-4o-mini"])
    words = 40 if key == "web-app" else 400
    body = {
        "model": alias,
        "stream": True,
        "stream_options": {"include_usage": True},
        "messages": [{"role": "user", "content": "word " * words}],
    }
    sent = time.monotonic()
    record: dict[str, Any] = {"t": sent - started, "key": key, "alias": alias, "ttft_ms": None, "usage": None}
    headers = {"Authorization": f"Bearer {KEYS[key]}"}
    async with client.stream("POST", f"{url}/api/v1/chat/completions", json=body, headers=headers) as response:
        record.update(
            status=response.status_code,
            backend=response.headers.get("x-relay-backend"),
            attempts=int(response.headers.get("x-relay-attempts", "0")),
        )
        async for line in response.aiter_lines():
            if record["ttft_ms"] is None and '"content":"' in line and '"content":""' not in line:
                record["ttft_ms"] = (time.monotonic() - sent) * 1000
            if line.startswith("data: {") and '"usage":{' in line:
                record["usage"] = json.loads(line[6:])["usage"]
    return record


async def drive(relay_url: str, emulator_url: str, sample: Sample) -> None:
    """The traffic, the upstream script and the health sampling, all on one clock."""
    rng = random.Random(14)
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=30) as client:
        polling = asyncio.create_task(poll_health(client, relay_url, started, sample))
        script = asyncio.create_task(play_script(client, emulator_url, started))
        tasks = []
        while (elapsed := time.monotonic() - started) < SECONDS:
            tasks.append(asyncio.create_task(one_request(client, relay_url, started, rng)))
            await asyncio.sleep(max(0.0, len(tasks) / REQUESTS_PER_SECOND - elapsed))
        sample.requests = list(await asyncio.gather(*tasks))
        polling.cancel()
        await script
        records = (await client.get(f"{emulator_url}/_emulator/requests")).json()
    sample.upstream = [
        {"t": r["started_at"] - started, "backend": r["key"], "status": r["status"]}
        for r in records["requests"]
        if r["started_at"] >= started
    ]


async def play_script(client: httpx.AsyncClient, emulator_url: str, started: float) -> None:
    for second, deployment, scenario in SCRIPT:
        await asyncio.sleep(max(0.0, started + second - time.monotonic()))
        await client.post(f"{emulator_url}/_emulator/scenarios", json={"key": deployment, "scenario": scenario})


async def poll_health(client: httpx.AsyncClient, relay_url: str, started: float, sample: Sample) -> None:
    while True:
        backends = (await client.get(f"{relay_url}/api/health")).json()["backends"]
        sample.health.append((time.monotonic() - started, {b["name"]: b["state"] for b in backends}))
        await asyncio.sleep(0.5)


def run() -> Sample:
    sample = Sample()
    with started_server("devtools.emulators.azure_openai", []) as emulator:
        for deployment, scenario in DEPLOYMENTS.items():
            httpx.post(f"{emulator.url}/_emulator/scenarios", json={"key": deployment, "scenario": scenario})
        with relay_server(relay_config(emulator.url), {"SAMPLE_KEY": "sample-upstream-key"}) as relay:
            asyncio.run(drive(relay.url, emulator.url, sample))
    return sample


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: python -m bench.workbook_sample OUTPUT.svg")
    sample = run()
    Path(argv[0]).write_text(render(sample.requests, sample.upstream, sample.health), encoding="utf-8")
    print(f"{len(sample.requests)} requests, {len(sample.upstream)} upstream answers -> {argv[0]}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
