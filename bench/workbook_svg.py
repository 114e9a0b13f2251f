"""The workbook's panels drawn as one SVG from a local run (:mod:`.workbook_sample`), for the README.

Each panel sums the run the way its query in infra/workbook/relay-workbook.json
sums telemetry: percentiles per backend, token totals per alias and per key,
counts per time bin. Plain SVG written by hand, so the picture needs no
plotting library.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from html import escape
from typing import Any

BIN_SECONDS = 2
PANEL_W, PANEL_H, GAP = 470, 210, 20
PLOT_LEFT, PLOT_TOP, PLOT_W, PLOT_H = 50, 46, 270, 130
COLORS = ["#0078d4", "#e3008c", "#498205", "#ca5010", "#8764b8", "#038387"]
Series = dict[str, list[float]]


Health = list[tuple[float, dict[str, str]]]


def render(requests: list[dict[str, Any]], upstream: list[dict[str, Any]], health: Health) -> str:
    """Every panel, two to a row, under a title that says what the picture is and is not."""
    bins = 1 + int(max(r["t"] for r in requests) // BIN_SECONDS)
    panels = [
        ttft_table(requests),
        bars("Tokens by alias", token_totals(requests, "alias")),
        bars("Tokens by client key", token_totals(requests, "key")),
        lines("Requests by outcome", per_bin(((r["t"], outcome(r), 1) for r in requests), bins)),
        lines("429s: upstream by backend, and the relay's own", per_bin(too_many(requests, upstream), bins)),
        lines("Failovers by alias", per_bin(((r["t"], r["alias"], max(0, r["attempts"] - 1)) for r in requests), bins)),
        lines("Open circuits and cooldowns by backend", router_states(health, bins), step=True),
    ]
    width = 2 * PANEL_W + 3 * GAP
    height = 60 + ((len(panels) + 1) // 2) * (PANEL_H + GAP)
    body = [
        f'<g transform="translate({GAP + (i % 2) * (PANEL_W + GAP)},{60 + (i // 2) * (PANEL_H + GAP)})">'
        f'<rect width="{PANEL_W}" height="{PANEL_H}" fill="#fff" stroke="#d0d0d0"/>{panel}</g>'
        for i, panel in enumerate(panels)
    ]
    title = (
        f'<text x="{GAP}" y="28" font-size="18" font-weight="600">LLM stream relay (workbook panels, '
        f"rendered from a local run: {len(requests)} requests in {bins * BIN_SECONDS} s)</text>"
        f'<text x="{GAP}" y="48" font-size="12" fill="#555">Not a screenshot of Azure: the same '
        f"summaries, computed from the run's own numbers. Time bins of {BIN_SECONDS} s.</text>"
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="Segoe UI, Helvetica, Arial, sans-serif" font-size="11">'
        f'<rect width="100%" height="100%" fill="#f5f5f5"/>{title}{"".join(body)}</svg>\n'
    )


def outcome(request: dict[str, Any]) -> str:
    if request["status"] == 200:
        return "ok" if request["ttft_ms"] is not None else "stream error"
    return "429 to client" if request["status"] == 429 else f"HTTP {request['status']}"


def too_many(requests: list[dict[str, Any]], upstream: list[dict[str, Any]]) -> list[tuple[float, str, float]]:
    seen = [(u["t"], f"upstream {u['backend']}", 1.0) for u in upstream if u["status"] == 429]
    return seen + [(r["t"], "relay to client", 1.0) for r in requests if r["status"] == 429]


def per_bin(events: Any, bins: int) -> Series:
    series: Series = defaultdict(lambda: [0.0] * bins)
    for t, name, value in events:
        series[name][min(bins - 1, int(t // BIN_SECONDS))] += value
    return dict(sorted(series.items()))


def router_states(health: Health, bins: int) -> Series:
    """Per bin, 1 when the backend was in that state at any sample: the query's max over the interval."""
    labels = {"circuit_open": "circuit open", "cooling_down": "cooling down"}
    series: Series = {}
    for t, states in health:
        for backend, state in states.items():
            if state in labels:
                series.setdefault(f"{backend} {labels[state]}", [0.0] * bins)[min(bins - 1, int(t // BIN_SECONDS))] = 1
    return dict(sorted(series.items()))


def token_totals(requests: list[dict[str, Any]], by: str) -> dict[str, tuple[int, int]]:
    totals: dict[str, Counter[str]] = defaultdict(Counter)
    for r in requests:
        if r["usage"]:
            totals[r[by]].update(input=r["usage"]["prompt_tokens"], output=r["usage"]["completion_tokens"])
    return {name: (c["input"], c["output"]) for name, c in sorted(totals.items())}


def heading(title: str) -> str:
    return f'<text x="14" y="24" font-size="13" font-weight="600">{escape(title)}</text>'


def ttft_table(requests: list[dict[str, Any]]) -> str:
    by_backend: dict[str, list[float]] = defaultdict(list)
    for r in requests:
        if r["ttft_ms"] is not None:
            by_backend[r["backend"]].append(r["ttft_ms"])
    rows = [("backend", "p50 ms", "p95 ms", "requests")]
    for backend, samples in sorted(by_backend.items()):
        ordered = sorted(samples)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        rows.append((backend, f"{statistics.median(ordered):.0f}", f"{p95:.0f}", str(len(ordered))))
    cells = []
    for i, row in enumerate(rows):
        y = 60 + i * 24
        weight = ' font-weight="600"' if i == 0 else ""
        cells += [
            f'<text x="{20 + j * 110}" y="{y}" font-size="12"{weight}>{escape(cell)}</text>'
            for j, cell in enumerate(row)
        ]
    note = "As the client timed it: the relay's metric starts when the request arrives."
    footer = f'<text x="20" y="{PANEL_H - 14}" fill="#555">{escape(note)}</text>'
    return heading("Time to first token by backend") + "".join(cells) + footer


def bars(title: str, totals: dict[str, tuple[int, int]]) -> str:
    """Horizontal stacked bars: input then output tokens."""
    top = max([1, *(a + b for a, b in totals.values())])
    parts = [heading(title), legend({"input": COLORS[0], "output": COLORS[1]})]
    for i, (name, (given, produced)) in enumerate(totals.items()):
        y = PLOT_TOP + i * 34
        w_in, w_out = given / top * 150, produced / top * 150
        parts += [
            f'<text x="14" y="{y + 14}">{escape(name)}</text>',
            f'<rect x="110" y="{y}" width="{w_in:.1f}" height="20" fill="{COLORS[0]}"/>',
            f'<rect x="{110 + w_in:.1f}" y="{y}" width="{w_out:.1f}" height="20" fill="{COLORS[1]}"/>',
            f'<text x="{116 + w_in + w_out:.1f}" y="{y + 14}">{given:,} / {produced:,}</text>',
        ]
    return "".join(parts)


def lines(title: str, series: Series, step: bool = False) -> str:
    """A time chart: one polyline per series over the run's bins."""
    parts = [heading(title)]
    if not series:
        return parts[0] + f'<text x="{PLOT_LEFT}" y="{PLOT_TOP + 60}" fill="#777">none in this run</text>'
    bins = len(next(iter(series.values())))
    top = max(1.0, *(max(values) for values in series.values()))
    parts.append(axes(top, bins))
    colors = dict(zip(series, COLORS * 3, strict=False))
    for name, values in series.items():
        points = []
        for i, value in enumerate(values):
            if step and i:
                points.append(point(i, values[i - 1], bins, top))
            points.append(point(i, value, bins, top))
        parts.append(f'<polyline fill="none" stroke="{colors[name]}" stroke-width="2" points="{" ".join(points)}"/>')
    return "".join(parts) + legend(colors)


def point(index: int, value: float, bins: int, top: float) -> str:
    x = PLOT_LEFT + index * PLOT_W / max(1, bins - 1)
    return f"{x:.1f},{PLOT_TOP + PLOT_H - value / top * PLOT_H:.1f}"


def axes(top: float, bins: int) -> str:
    bottom, right = PLOT_TOP + PLOT_H, PLOT_LEFT + PLOT_W
    return (
        f'<line x1="{PLOT_LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#999"/>'
        f'<text x="{PLOT_LEFT - 6}" y="{PLOT_TOP + 4}" text-anchor="end">{top:g}</text>'
        f'<text x="{PLOT_LEFT - 6}" y="{bottom}" text-anchor="end">0</text>'
        f'<text x="{right}" y="{bottom + 16}" text-anchor="end">{bins * BIN_SECONDS} s</text>'
        f'<text x="{PLOT_LEFT}" y="{bottom + 16}">0 s</text>'
    )


def legend(colors: dict[str, str]) -> str:
    left = PLOT_LEFT + PLOT_W + 20
    return "".join(
        f'<rect x="{left}" y="{PLOT_TOP + i * 18}" width="10" height="10" fill="{color}"/>'
        f'<text x="{left + 14}" y="{PLOT_TOP + i * 18 + 9}">{escape(name)}</text>'
        for i, (name, color) in enumerate(colors.items())
    )
