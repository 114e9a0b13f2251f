"""``make fuzz``'s Schemathesis runner: a dev relay on free ports, held to the document it serves."""

from __future__ import annotations

from devtools import fuzz_api
from devtools.processes import free_port


def test_a_short_run_against_the_health_route_passes_and_reports() -> None:
    before = set(fuzz_api.REPORT_DIR.glob("junit-*.xml")) if fuzz_api.REPORT_DIR.exists() else set()
    code = fuzz_api.main(["--max-examples=5", "--max-time=5", "--", "--include-path=/health", "--seed=1"])
    reports = set(fuzz_api.REPORT_DIR.glob("junit-*.xml")) - before
    assert code == 0
    assert len(reports) == 1 and "health" in reports.pop().read_text(encoding="utf-8")


def test_schemathesis_only_talks_to_loopback() -> None:
    port = free_port()
    command = fuzz_api.schemathesis_command(port, 10, 60, [])
    assert command[2] == f"http://127.0.0.1:{port}/api/openapi.json"
    assert f"--checks={','.join(fuzz_api.CHECKS)}" in command and "--mode=all" in command
