"""Side by side: two `make bench` results (var/bench/results-<loans>.json) as one Markdown table for
docs/performance.md, with how each figure grew from the smaller book to the bigger one.

    scripts/bench_compare.py var/bench/results-100000.json var/bench/results-1000000.json
"""

import json
import sys
from pathlib import Path


def _load(path: str) -> tuple[int, dict, dict]:
    data = json.loads(Path(path).read_text())
    loans = data.get("loans") or int(Path(path).stem.split("-")[1])  # results-<loans>.json before "loans" was kept
    return loans, {page["name"]: page for page in data["pages"]}, data["batches"]


def _b1(page: dict, pages: dict) -> float:
    """The B1 p95 a page is compared with: the one timed just before it, or the run's own B1 line in results written
    before the bench timed B1 beside every page."""
    return page.get("b1_p95") or pages["B1 baseline"]["c1"]["p95_ms"]


def _cell(page: dict | None, key: str, level: str = "c1") -> str:
    value = (page or {}).get(level, {}).get(key)
    return "" if value is None else f"{value}"


def pages_table(small: tuple, big: tuple) -> list[str]:
    (n1, p1, _), (n2, p2, _) = small, big
    lines = [
        f"| page | queries {n1:,} / {n2:,} | p50 c1 ms | p95 c1 ms | p95/B1 | p95 c8 ms | p95 c1 growth |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name in p2:
        a, b = p1.get(name), p2[name]
        queries = f"{a['queries'] if a else ''} / {b['queries']}"
        p95 = f"{_cell(a, 'p95_ms')} / {_cell(b, 'p95_ms')}"
        p50 = f"{_cell(a, 'p50_ms')} / {_cell(b, 'p50_ms')}"
        ratios = []
        for page, pages in ((a, p1), (b, p2)):
            value = (page or {}).get("c1", {}).get("p95_ms")
            ratios.append(f"{value / _b1(page, pages):.1f}" if value else "")
        c8 = f"{_cell(a, 'p95_ms', 'c8')} / {_cell(b, 'p95_ms', 'c8')}"
        growth = ""
        if a and a.get("c1", {}).get("p95_ms") and b.get("c1", {}).get("p95_ms"):
            growth = f"× {b['c1']['p95_ms'] / a['c1']['p95_ms']:.2f}"
        lines.append(f"| {name} | {queries} | {p50} | {p95} | {' / '.join(ratios)} | {c8} | {growth} |")
    return lines


def batches_table(small: tuple, big: tuple) -> list[str]:
    (n1, _, b1), (n2, _, b2) = small, big
    lines = [f"| batch | wall s {n1:,} / {n2:,} | peak MiB | result at {n2:,} |", "|---|---:|---:|---|"]
    for name, found in b2.items():
        before = b1.get(name, {})
        lines.append(
            f"| {name} | {before.get('wall_s', '')} / {found['wall_s']} | "
            f"{before.get('peak_kb', 0) // 1024} / {found['peak_kb'] // 1024} | {found['out'].strip()[:220]} |"
        )
    return lines


if __name__ == "__main__":
    small, big = _load(sys.argv[1]), _load(sys.argv[2])
    print("\n".join([*pages_table(small, big), "", *batches_table(small, big)]))
