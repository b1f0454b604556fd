"""Small inline SVG charts: no scripts, no external resources; every label is escaped."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

from .format import SEVERITY_LABELS

SEVERITY_COLOURS = {"critical": "#b42318", "major": "#dc6803", "minor": "#ca8504"}
PASS_COLOUR = "#2e7d4f"
FAIL_COLOUR = "#b42318"
MUTED = "#98a2b3"
TRACK = "#eaecf0"
INK = "#1d2939"

__all__ = ["bullet", "dot_strip", "labelled_bars", "severity_strip", "stacked_bars", "trend"]


def _f(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _svg(width: float, height: float, label: str, body: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {_f(width)} {_f(height)}" '
        f'width="{_f(width)}" height="{_f(height)}" role="img" aria-label="{escape(label)}">'
        f"<title>{escape(label)}</title>{body}</svg>"
    )


def stacked_bars(
    rows: Sequence[tuple[str, Mapping[str, int]]], *, title: str, width: int = 620, label_width: int = 120
) -> Markup:
    """One horizontal bar per row (a county), split by severity, with the total at its end."""
    bar_h, gap = 18, 9
    peak = max((sum(c.values()) for _, c in rows), default=0) or 1
    span = width - label_width - 44
    parts = []
    for index, (label, counts) in enumerate(rows):
        y = index * (bar_h + gap)
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 13}" text-anchor="end" font-size="12" fill="{INK}">{escape(label)}</text>'
        )
        x = float(label_width)
        for severity, colour in SEVERITY_COLOURS.items():
            n = counts.get(severity, 0)
            if not n:
                continue
            w = span * n / peak
            parts.append(
                f'<rect x="{_f(x)}" y="{y}" width="{_f(w)}" height="{bar_h}" fill="{colour}">'
                f"<title>{escape(label)} {SEVERITY_LABELS[severity]} {n} 项</title></rect>"
            )
            x += w
        total = sum(counts.values())
        parts.append(f'<text x="{_f(x + 6)}" y="{y + 13}" font-size="12" fill="{INK}">{total}</text>')
    height = max(len(rows) * (bar_h + gap) - gap, bar_h)
    return _svg(width, height, title, "".join(parts))


def labelled_bars(
    rows: Sequence[tuple[str, int]], *, title: str, width: int = 620, label_width: int = 120, colour: str = "#1f4e79"
) -> Markup:
    """Plain horizontal bars with their values (findings by rule family)."""
    bar_h, gap = 16, 8
    peak = max((n for _, n in rows), default=0) or 1
    span = width - label_width - 44
    parts = []
    for index, (label, n) in enumerate(rows):
        y = index * (bar_h + gap)
        w = span * n / peak
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 12}" text-anchor="end" font-size="12" fill="{INK}">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{_f(w)}" height="{bar_h}" fill="{colour}"/>'
            f'<text x="{_f(label_width + w + 6)}" y="{y + 12}" font-size="12" fill="{INK}">{n}</text>'
        )
    height = max(len(rows) * (bar_h + gap) - gap, bar_h)
    return _svg(width, height, title, "".join(parts))


def severity_strip(counts: Mapping[str, int], *, title: str, width: int = 620) -> Markup:
    """One bar of the whole, split by severity, with a legend under it."""
    total = sum(counts.values())
    parts = [f'<rect x="0" y="0" width="{width}" height="16" fill="{TRACK}"/>']
    x = 0.0
    for severity, colour in SEVERITY_COLOURS.items():
        n = counts.get(severity, 0)
        if total and n:
            w = width * n / total
            parts.append(f'<rect x="{_f(x)}" y="0" width="{_f(w)}" height="16" fill="{colour}"/>')
            x += w
    lx = 0
    for severity, colour in SEVERITY_COLOURS.items():
        parts.append(
            f'<rect x="{lx}" y="26" width="11" height="11" fill="{colour}"/>'
            f'<text x="{lx + 16}" y="36" font-size="12" fill="{INK}">{SEVERITY_LABELS[severity]} {counts.get(severity, 0)}</text>'
        )
        lx += 110
    return _svg(width, 40, title, "".join(parts))


def bullet(
    value: float | None, target: float | None, scale: float, verdict: str, *, title: str, width: int = 220
) -> Markup:
    """A bullet chart: the value as a bar, the target as a tick, red when the area misses it."""
    height = 22
    parts = [f'<rect x="0" y="5" width="{width}" height="12" fill="{TRACK}"/>']
    scale = scale or 1.0

    def at(x: float) -> float:
        return max(0.0, min(float(width), width * x / scale))

    if isinstance(value, (int, float)):
        colour = FAIL_COLOUR if verdict == "fail" else PASS_COLOUR if verdict == "pass" else MUTED
        parts.append(f'<rect x="0" y="7" width="{_f(at(value))}" height="8" fill="{colour}"/>')
    if isinstance(target, (int, float)):
        tx = at(target)
        parts.append(f'<rect x="{_f(max(0.0, tx - 1))}" y="1" width="2" height="20" fill="{INK}"/>')
    return _svg(width, height, title, "".join(parts))


def dot_strip(values: Sequence[float], own: float | None, *, title: str, width: int = 260, fmt: str = "{:g}") -> Markup:
    """Every county as a dot on one axis, this county highlighted, the others unnamed."""
    if not values:
        return Markup("")
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    pad = 8

    def at(x: float) -> float:
        return pad + (width - 2 * pad) * (x - low) / span

    parts = [f'<line x1="{pad}" y1="14" x2="{width - pad}" y2="14" stroke="{MUTED}" stroke-width="1"/>']
    for v in values:
        parts.append(f'<circle cx="{_f(at(v))}" cy="14" r="4" fill="{MUTED}" fill-opacity="0.7"/>')
    if own is not None:
        parts.append(
            f'<circle cx="{_f(at(own))}" cy="14" r="6.5" fill="{FAIL_COLOUR}" stroke="#fff" stroke-width="1.5"/>'
        )
    parts.append(
        f'<text x="{pad}" y="34" font-size="11" fill="{INK}">{escape(fmt.format(low))}</text>'
        f'<text x="{width - pad}" y="34" font-size="11" text-anchor="end" fill="{INK}">{escape(fmt.format(high))}</text>'
    )
    return _svg(width, 38, title, "".join(parts))


def trend(
    points: Sequence[tuple[str, float | None, str]],
    targets: Sequence[tuple[str, float]],
    *,
    title: str,
    width: int = 330,
    percent: bool = False,
) -> Markup:
    """An indicator over the audits: a dot per audit (red when it missed its threshold), joined by
    a line, with the plan's 2022 and 2025 targets as dashed lines."""
    height, top, bottom, left, right = 86, 10, 20, 6, 104
    values = [v for _, v, _ in points if isinstance(v, (int, float))] + [v for _, v in targets]
    if not values:
        return Markup("")
    low, high = min(0.0, min(values)), max(values) or 1.0
    span = (high - low) or 1.0

    def y(v: float) -> float:
        return top + (height - top - bottom) * (1 - (v - low) / span)

    step = (width - left - right) / max(len(points) - 1, 1)
    xs = [left + (step * i if len(points) > 1 else (width - left - right) / 2) for i in range(len(points))]
    parts = [f'<line x1="{left}" y1="{_f(y(low))}" x2="{width - right}" y2="{_f(y(low))}" stroke="{MUTED}"/>']
    for label, value in targets:
        shown = f"{value:.0%}" if percent else f"{value:g}"
        parts.append(
            f'<line x1="{left}" y1="{_f(y(value))}" x2="{width - right}" y2="{_f(y(value))}" stroke="{INK}" '
            f'stroke-dasharray="4 3" stroke-width="1"/>'
            f'<text x="{width - right + 4}" y="{_f(y(value) + 4)}" font-size="10" fill="{INK}">{escape(label)} {escape(shown)}</text>'
        )
    line = [(x, v) for x, (_, v, _) in zip(xs, points) if isinstance(v, (int, float))]
    if len(line) > 1:
        path = " ".join(f"{'M' if i == 0 else 'L'}{_f(x)},{_f(y(v))}" for i, (x, v) in enumerate(line))
        parts.append(f'<path d="{path}" fill="none" stroke="{MUTED}" stroke-width="1.5"/>')
    for x, (label, point, verdict) in zip(xs, points):
        parts.append(
            f'<text x="{_f(x)}" y="{height - 5}" font-size="10" text-anchor="middle" fill="{INK}">{escape(label)}</text>'
        )
        if isinstance(point, (int, float)):
            colour = FAIL_COLOUR if verdict == "fail" else PASS_COLOUR if verdict == "pass" else MUTED
            parts.append(f'<circle cx="{_f(x)}" cy="{_f(y(point))}" r="4" fill="{colour}"/>')
    return _svg(width, height, title, "".join(parts))
