"""Several relay processes share one token budget in Azure Table Storage and never overspend it.

Three ``python -m devtools.local_host`` processes, like three scaled-out
instances, point at the same Azurite table and the same Azure OpenAI
emulator. Two hundred concurrent streams from one client race for a budget
that fits only a fraction of them; then the client keeps asking until the
budget is gone for the day.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools.emulators.scenario import inline_prompt
from devtools.local_host import APP_ROOT
from devtools.processes import free_port, stop_processes
from shared.limits.settings import TableStore as TableSettings
from shared.limits.table_store import TableStore
from tests.azurite import Azurite
from tests.builders import AUTH_HEADERS, AZURE_TEST_KEY, TEST_AUTH
from tests.relay_configs import CHAT_URL, chat_body, chat_config
from tests.secret_guard import GUARD

pytestmark = pytest.mark.timeout(300)

BUDGET = 4000
CEILING = 64
INSTANCES = 3
REQUESTS = 200
USAGE = {"prompt_tokens": 30, "completion_tokens": 50}


@dataclass
class Instances:
    urls: list[str]
    table: str
    logs: list[Path] = field(default_factory=list)


def _wait_until_healthy(process: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"relay at {url} exited with status {process.returncode}")
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"relay at {url} did not become healthy")


@pytest.fixture
def instances(azure: Any, azurite: Azurite, tmp_path: Path) -> Iterator[Instances]:
    """Relay processes sharing one quota table."""
    table = f"quotas{uuid.uuid4().hex[:10]}"
    config = chat_config(
        azure.url,
        auth=TEST_AUTH,
        policy={"profiles": {"default": {"max_tokens": CEILING}}},
        quotas={"store": "table", "table": {"table_name": table}, "profiles": {"default": {"tokens_per_day": BUDGET}}},
    )
    environ = {
        **os.environ,
        "RELAY_CONFIG": json.dumps(config),
        "AZURE_TEST_KEY": AZURE_TEST_KEY,
        "AzureWebJobsStorage": azurite.connection_string,
    }
    running = Instances(urls=[], table=table)
    processes = []
    try:
        for index in range(INSTANCES):
            port = free_port()
            log = tmp_path / f"relay-{index}.log"
            command = [sys.executable, "-m", "devtools.local_host", "--port", str(port)]
            with log.open("wb") as sink:
                processes.append(
                    subprocess.Popen(command, cwd=APP_ROOT, env=environ, stdout=sink, stderr=subprocess.STDOUT)
                )
            running.urls.append(f"http://127.0.0.1:{port}")
            running.logs.append(log)
        for process, url in zip(processes, running.urls, strict=True):
            _wait_until_healthy(process, url)
        yield running
    finally:
        stop_processes(processes)
        for log in running.logs:
            if log.exists():
                GUARD.check_text(log.read_text(errors="replace"), f"the output of relay process {log.name}")


@dataclass
class Outcome:
    status: int
    used: int = 0
    code: str | None = None
    retry_after: int | None = None


async def one_stream(client: httpx.AsyncClient, url: str, delay_ms: float = 40) -> Outcome:
    prompt = inline_prompt(chunks=4, delay_ms=delay_ms, **USAGE)
    body = chat_body(prompt, stream=True, stream_options={"include_usage": True})
    response = await client.post(f"{url}{CHAT_URL}", json=body, headers=AUTH_HEADERS)
    if response.status_code != 200:
        error = response.json()["error"]
        return Outcome(response.status_code, code=error["code"], retry_after=int(response.headers["retry-after"]))
    frames = [line[6:] for line in response.text.split("\n") if line.startswith("data: ")]
    assert frames[-1] == "[DONE]", response.text
    return Outcome(200, used=json.loads(frames[-2])["usage"]["total_tokens"])


async def burst(urls: list[str]) -> list[Outcome]:
    limits = httpx.Limits(max_connections=REQUESTS + 10, max_keepalive_connections=REQUESTS + 10)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        return list(await asyncio.gather(*(one_stream(client, urls[index % len(urls)]) for index in range(REQUESTS))))


async def until_spent(urls: list[str]) -> list[Outcome]:
    """Keep asking, one request at a time, until the budget is gone for the day."""
    outcomes: list[Outcome] = []
    async with httpx.AsyncClient(timeout=60) as client:
        for index in range(REQUESTS):
            outcome = await one_stream(client, urls[index % len(urls)], delay_ms=0)
            outcomes.append(outcome)
            if outcome.status == 429 and outcome.retry_after is not None and outcome.retry_after > 1:
                break
    return outcomes


async def stored_spending(azurite: Azurite, table: str) -> tuple[int, int, int]:
    store = TableStore.build(TableSettings(table_name=table), {"AzureWebJobsStorage": azurite.connection_string})
    try:
        ledger = await store.read("key:tests")
    finally:
        await store.aclose()
    return ledger.spent, ledger.reserved, len(ledger.leases)


def test_two_hundred_concurrent_streams_never_overspend_a_shared_budget(
    instances: Instances, azurite: Azurite, azure: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    raced = asyncio.run(burst(instances.urls))
    admitted = [outcome for outcome in raced if outcome.status == 200]
    refused = [outcome for outcome in raced if outcome.status == 429]
    assert len(admitted) + len(refused) == REQUESTS, {outcome.status for outcome in raced}
    assert admitted and refused
    assert {outcome.code for outcome in refused} == {"insufficient_quota"}
    assert all(outcome.used == sum(USAGE.values()) for outcome in admitted)
    spent, reserved, open_leases = asyncio.run(stored_spending(azurite, instances.table))
    assert spent == sum(outcome.used for outcome in admitted)  # every debit landed; none was lost
    assert (reserved, open_leases) == (0, 0)
    assert spent <= BUDGET

    rest = asyncio.run(until_spent(instances.urls))
    final, reserved, open_leases = asyncio.run(stored_spending(azurite, instances.table))
    total = sum(outcome.used for outcome in admitted + rest)
    assert final == total <= BUDGET
    assert rest[-1].status == 429 and rest[-1].retry_after is not None and rest[-1].retry_after > 1
    most_one_request_reserves = BUDGET - final
    assert most_one_request_reserves < 400  # the budget was used up, not abandoned early
    with capsys.disabled():
        print(
            f"\nshared budget: {INSTANCES} processes, {REQUESTS} concurrent -> {len(admitted)} admitted, "
            f"{len(refused)} refused; then {sum(1 for o in rest if o.status == 200)} more one by one; "
            f"spent {final} of {BUDGET} tokens (overspend {max(0, final - BUDGET)}) "
            f"in {time.monotonic() - started:.1f}s"
        )
