"""Draw a table of figures against their goals as an SVG chart (no dependency).

Usage: python bench/chart.py bench/issue14_figures.csv bench/issue14.svg

The CSV has the columns ``figure, unit, goal`` then one column per series (``before``,
``after_sqlite``...); for "lower is better" figures. Each bar is the figure divided by its goal on
a logarithmic scale, so that every figure shares one axis and the goal is the line at 1: a bar
that ends left of it meets the goal.
"""

import csv
import math
import sys
from html import escape

COLOURS = ["#9a9a9a", "#1f5fa8", "#c0561b", "#2e7d32"]  # contrast >= 3:1 on white


def render(rows: list[dict], series: list[str]) -> str:
    label_w, plot_w, bar_h, gap = 290, 460, 11, 10
    group_h = bar_h * len(series) + gap
    top, legend_h = 40, 26
    height = top + group_h * len(rows) + legend_h + 30
    width = label_w + plot_w + 90
    low, high = math.log10(0.1), math.log10(100)

    def x(ratio: float) -> float:
        ratio = min(max(ratio, 0.1), 100)
        return label_w + (math.log10(ratio) - low) / (high - low) * plot_w

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12" role="img" '
        'aria-labelledby="title">',
        '<title id="title">Each figure divided by its goal (log scale): left of the line '
        "at 1 meets the goal</title>",
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{label_w}" y="18" font-size="13" font-weight="bold">'
        "figure / goal (log scale; left of 1 = goal met)</text>",
    ]
    for tick in (0.1, 0.3, 1, 3, 10, 30, 100):
        tx = x(tick)
        strong = tick == 1
        out.append(
            f'<line x1="{tx:.1f}" y1="{top - 8}" x2="{tx:.1f}" y2="{top + group_h * len(rows)}" '
            f'stroke="{"#000" if strong else "#ddd"}" stroke-width="{2 if strong else 1}"/>'
        )
        out.append(f'<text x="{tx:.1f}" y="{top - 12}" text-anchor="middle">{tick:g}</text>')
    for i, row in enumerate(rows):
        y0 = top + i * group_h
        goal = float(row["goal"])
        out.append(
            f'<text x="{label_w - 8}" y="{y0 + group_h / 2}" text-anchor="end" '
            f'dominant-baseline="middle">{escape(row["figure"])} (goal {goal:g} '
            f"{escape(row['unit'])})</text>"
        )
        for j, name in enumerate(series):
            value = row.get(name, "").strip()
            if not value:
                continue
            ratio = float(value) / goal
            by = y0 + j * bar_h
            out.append(
                f'<rect x="{label_w}" y="{by}" width="{x(ratio) - label_w:.1f}" '
                f'height="{bar_h - 2}" fill="{COLOURS[j % len(COLOURS)]}"/>'
            )
            out.append(
                f'<text x="{x(ratio) + 4:.1f}" y="{by + bar_h / 2}" dominant-baseline="middle" '
                f'font-size="10">{float(value):g}</text>'
            )
    ly = top + group_h * len(rows) + 20
    for j, name in enumerate(series):
        lx = label_w + j * 150
        out.append(f'<rect x="{lx}" y="{ly - 9}" width="12" height="12" fill="{COLOURS[j]}"/>')
        out.append(f'<text x="{lx + 17}" y="{ly + 1}">{escape(name.replace("_", " "))}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], newline="") as source:
        reader = csv.DictReader(source)
        series = [name for name in reader.fieldnames if name not in ("figure", "unit", "goal")]
        rows = list(reader)
    with open(argv[2], "w") as target:
        target.write(render(rows, series))
    print(f"{argv[2]}: {len(rows)} figures, series {', '.join(series)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
