"""checkov on infra/ finds nothing, and every check the template skips says why next to the skip.

checkov pins many packages, so it lives in its own virtual environment
(``make checkov``: .venv-checkov); ``RELAY_CHECKOV`` may name another binary.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from functools import cache
from typing import Any

from tests.infra.bicep import INFRA, ROOT

SKIP = re.compile(r"//\s*checkov:skip=(CKV2?_[A-Z]+_\d+)(.*)$")
MIN_REASON = 30


@cache
def checkov_report() -> dict[str, Any]:
    binary = os.environ.get("RELAY_CHECKOV", str(ROOT / ".venv-checkov" / "bin" / "checkov"))
    assert os.path.exists(binary), f"checkov not found at {binary}: run `make checkov` (make test does)"
    command = [binary, "-d", str(INFRA), "--framework", "bicep", "--skip-download", "-o", "json"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.stdout.strip(), f"checkov printed no report: {done.stderr[-2000:]}"
    report = json.loads(done.stdout)
    return report if isinstance(report, dict) else {"summary": {}, "results": {}, "many": report}


def test_checkov_reports_no_failed_check_and_no_parsing_error() -> None:
    report = checkov_report()
    assert "many" not in report, "checkov reported more than the bicep framework"
    summary = report["summary"]
    failed = [f"{c['check_id']} {c['resource']} {c['file_path']}" for c in report["results"].get("failed_checks", [])]
    assert summary["failed"] == 0, "\n".join(failed)
    assert summary["parsing_errors"] == 0, "checkov could not parse a Bicep file, so it checked nothing there"
    assert summary["passed"] >= 30, "checkov checked suspiciously little"


def test_every_skip_is_used_and_carries_a_reason() -> None:
    written: dict[str, list[str]] = {}
    for path in sorted(INFRA.rglob("*.bicep")):
        for line in path.read_text(encoding="utf-8").splitlines():
            match = SKIP.search(line)
            if match:
                reason = match.group(2).lstrip(":").strip()
                assert len(reason) >= MIN_REASON, f"{path.name}: skip of {match.group(1)} needs a reason beside it"
                written.setdefault(match.group(1), []).append(path.name)
    skipped = checkov_report()["results"].get("skipped_checks", [])
    assert {check["check_id"] for check in skipped} == set(written), "a skip comment matches no finding (stale)"
    assert all(check["check_result"].get("suppress_comment") for check in skipped)
