import re, sys
text = open(sys.argv[1]).read()
res = {}
for m in re.finditer(r"^(\S+/\S+)\s+time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", text, re.M):
    v, u = float(m.group(2)), m.group(3)
    res[m.group(1)] = v * {"ns": 1e-3, "µs": 1, "us": 1, "ms": 1e3}[u]
groups = {}
for k, v in res.items():
    g, f = k.split("/", 1); groups.setdefault(g, {})[f] = v
print("| route | mode | time/request µs | above baseline µs | ours/actix (above baseline) |")
print("|---|---|---:|---:|---:|")
for g, modes in groups.items():
    base = modes.get("baseline")
    for f, v in modes.items():
        above = v - base if base is not None and f != "baseline" else None
        ratio = ""
        if f.startswith("ours-") and above is not None:
            store = f[5:].removesuffix("-lazy")
            a = modes.get("actix-" + store)
            if a is not None and a - base > 0:
                ratio = f"{above / (a - base):.2f}"
        print(f"| {g} | {f} | {v:.2f} | {'' if above is None else f'{above:.2f}'} | {ratio} |")
