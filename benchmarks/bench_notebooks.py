"""Time each solution notebook top to bottom, the way a student's "Restart and Run All" runs it.

    python benchmarks/bench_notebooks.py [--repeat R] [notebook ...]

Each notebook runs in a fresh kernel (nbclient, kernel ``python3``, in its
own folder), so the time includes starting the kernel and importing numpy,
matplotlib and the grader. The table gives the wall time of each (best of R
runs), the slowest cell, and the verdict against the target: every solution
notebook must run in at most 10 s. Exits 1 if a notebook fails or misses it.
"""

import argparse
import datetime
import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parent.parent
TARGET = 10.0


def cell_seconds(cell):
    """How long a cell ran, from the timings nbclient records."""
    timing = cell.metadata.get("execution", {})
    try:
        start = datetime.datetime.fromisoformat(timing["iopub.execute_input"].replace("Z", "+00:00"))
        end = datetime.datetime.fromisoformat(timing["shell.execute_reply"].replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return 0.0
    return (end - start).total_seconds()


def run_once(path):
    """Execute the notebook once; return (wall seconds, (seconds, index) of its slowest cell)."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=True,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    wall = time.perf_counter() - start
    slowest = max((cell_seconds(c), i) for i, c in enumerate(nb.cells) if c.cell_type == "code")
    return wall, slowest


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs per notebook; the best is reported (default 1)")
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path,
                        help="notebooks to time (default: solutions/*/*.ipynb)")
    args = parser.parse_args(argv)
    paths = [p.resolve() for p in args.notebooks] or sorted(
        p for p in (ROOT / "solutions").glob("*/*.ipynb") if p.stem == p.parent.name)

    print(f"{'notebook':28s} {'wall time':>9s}   {'slowest cell':>14s}   target {TARGET:.0f} s")
    ok = True
    for path in paths:
        runs = [run_once(path) for _ in range(max(1, args.repeat))]
        wall, (cell_time, cell_index) = min(runs)
        verdict = "ok" if wall <= TARGET else "TOO SLOW"
        ok &= wall <= TARGET
        print(f"{path.stem:28s} {wall:8.1f}s   {cell_time:5.1f}s (cell {cell_index:2d})   {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
