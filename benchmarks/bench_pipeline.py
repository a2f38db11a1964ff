"""How much does grading cost on top of just running the notebooks?

    python benchmarks/bench_pipeline.py             # one student's four notebooks, then the demo class
    python benchmarks/bench_pipeline.py --repeat 3  # best of 3

In a scratch copy of the course (the repository is not touched), with the four assignments released:

* **one student**: the reference answers to all four notebooks. ``autograde`` is the pipeline's unit of
  work (``autograder.grading.submission.grade_submission``, as ``python -m autograder autograde`` runs it: audit,
  nbgrader's sanitizing, execution with limits and the guard, scoring, the report); ``nbconvert`` is
  ``jupyter nbconvert --to notebook --execute --allow-errors`` on each of the same four notebooks, one command each;
  ``nbclient`` executes the same notebooks in this process (no command start-up: the bare cost of
  running the cells, a stricter baseline).
* **the demo class**: the bundled sample submissions (``autograder.batch.samples``), every notebook that
  can be run, the same three ways.

The overhead is ``autograde / baseline - 1``; the target is within 30 % of plain ``nbconvert``.
"""

import argparse
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import nbformat
from nbclient import NotebookClient

from autograder.batch import samples
from autograder.grading import submission
from autograder.grading.course import Course

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = pathlib.Path(sys.executable).parent


def best(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def runnable(course, students, assignments):
    """The submitted notebooks nbgrader would run: present and valid."""
    paths = []
    for assignment in assignments:
        for student in students:
            for notebook in course.notebooks(assignment):
                path = course.path("submitted", student, assignment, notebook)
                try:
                    nbformat.read(path, as_version=4)
                except Exception:  # noqa: BLE001 - missing or broken: nbgrader does not run it either
                    continue
                paths.append(path)
    return paths


def nbconvert(paths, scratch):
    for i, path in enumerate(paths):
        out = scratch / f"run{i}"
        out.mkdir(exist_ok=True)
        copy = out / path.name
        shutil.copy(path, copy)
        subprocess.run([str(BIN / "jupyter"), "nbconvert", "--to", "notebook", "--execute", "--allow-errors", "--output",
                        "executed.ipynb", copy.name], cwd=out, check=True, capture_output=True, timeout=600)


def nbclient(paths):
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=600, allow_errors=True, resources={"metadata": {"path": str(path.parent)}}).execute()


def autograde(course, students, assignments):
    for assignment in assignments:
        for student in students:
            submission.grade_submission(course, assignment, student)


def row(name, seconds, baseline_nbconvert, baseline_nbclient):
    return (f"{name:34s} {seconds:7.1f} s   vs nbconvert {seconds / baseline_nbconvert - 1:+6.0%}"
            f"   vs nbclient {seconds / baseline_nbclient - 1:+6.0%}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs (default 1)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="reludrop-bench-") as tmp:
        tmp = pathlib.Path(tmp)
        folder = samples.scratch_course(ROOT, tmp / "course")
        course = Course(folder)
        assignments = course.source_assignments()
        for assignment in assignments:
            course.release(assignment)
        samples.place(course)
        scratch = tmp / "plain"
        scratch.mkdir()

        print(f"python {sys.version.split()[0]}, {len(assignments)} assignments; best of {args.repeat}")
        for label, students in [("one student, four notebooks", ["张伟"]), ("the demo class", list(samples.STUDENTS))]:
            paths = runnable(course, students, assignments)
            plain = best(lambda: nbconvert(paths, scratch), args.repeat)
            bare = best(lambda: nbclient(paths), args.repeat)
            graded = best(lambda: autograde(course, students, assignments), args.repeat)
            print(f"\n{label}: {len(students)} student(s), {len(paths)} notebooks run")
            print(f"{'jupyter nbconvert --execute':34s} {plain:7.1f} s")
            print(f"{'nbclient, in process':34s} {bare:7.1f} s")
            print(row("autograde (grade_submission)", graded, plain, bare))
            print(f"overhead of autograding over plain nbconvert: {graded / plain - 1:+.0%} (target: within +30%)")


if __name__ == "__main__":
    main()
