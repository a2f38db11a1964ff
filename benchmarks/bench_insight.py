"""The class insight report on the 100-student benchmark class: how long ``python -m autograder insight`` takes.

    python benchmarks/bench_insight.py                        # build and grade the class (jobs 2), then time insight
    python benchmarks/bench_insight.py --course DIR           # time insight on a class already graded in DIR
    python benchmarks/bench_insight.py --students 20 --keep DIR

The class is ``bench_class.py``'s (the same for the same ``--students`` and ``--seed``): about 55 % correct
(most of them the reference answers, so they are rightly reported as copies of the reference), 25 % typical
mistakes, 8 % blank or half done, 7 % broken files, 5 % hostile. Grading it (``autograde --all --jobs 2``, in
the sandbox) is not timed here: ``bench_class.py`` does that. The report runs ``--repeat`` times (default 3)
over the four assignments; the figures are the median and the fastest, with the time per student and a linear
projection to 300 students, and what the report found.
"""

import argparse
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_class  # noqa: E402
from autograder.batch import samples  # noqa: E402
from autograder.batch.workflow import reports_for  # noqa: E402
from autograder.grading.course import Course  # noqa: E402
from autograder.insight import copies, page  # noqa: E402
from autograder.insight import report as insight_report  # noqa: E402


def grade_class(folder, students, seed):
    """Release, write the benchmark class and grade it with ``--jobs 2``; returns the grading seconds."""
    samples.scratch_course(ROOT, folder)
    course = Course(folder)
    for assignment in course.source_assignments():
        course.release(assignment)
    bench_class.build_class(course, students, seed, None)
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "autograder", "--course", str(folder), "autograde", "--all",
                          "--jobs", "2"], cwd=folder, capture_output=True, text=True)
    if run.returncode not in (0, 1):
        raise RuntimeError(f"grading failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
    return time.perf_counter() - start


def time_insight(folder, repeat):
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        run = subprocess.run([sys.executable, "-m", "autograder", "--course", str(folder), "insight", "--all",
                              "--html", str(folder / "insight.html"), "--json", str(folder / "insight.json")],
                             cwd=folder, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if run.returncode != 0:
            raise RuntimeError(f"insight failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
        out = run.stdout
    return times, out


def split(folder, repeat):
    """In this process: reading the submission reports (the gradebook, as ``report --all`` does) against
    building the insight from them and writing the page (what ``run`` and ``demo`` add)."""
    course = Course(folder)
    assignments = course.assignments()
    start = time.perf_counter()
    reports = reports_for(course, assignments)
    reading = time.perf_counter() - start
    building = []
    for _ in range(repeat):
        copies._normalised.cache_clear()
        start = time.perf_counter()
        page.page(insight_report.build(course, reports, assignments))
        building.append(time.perf_counter() - start)
    return reading, building


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--course", help="a course folder already graded: time the report only")
    parser.add_argument("--keep", help="grade the class in this folder (kept) instead of a temporary one")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    tmp = None
    if args.course:
        folder, grading = pathlib.Path(args.course).resolve(), None
    else:
        folder = pathlib.Path(args.keep).resolve() if args.keep else pathlib.Path(tempfile.mkdtemp(prefix="bench-insight-")) / "class"
        if folder.exists():
            shutil.rmtree(folder)
        tmp = None if args.keep else folder.parent
        print(f"grading {args.students} students x 4 notebooks in {folder} (jobs 2, not part of the figures) ...",
              flush=True)
        grading = grade_class(folder, args.students, args.seed)
        print(f"  graded in {grading:.0f} s", flush=True)
    try:
        times, out = time_insight(folder, args.repeat)
        reading, building = split(folder, args.repeat)
        data = json.loads((folder / "insight.json").read_text(encoding="utf-8"))
        students = data["students"]
        figures = {"students": students, "cores": os.cpu_count(), "runs_s": [round(t, 2) for t in times],
                   "median_s": round(statistics.median(times), 2), "fastest_s": round(min(times), 2),
                   "per_student_ms": round(statistics.median(times) / max(students, 1) * 1000, 1),
                   "projected_300_students_s": round(statistics.median(times) / max(students, 1) * 300, 1),
                   "mistake_groups": len(data["mistakes"]), "flags": len(data["similar"]),
                   "flags_reference": sum(f["kind"] == "reference" for f in data["similar"]),
                   "html_bytes": (folder / "insight.html").stat().st_size, "grading_s": grading,
                   "reading_reports_s": round(reading, 2), "building_median_s": round(statistics.median(building), 2)}
        print(out.split("\n", 1)[0])
        print(f"insight on {students} students (4 assignments), {args.repeat} runs: median {figures['median_s']} s, "
              f"fastest {figures['fastest_s']} s ({figures['per_student_ms']} ms per student; projected to 300 "
              f"students: {figures['projected_300_students_s']} s); {figures['mistake_groups']} mistake groups, "
              f"{figures['flags']} flags ({figures['flags_reference']} against the reference), HTML "
              f"{figures['html_bytes'] / 1e6:.2f} MB")
        print(f"where it goes: reading the {students * 4} submission reports from the gradebook (as `report --all` "
              f"does) {reading:.1f} s; building the insight from them and writing the page (what `run` and `demo` "
              f"add) {figures['building_median_s']} s (median of {args.repeat})")
        if args.json:
            pathlib.Path(args.json).write_text(json.dumps(figures, indent=1), encoding="utf-8")
        return 0
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
