"""Benchmark rows and the plain-text table ``make bench`` prints."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Row:
    """One measured line: which benchmark, which case, its figures, and the relay's event loop if one ran."""

    bench: str
    case: str
    figures: dict[str, object] = field(default_factory=dict)
    loop: str = "-"


def render(rows: list[Row]) -> str:
    """A fixed-width table, one row per case, figures as ``name=value``."""
    bench_width = max([len("bench"), *(len(row.bench) for row in rows)])
    loop_width = max([len("loop"), *(len(row.loop) for row in rows)])
    case_width = max([len("case"), *(len(row.case) for row in rows)])
    header = f"{'bench':<{bench_width}}  {'loop':<{loop_width}}  {'case':<{case_width}}  figures"
    lines = [header, "-" * (bench_width + loop_width + case_width + 40)]
    for row in rows:
        figures = "  ".join(f"{name}={value}" for name, value in row.figures.items())
        lines.append(f"{row.bench:<{bench_width}}  {row.loop:<{loop_width}}  {row.case:<{case_width}}  {figures}")
    return "\n".join(lines)


def render_columns(rows: list[Row]) -> str:
    """A fixed-width table with one column per figure name (in first-seen order); ``-`` where a row has none."""
    names: list[str] = []
    for row in rows:
        names += [name for name in row.figures if name not in names]
    header = ["case", "loop", *names]
    cells = [[row.case, row.loop, *(_cell(row.figures.get(name)) for name in names)] for row in rows]
    widths = [max(len(column), *(len(line[index]) for line in cells)) for index, column in enumerate(header)]
    lines = ["  ".join(text.ljust(width) for text, width in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * width for width in widths))
    lines += ["  ".join(text.ljust(width) for text, width in zip(line, widths, strict=True)) for line in cells]
    return "\n".join(lines)


def _cell(value: object) -> str:
    return "-" if value is None else str(value)
