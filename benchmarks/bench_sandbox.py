"""What the grading sandbox costs: one kernel's start and a whole graded notebook, with and without it.

    python benchmarks/bench_sandbox.py              # 10 repeats of each
    python benchmarks/bench_sandbox.py --repeat 20

Two measurements, each alternating sandbox on / off so that a busy machine hurts both alike:

* **start**: ``GradingExecute`` on a notebook of one cell (the course notebooks' first cell: import
  numpy, matplotlib and the checks), from ``preprocess`` to its return: kernel start, the cell,
  shutdown. The difference is the sandbox's start cost per notebook.
* **notebook 01**: the reference solution of notebook 01 (every answer filled in from solutions/),
  graded cell by cell as autograde runs it (the grading guard on).

Prints the medians, the difference and the ratio.
"""

import argparse
import os
import pathlib
import statistics
import sys
import tempfile
import time

import nbformat

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.batch import samples  # noqa: E402
from autograder.grading.course import Course  # noqa: E402
from autograder.sandbox import bubblewrap  # noqa: E402
from autograder.sandbox.execute import GradingExecute  # noqa: E402

FIRST_CELL = "import numpy as np\nimport matplotlib.pyplot as plt\nfrom autograder import checks\nprint(np.ones(3).sum())"


def one_cell():
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(FIRST_CELL)]
    return nb


def reference_01(folder):
    """Notebook 01 with the reference answers, as a correct student hands it in."""
    course_root = pathlib.Path(folder) / "course"
    samples.scratch_course(ROOT, course_root)
    course = Course(course_root)
    course.release("01_relu_network")
    return samples.submission(course, "张伟", "01_relu_network", "01_relu_network")


def timed(nb, sandbox, folder):
    executor = GradingExecute(timeout=120, sandbox=sandbox, guard=True)
    copy = nbformat.from_dict(nb)
    start = time.perf_counter()
    executor.preprocess(copy, {"metadata": {"path": folder}})
    seconds = time.perf_counter() - start
    errors = [o for c in copy.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    return seconds, errors


def measure(name, nb, repeat, folder):
    times = {True: [], False: []}
    for _ in range(repeat):
        for sandbox in (True, False):
            seconds, errors = timed(nb, sandbox, folder)
            if name == "start" and errors:
                raise SystemExit(f"the one-cell notebook failed (sandbox={sandbox}): {errors[0]}")
            times[sandbox].append(seconds)
    on, off = statistics.median(times[True]), statistics.median(times[False])
    print(f"{name:12s} sandbox {on:6.3f} s   no sandbox {off:6.3f} s   difference {on - off:+6.3f} s   "
          f"ratio {on / off:5.3f}   (median of {repeat}; min {min(times[True]):.3f} / {min(times[False]):.3f})")
    return on, off


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args(argv)
    ok, why = bubblewrap.available()
    if not ok:
        raise SystemExit(why)
    with tempfile.TemporaryDirectory() as folder:
        work = os.path.join(folder, "work")
        os.mkdir(work)
        timed(one_cell(), True, work)                        # first runs pay for caches
        timed(one_cell(), False, work)
        measure("start", one_cell(), args.repeat, work)
        measure("notebook 01", reference_01(folder), max(3, args.repeat // 3), work)


if __name__ == "__main__":
    main()
