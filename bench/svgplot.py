"""A small log-log line chart as plain SVG (no plotting library needed)."""

from __future__ import annotations

import math
from html import escape


def loglog(
    series: dict[str, list[tuple[float, float]]],
    title: str,
    x_label: str,
    y_label: str,
    width: int = 640,
    height: int = 420,
) -> str:
    """Lines with markers for each series of (x, y) points, both axes logarithmic."""
    colors = ["#1f3864", "#c0504d", "#4f8f3a", "#8064a2"]
    dashes = ["", "6 4", "2 3", "8 3 2 3"]
    left, right, top, bottom = 72, 170, 40, 56
    xs = [x for points in series.values() for x, _ in points]
    ys = [y for points in series.values() for _, y in points]
    x0, x1 = 10 ** math.floor(math.log10(min(xs))), 10 ** math.ceil(math.log10(max(xs)))
    y0, y1 = 10 ** math.floor(math.log10(min(ys))), 10 ** math.ceil(math.log10(max(ys)))

    def px(x: float) -> float:
        return left + (math.log10(x) - math.log10(x0)) / (math.log10(x1) - math.log10(x0)) * (
            width - left - right
        )

    def py(y: float) -> float:
        return (
            height
            - bottom
            - (math.log10(y) - math.log10(y0))
            / (math.log10(y1) - math.log10(y0))
            * (height - top - bottom)
        )

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12" role="img" '
        f'aria-labelledby="t">',
        f'<title id="t">{escape(title)}</title>',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="14">{escape(title)}</text>',
    ]
    decade = x0
    while decade <= x1 * 1.0001:
        x = px(decade)
        out.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{height - bottom}" stroke="#ddd"/>'
        )
        out.append(
            f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle">'
            f"{decade:,.0f}</text>"
        )
        decade *= 10
    decade = y0
    while decade <= y1 * 1.0001:
        y = py(decade)
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{decade:g}</text>')
        decade *= 10
    out.append(
        f'<rect x="{left}" y="{top}" width="{width - left - right}" '
        f'height="{height - top - bottom}" fill="none" stroke="#333"/>'
    )
    out.append(
        f'<text x="{(left + width - right) / 2}" y="{height - 14}" '
        f'text-anchor="middle">{escape(x_label)}</text>'
    )
    out.append(
        f'<text x="18" y="{(top + height - bottom) / 2}" text-anchor="middle" '
        f'transform="rotate(-90 18 {(top + height - bottom) / 2})">{escape(y_label)}</text>'
    )
    for n, (name, points) in enumerate(series.items()):
        color, dash = colors[n % len(colors)], dashes[n % len(dashes)]
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{px(x):.1f},{py(y):.1f}" for i, (x, y) in enumerate(points)
        )
        out.append(
            f'<path d="{path}" fill="none" stroke="{color}" stroke-width="2" '
            f'stroke-dasharray="{dash}"/>'
        )
        for x, y in points:
            out.append(
                f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3.5" fill="{color}">'
                f"<title>{escape(name)}: {x:,.0f} → {y:.3g}</title></circle>"
            )
        ly = top + 16 + n * 20
        lx = width - right + 12
        out.append(
            f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 24}" y2="{ly - 4}" stroke="{color}" '
            f'stroke-width="2" stroke-dasharray="{dash}"/>'
        )
        out.append(f'<text x="{lx + 30}" y="{ly}">{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
