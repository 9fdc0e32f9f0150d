"""The performance table of docs/performance.md, generated from benchmarks/results/*.json (never typed by hand).

    python benchmarks/make_table.py            # print the table
    python benchmarks/make_table.py --write    # replace it in docs/performance.md between the markers
"""

from __future__ import annotations

import argparse
import json

from _common import REPO, RESULTS

PAGE = REPO / "docs" / "performance.md"
START, END = "<!-- perf-table:start -->", "<!-- perf-table:end -->"


def load(name: str) -> dict:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _ratio(row: dict, axis: str) -> str:
    """``0.99× (0.95–1.12)``: the median ratio over paired runs and its range."""
    low, high = row[f"{axis}_ratio_range"]
    return f"{row[f'{axis}_ratio_median']:.2f}× ({low:.2f}–{high:.2f})"


def rows() -> list[tuple[str, str, str]]:
    out = []
    if vs := load("vs_mteb"):
        for r in vs["rows"]:
            out.append((f"cold run vs mteb 2.x: {r['type']} ({r['task']}), {vs['pairs']} paired runs",
                        f"CPU {_ratio(r, 'cpu')}, wall {_ratio(r, 'wall')}, Δ score {r['delta']:+.0e}", "≤ 1.0×, Δ within ±1e-4"))
    if o := load("overhead"):
        out.append((f"cold run / pure encoding of the same unique texts ({', '.join(o['tasks'])}; {o['pairs']} paired runs)",
                    f"CPU {_ratio(o, 'cpu')}, wall {_ratio(o, 'wall')}", "≤ 1.05"))
    if st := load("startup"):
        for name, t in st["commands"].items():
            target = f"< {st['targets_s'][name]} s" if name in st["targets_s"] else ""
            out.append((f"start-up: `{name}` (median of {st['runs']}, load {st['load_average_1min']:.1f})",
                        f"{t['wall_s']:.2f} s wall, {t['cpu_s']:.2f} s CPU", target))
    if w := load("warm"):
        out.append(("warm rerun speed-up (cache filled, results removed)", f"{w['speedup']:.0f}× ({w['cold_s']:.0f} s → {w['warm_s']:.1f} s)", "≥ 50×"))
    if s := load("search"):
        for r in s["runs"]:
            out.append((f"exact top-1000 search, 1,000 queries × {r['docs']:,} docs", f"{r['seconds']:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB", "≤ 2 GB"))
    if st := load("stats"):
        out.append((f"significance: {st['models']} models × {st['tasks']} tasks × {st['resamples']:,} resamples", f"{st['compare_s']:.1f} s (CPU {st['compare_cpu_s']:.1f} s, load {st['load_average_1min']:.1f})", "≤ 10 s"))
    if rp := load("report"):
        out.append((f"leaderboard: {rp['models']} models × {rp['tasks']} tasks", f"render {rp['render_s']:.1f} s, page {rp['page_mb']:.2f} MB, sort {rp['sort_ms_median']:.0f} ms", "≤ 3 s, ≤ 5 MB, ≤ 200 ms"))
    if ray := load("ray_scaling"):
        sc = ray.get("scaling", {})
        if "speedup_total" in sc:
            out.append(("Ray: 2 workers vs 1 (1 thread each)", f"{sc['speedup_total']:.2f}×", "≥ 1.7×"))
    return out


def table() -> str:
    lines = ["| benchmark | measured | target |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="The performance table from benchmarks/results/*.json.")
    parser.add_argument("--write", action="store_true", help=f"replace the table in {PAGE.relative_to(REPO)} (default: print it)")
    text = table()
    if not parser.parse_args().write:
        print(text)
        return
    content = PAGE.read_text()
    head, _, rest = content.partition(START)
    _, _, tail = rest.partition(END)
    PAGE.write_text(f"{head}{START}\n{text}\n{END}{tail}")
    print(f"updated {PAGE.relative_to(REPO)}")


if __name__ == "__main__":
    main()
