"""The variant catalogue graded through nbgrader with today's test cells and with those of an earlier commit.

    python benchmarks/catalogue_grades.py --old da92ea0          # which variants' grades the new test cells change
    python benchmarks/catalogue_grades.py                        # today's test cells only: sizes and grading time

The class is ``tests/class_harness.catalogue_class``: per notebook a reference student, one student per variant
of ``autograder/variants`` (in its answer cell, reference answers elsewhere) and one per (buggy upstream, correct
downstream) pair, the same class ``tests/test_fair_grades.py`` grades. Each set of test cells grades it in a
fresh scratch course (``python -m autograder autograde --all --jobs 2``, the sandbox on); ``--old REV`` takes
the solution notebooks (test cells and answers) from that commit and everything else from the working tree.

Printed: the catalogue size per notebook, the grading time of each run, and every student whose test cells
lost a different set of points under the old cells, with what each version took and whether the variant is
correct. Exit status 0 (the figures are the result), 2 for a bad command line.
"""

import argparse
import collections
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from autograder import variants  # noqa: E402
from class_harness import ASSIGNMENTS, catalogue_class, catalogue_for, grade, scores  # noqa: E402

from autograder.batch import samples  # noqa: E402
from autograder.grading.course import Course  # noqa: E402


def course_with(folder, rev=None):
    """A scratch course of the working tree's course, with the solution notebooks of ``rev`` if given."""
    root = samples.scratch_course(ROOT, folder)
    if rev is not None:
        for assignment in ASSIGNMENTS:
            path = f"solutions/{assignment}/{assignment}.ipynb"
            text = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=ROOT, capture_output=True, text=True,
                                  check=True).stdout
            (root / path).write_text(text, encoding="utf-8")
    return root


def graded_class(root, catalogue):
    """Release, submit the catalogue class and grade it: (students, {(student, assignment): lost cells}, seconds)."""
    course = Course(root)
    for assignment in ASSIGNMENTS:
        course.release(assignment)
    students = catalogue_class(course, catalogue, root=root)
    run, seconds = grade(root)
    if run.returncode not in (0, 1):
        sys.exit(f"grading failed (exit {run.returncode}):\n{run.stderr[-3000:]}")
    lost = {}
    for (student, assignment, _, cell), (_, score, max_score) in scores(root).items():
        cells = lost.setdefault((student, assignment), set())
        if cell.startswith("test_") and score < max_score:
            cells.add(cell)
    return students, lost, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", metavar="REV", help="also grade with the solution notebooks of this commit")
    args = parser.parse_args(argv)
    catalogue = variants.load()
    sizes = {a: sum(len(v) for v in catalogue_for(a, catalogue).values()) for a in ASSIGNMENTS}
    print(f"catalogue: {len(catalogue)} variants; per notebook {sizes}")
    with tempfile.TemporaryDirectory(prefix="catalogue-") as tmp:
        students, new, seconds = graded_class(course_with(pathlib.Path(tmp) / "new"), catalogue)
        kinds = collections.Counter(s.kind for s in students)
        print(f"today's test cells: {len(students)} students ({dict(kinds)}), graded in {seconds:.1f} s (--jobs 2)")
        if args.old is None:
            return 0
        _, old, old_seconds = graded_class(course_with(pathlib.Path(tmp) / "old", args.old), catalogue)
        print(f"test cells of {args.old}: graded in {old_seconds:.1f} s (--jobs 2)")
    changed = [s for s in students if old.get((s.id, s.assignment)) != new.get((s.id, s.assignment))]
    print(f"\nstudents whose lost cells differ: {len(changed)} of {len(students)}")
    print(f"  of them one-variant students: {sum(s.kind == 'variant' for s in changed)} of {kinds['variant']}; "
          f"pairs: {sum(s.kind == 'pair' for s in changed)} of {kinds['pair']}")
    for s in changed:
        correct = all(v.expect is None for v in s.variants.values())
        print(f"  {s.id:9s} {'correct' if correct else 'buggy  '} {s.describe()}\n"
              f"            old lost {sorted(old.get((s.id, s.assignment), ()))}\n"
              f"            new lost {sorted(new.get((s.id, s.assignment), ()))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
