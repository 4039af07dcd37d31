#!/usr/bin/env python3
"""docs/bench.svg from the results of scripts/bench-load.sh: RESULTS.tsv SVG DATE [NOTE]."""
import statistics, sys
from collections import defaultdict
from html import escape

runs = defaultdict(list)
for line in open(sys.argv[1]):
    store, route, name, _round, rps = line.split("\t")[:5]
    if rps:
        runs[(store, route, name)].append(float(rps))
rps = {key: statistics.median(values) for key, values in runs.items()}
routes = ["read", "write", "login", "untouched"]
# (store, title, [(server name, label, colour)])
panels = [
    ("cookie-private", "Cookie store (Private)", [
        ("none", "no middleware", "#9e9e9e"),
        ("actix-cookie-private", "actix-session 0.11", "#e07b39"),
        ("ours-cookie-private", "ours", "#2c7fb8")]),
    ("redis", "Redis store", [
        ("none", "no middleware", "#9e9e9e"),
        ("actix-redis", "actix-session 0.11", "#e07b39"),
        ("ours-redis", "ours, near cache off", "#9ecae1"),
        ("ours-redis-cached", "ours, near cache on", "#2c7fb8")]),
]
panels = [p for p in panels if any((p[0], r, s) in rps for r in routes for s, _, _ in p[2])]
if not panels:
    sys.exit(0)
width, panel_h, top, left = 760, 250, 60, 60
height = top + len(panels) * (panel_h + 50) + 10
out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
       f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
       f'<rect width="{width}" height="{height}" fill="white"/>',
       f'<text x="{width / 2}" y="24" text-anchor="middle" font-size="16">Requests per second, '
       f'one worker (higher is better)</text>',
       f'<text x="{width / 2}" y="42" text-anchor="middle" fill="#555">scripts/bench-load.sh, '
       f'{escape(sys.argv[3])}, medians; wrk on loopback'
       f'{"; " + escape(sys.argv[4]) if len(sys.argv) > 4 else ""}</text>']
for index, (store, title, servers) in enumerate(panels):
    y0 = top + index * (panel_h + 50)
    plot_h = panel_h - 40
    peak = max([rps.get((store, r, s), 0) for r in routes for s, _, _ in servers] + [1])
    scale = plot_h / (peak * 1.1)
    base = y0 + 20 + plot_h
    out.append(f'<text x="{left}" y="{y0 + 12}" font-size="14" font-weight="bold">{escape(title)}</text>')
    step = max(10000, round(peak / 4 / 10000) * 10000)
    for tick in range(0, int(peak * 1.1) + 1, step):
        ty = base - tick * scale
        out.append(f'<line x1="{left}" y1="{ty:.1f}" x2="{width - 20}" y2="{ty:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end" fill="#555">{tick // 1000}k</text>')
    out.append(f'<line x1="{left}" y1="{base}" x2="{width - 20}" y2="{base}" stroke="#333"/>')
    group_w = (width - 20 - left) / len(routes)
    bar_w = (group_w - 30) / len(servers)
    for g, route in enumerate(routes):
        gx = left + g * group_w + 15
        for b, (server, _, colour) in enumerate(servers):
            value = rps.get((store, route, server))
            if value is None:
                continue
            h = value * scale
            x = gx + b * bar_w
            out.append(f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
                       f'fill="{colour}"><title>{escape(server)} /{route}: {value:,.0f} req/s</title></rect>')
            out.append(f'<text x="{x + (bar_w - 2) / 2:.1f}" y="{base - h - 3:.1f}" text-anchor="middle" '
                       f'font-size="9" fill="#333">{value / 1000:.0f}k</text>')
        out.append(f'<text x="{gx + (group_w - 30) / 2:.1f}" y="{base + 16}" text-anchor="middle">/{route}</text>')
    lx = left
    for server, label, colour in servers:
        out.append(f'<rect x="{lx}" y="{base + 26}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{lx + 14}" y="{base + 35}">{escape(label)}</text>')
        lx += 30 + 7 * len(label)
out.append("</svg>")
with open(sys.argv[2], "w") as f:
    f.write("\n".join(out) + "\n")
print(f"(chart written to {sys.argv[2]})", file=sys.stderr)
