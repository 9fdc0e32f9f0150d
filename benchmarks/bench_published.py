"""Scale of the published leaderboard (issue 20, item 5): targets measured, not asserted.

1. ``import-results`` of a whole results-repository clone into an empty store (target <= 60 s);
2. ``report --benchmark "MTEB(eng, v2)"`` of that store, every model on one page (target <= 10 s);
3. the page's weight (target <= 10 MB);
4. sorting its table by a column in Chromium (Playwright, headless; target <= 200 ms): the time
   from the header click to the re-ordered table, median of 5 clicks on Mean (Task).

    python benchmarks/bench_published.py --repo /work/mtebres/remote [--store DIR] [--keep]

``--store DIR`` reuses an imported store (skips step 1 when DIR holds results). Prints one line per
measurement with the machine load (``os.getloadavg``); ``--json`` writes them too.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
SORT_CLICKS = 5


def _cli(*args: str) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one harness command; on a busy machine the CPU time is the
    better guide to a quiet one (the commands are single-threaded, except the import's readers)."""
    start, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([sys.executable, str(ROOT / "run_benchmark.py"), *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1"}, check=False)
    seconds, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{args[0]} failed (rc {done.returncode}): {done.stderr[-2000:]}")
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _sort_ms(page_path: Path) -> list[float]:
    """Milliseconds from a click on the Mean (Task) header to the re-ordered rows, per click."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page()
        page.goto(page_path.resolve().as_uri())
        page.wait_for_function("window.reportReady === true")
        times = page.evaluate(
            """(clicks) => {
                const th = document.querySelector('table.board th[data-col="mean_task"]');
                const out = [];
                for (let i = 0; i < clicks; i++) {
                    const start = performance.now();
                    th.click();
                    document.body.offsetHeight;  // force the layout of the re-ordered table
                    out.push(performance.now() - start);
                }
                return out;
            }""", SORT_CLICKS)
        browser.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=Path("/work/mtebres/remote"), help="a results-repository clone")
    parser.add_argument("--store", type=Path, help="store to import into (reused when it holds results)")
    parser.add_argument("--benchmark", default="MTEB(eng, v2)")
    parser.add_argument("--json", type=Path, help="also write the measurements here")
    args = parser.parse_args()
    store = args.store or Path(tempfile.mkdtemp(prefix="bench_published_"))
    out = store.parent / (store.name + "-report")
    numbers: dict[str, Any] = {"cpus": os.cpu_count()}
    if not any(store.glob("*/*/*.json")):
        numbers["load_before_import"] = os.getloadavg()[0]
        numbers["import_s"], numbers["import_cpu_s"] = _cli("import-results", str(args.repo), "--results", str(store))
        print(f"import-results: {numbers['import_s']:.1f} s, CPU {numbers['import_cpu_s']:.1f} s (target 60 s), "
              f"load {os.getloadavg()[0]:.1f}")
    numbers["load_before_report"] = os.getloadavg()[0]
    numbers["report_s"], numbers["report_cpu_s"] = _cli("report", "--results", str(store), "--out", str(out), "--benchmark", args.benchmark)
    page = out / "index.html"
    numbers["page_mb"] = page.stat().st_size / 1e6
    with open(out / "leaderboard.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    numbers["models"] = len(rows)
    numbers["complete_models"] = sum(1 for r in rows if r["complete"] == "1")
    print(f"report: {numbers['report_s']:.1f} s, CPU {numbers['report_cpu_s']:.1f} s (target 10 s) for {numbers['models']} models "
          f"({numbers['complete_models']} complete), load {os.getloadavg()[0]:.1f}")
    print(f"page: {numbers['page_mb']:.2f} MB (target 10 MB)")
    if Path(CHROMIUM).exists():
        times = _sort_ms(page)
        numbers["sort_ms"] = statistics.median(times)
        print(f"sort in Chromium: median {numbers['sort_ms']:.0f} ms of {SORT_CLICKS} clicks "
              f"({', '.join(f'{t:.0f}' for t in times)}) (target 200 ms), load {os.getloadavg()[0]:.1f}")
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=1))
    if args.store is None:
        shutil.rmtree(store)
        shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
