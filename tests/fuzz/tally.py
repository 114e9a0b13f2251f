"""Counts for the whole fuzz run, and failures grouped by cause with the smallest example of each.

A cause is a failure's first problem with numbers blurred, or, for a logged
traceback, the exception type and the project frame that raised it; so 300
examples of one bug make one line in the report, not 300.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from tests.fuzz.exchange import Case, Target, Verdict

EXAMPLE_BYTES = 240


@dataclass
class Failure:
    cause: str
    targets: set[str] = field(default_factory=set)
    count: int = 0
    example: bytes = b""
    headers: list[tuple[str, bytes]] | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class Tally:
    sent: Counter[str] = field(default_factory=Counter)
    statuses: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    slowest: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    failures: dict[str, Failure] = field(default_factory=dict)

    def add(self, target: Target, case: Case, verdict: Verdict, key: str) -> None:
        name = str(target)
        self.sent[name] += 1
        self.statuses[name][str(verdict.status or "none")] += 1
        self.slowest[name] = max(self.slowest[name], verdict.seconds)
        if verdict.problems:
            self._fail(name, target, case, verdict, key)

    def _fail(self, name: str, target: Target, case: Case, verdict: Verdict, key: str) -> None:
        cause = f"{target.dialect} {verdict.status}: {cause_of(verdict.problems)}"
        failure = self.failures.setdefault(cause, Failure(cause))
        failure.count += 1
        failure.targets.add(name)
        content = case.content(target)
        if not failure.example or len(content) < len(failure.example):
            failure.example = content
            failure.headers = [
                (name, value.replace(key.encode(), b"<relay key>")) for name, value in case.header_list(key)
            ]
            failure.problems = verdict.problems

    def failures_of(self, target: Target) -> list[Failure]:
        return [failure for failure in self.failures.values() if str(target) in failure.targets]

    def summary(self) -> str:
        """One screen: requests, statuses and slowest answer per path, then each failure cause."""
        lines = [f"{'path':58} {'sent':>7} {'max s':>6}  statuses"]
        for name in sorted(self.sent):
            statuses = " ".join(f"{status}:{count}" for status, count in sorted(self.statuses[name].items()))
            lines.append(f"{name:58} {self.sent[name]:>7} {self.slowest[name]:>6.2f}  {statuses}")
        lines.append(f"{'total':58} {sum(self.sent.values()):>7}")
        lines.append(f"failure causes: {len(self.failures)}")
        lines += [report(failure) for failure in sorted(self.failures.values(), key=lambda failure: -failure.count)]
        return "\n".join(lines)


TALLY = Tally()
"""The session's tally: the tests add to it, the terminal summary prints it."""


def cause_of(problems: list[str]) -> str:
    logged = [problem for problem in problems if problem.startswith("log:")]
    first = logged[0] if logged else problems[0]
    located = re.search(r"\[[A-Za-z]+ at [^\]]+\]", first)
    if located:
        return located.group(0)
    return re.sub(r"\d+", "N", first)[:100]


def report(failure: Failure) -> str:
    example = failure.example[:EXAMPLE_BYTES]
    more = f" (+{len(failure.example) - EXAMPLE_BYTES} bytes)" if len(failure.example) > EXAMPLE_BYTES else ""
    return (
        f"- {failure.cause} x{failure.count} on {', '.join(sorted(failure.targets))}\n"
        f"    smallest body: {example!r}{more}\n    headers: {failure.headers}\n"
        f"    problems: {'; '.join(failure.problems)[:400]}"
    )
