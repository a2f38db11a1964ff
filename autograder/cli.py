"""The instructor's pipeline: ``python -m autograder <command>`` from the course folder.

    release   [ASSIGNMENT ...]              nbgrader generate_assignment --force (all by default)
    autograde ASSIGNMENT ... | --all        autograde every student, print the table; exit 1 if anything needs attention
    feedback  ASSIGNMENT ... | --all        nbgrader generate_feedback for every graded student
    export    [--to grades.csv]             the gradebook as UTF-8 CSV
    report    ASSIGNMENT ... | --all        the table again, from the gradebook (no grading)
    run       ASSIGNMENT ... | --all        release, autograde, feedback, export, report
    demo      [--dir DIR]                   the whole workflow on sample submissions in a scratch course

The unit of work is one student's submission of one assignment (``grade_submission``): check what
was handed in, autograde each notebook through nbgrader's Python API, record 0 for any notebook
nbgrader cannot grade, and report. A student never stops the batch, and the exit status is 0 only
when nothing needs the instructor's attention (1 otherwise, 2 when a step itself failed).

A class at once (``autograder.parallel``): ``autograde``/``run``/``demo`` grade ``--jobs N`` submissions
at a time (default: the number of cores); ``--shard i/n`` (autograde, feedback, report) takes only the
students of shard i, for n machines sharing a PostgreSQL gradebook (``--db-url`` or ``RELUDROP_DB_URL``).
"""

import argparse
import pathlib
import re
import shutil
import sys
import tempfile
import time

from traitlets.config import Config

from . import parallel
from . import report as reporting
from .course import Course, PipelineError


def grade_submission(course, assignment, student):
    """Autograde one student's submission of one assignment; return its ``SubmissionReport``.

    Never raises for anything the student did: a missing, broken or ungradable notebook scores 0 in
    the gradebook and is named in the report.
    """
    start = time.monotonic()
    expected = course.notebooks(assignment)
    found, _ = reporting.preflight(course.path("submitted", student, assignment), expected)
    failures = {}
    for name in expected:
        status = found[name][0]
        if status == "ok":
            result = course.autograde_notebook(assignment, student, name)
            if result["success"] and course.path("autograded", student, assignment, name).exists():
                continue
            failures[name] = _last_error(result)
        else:
            stale = course.path("autograded", student, assignment, name)
            if stale.exists():
                stale.unlink()
        course.zero(assignment, student, name)
    report = reporting.build(course, assignment, student, failures)
    report.seconds = time.monotonic() - start
    return report


def _last_error(result):
    """The exception nbgrader hit, in one line (its log ends with a generic "see the traceback above")."""
    text = (result.get("log") or "") + "\n" + (result.get("error") or "")
    found = [line.strip() for line in text.splitlines()
             if re.match(r"\s*[\w.]*(Error|Exception)\b.*", line) and "NbGraderException" not in line]
    return (found[-1] if found else "nbgrader failed (no error message)")[:200]


# ---------------------------------------------------------------------- batches

def release(course, assignments=None, out=print):
    for assignment in assignments or course.source_assignments():
        course.release(assignment)
        out(f"released {assignment} -> {course.root / course.coursedir.release_directory / assignment}")


def units(course, assignments, students=None, shard=None):
    """The (assignment, student) submissions a run grades: every submitted one, or the students given, in the shard."""
    todo = []
    for assignment in assignments:
        course.notebooks(assignment)          # PipelineError when it was never released
        todo += [(assignment, s) for s in course.students(assignment)
                 if (not students or s in students) and parallel.in_shard(s, shard)]
    return todo


def autograde(course, assignments, students=None, out=print, jobs=1, shard=None):
    """Grade every student (or those given, or those of a shard) of each assignment with ``jobs`` processes.

    Returns the reports in class order (assignment, then student), whatever order they finished in.
    """
    work = units(course, assignments, students, shard)
    where = f", shard {shard[0]}/{shard[1]}" if shard else ""
    out(f"autograding {len(work)} submission(s) with {jobs} job(s){where}")
    return parallel.run(course, work, jobs, out)


def feedback(course, assignments, students=None, out=print, shard=None):
    """Write feedback for every autograded student; return ({(assignment, student): [html files]}, [failures])."""
    written, failed = {}, []
    for assignment in assignments:
        for student in course.students(assignment):
            if (students and student not in students) or not parallel.in_shard(student, shard):
                continue
            if not any(course.path("autograded", student, assignment).glob("*.ipynb")):
                continue              # nothing was graded (missing or broken notebook): the report says why
            try:
                written[(assignment, student)] = course.feedback(assignment, student)
            except PipelineError as error:
                failed.append(f"{student} / {assignment}: {str(error).splitlines()[-1]}")
    folder = course.root / course.coursedir.feedback_directory
    out(f"feedback: {sum(len(v) for v in written.values())} file(s) in {folder}/<student>/<assignment>/")
    for line in failed:
        out(f"feedback FAILED for {line}")
    return written, failed


def reports_for(course, assignments, students=None, graded=(), shard=None):
    """The reports of every submission (and of every student missing from an assignment others submitted).

    ``graded``: reports just made by ``autograde``; what nbgrader said when it failed is kept from them.
    """
    failures = {(r.assignment, r.student): {nb.name: e["detail"] for nb in r.notebooks for e in nb.events
                                            if e["kind"] == "nbgrader-error"} for r in graded}
    for assignment in assignments:
        course.notebooks(assignment)          # PipelineError when it was never released
    everyone = sorted({s for a in assignments for s in course.students(a)})
    return [reporting.build(course, a, s, failures.get((a, s))) for a in assignments for s in everyone
            if (not students or s in students) and parallel.in_shard(s, shard)]


# ---------------------------------------------------------------------- the demo

def demo(source_root, folder=None, out=print, jobs=None, overrides=None):
    """The whole workflow on the bundled sample class, in a scratch copy of the course; returns the exit status."""
    from . import samples

    folder = pathlib.Path(folder).resolve() if folder else pathlib.Path(tempfile.mkdtemp(prefix="reludrop-demo-"))
    if folder.exists() and any(folder.iterdir()):
        if not (folder / DEMO_MARKER).exists():
            raise PipelineError(f"{folder} is not empty and was not made by the demo: choose a new or empty folder")
        shutil.rmtree(folder)
    samples.scratch_course(source_root, folder)
    (folder / DEMO_MARKER).write_text("made by `python -m autograder demo`; removed by its next run\n")
    out(f"demo course: {folder}  (a scratch copy: the course's own gradebook is not touched)")
    course = Course(folder, overrides)
    assignments = course.source_assignments()
    release(course, assignments, out)
    placed = samples.place(course)
    out(f"sample submissions: {', '.join(f'{s} ({why})' for s, why in placed.items())}")
    graded = autograde(course, assignments, out=out, jobs=jobs or parallel.default_jobs())
    _, feedback_failed = feedback(course, assignments, out=out)
    grades = course.export(folder / "grades.csv")
    reports = reports_for(course, assignments, graded=graded)
    out("")
    out(reporting.summary(reports))
    out("")
    out(f"grades:   {grades}")
    out(f"feedback: {folder / course.coursedir.feedback_directory}/<student>/<assignment>/<notebook>.html")
    by_student = {}
    for (assignment, student), files in feedback_files(course, assignments).items():
        by_student.setdefault(student, []).extend(f.name for f in files)
    for student, names in sorted(by_student.items()):
        out(f"          {student}: {', '.join(sorted(names))}")
    problems = samples.check(reports) + [f"feedback failed: {line}" for line in feedback_failed]
    if problems:
        out("DEMO FAILED: the sample class was not graded as expected:\n  " + "\n  ".join(problems))
        return 1
    out("demo: every sample student got the grade and the flags expected of them.")
    return 0


DEMO_MARKER = ".autograder-demo"


def feedback_files(course, assignments):
    return {(a, s): sorted(course.path("feedback", s, a).glob("*.html"))
            for a in assignments for s in course.students(a) if course.path("feedback", s, a).is_dir()}


# ---------------------------------------------------------------------- command line

def _parser():
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--course", default=".", help="course folder (holds nbgrader_config.py); default: here")
    parser.add_argument("--timeout", type=int, help="seconds per cell (c.Execute.timeout)")
    parser.add_argument("--memory", type=int, help="MiB of address space per kernel (c.GradingExecute.memory_limit)")
    parser.add_argument("--cold-kernels", action="store_true",
                        help="start every kernel from scratch, as plain nbgrader does (default: fork them from a "
                             "warm template, autograder.warm)")
    parser.add_argument("--db-url", help="the gradebook's database (c.CourseDirectory.db_url), e.g. "
                        "postgresql+psycopg2://USER@HOST/reludrop; default: $RELUDROP_DB_URL, else gradebook.db here")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_assignments(name, help_text):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT")
        p.add_argument("--all", action="store_true", help="every assignment in the gradebook")
        p.add_argument("--student", action="append", help="only this student (repeatable)")
        p.add_argument("--json", help="also write the reports as JSON to this file")
        p.add_argument("--shard", metavar="I/N", help="only the students of shard I of N (a hash of the student id; "
                       "needs a PostgreSQL gradebook shared by the N machines)")
        if name in ("autograde", "run"):
            p.add_argument("--jobs", type=int, default=parallel.default_jobs(), metavar="N",
                           help=f"grade N students at once (default: the number of cores, {parallel.default_jobs()})")
        return p

    rel = sub.add_parser("release", help="generate the student release(s) and the gradebook")
    rel.add_argument("assignments", nargs="*", metavar="ASSIGNMENT")
    with_assignments("autograde", "autograde every student and print the table")
    with_assignments("feedback", "write feedback HTML for every graded student")
    with_assignments("report", "print the table from the gradebook")
    run = with_assignments("run", "release, autograde, feedback, export and report")
    run.add_argument("--to", default="grades.csv", help="CSV file (default grades.csv)")
    exp = sub.add_parser("export", help="write grades.csv (UTF-8)")
    exp.add_argument("--to", default="grades.csv")
    dem = sub.add_parser("demo", help="the whole workflow on sample submissions, in a scratch course")
    dem.add_argument("--dir", help="scratch course folder (recreated); default: a new temporary folder")
    dem.add_argument("--jobs", type=int, default=parallel.default_jobs(), metavar="N", help="students graded at once")
    return parser


def _assignments(course, args):
    if args.all or not args.assignments:
        if not args.all:
            raise PipelineError("name the assignment(s) or pass --all")
        return course.assignments()
    return args.assignments


def _shard(course, args):
    """``--shard i/n`` as (i, n), or None; PipelineError when it cannot be honoured."""
    if not getattr(args, "shard", None):
        return None
    if args.command == "run":
        raise PipelineError("`run` releases the assignments; with shards, run `release` once, then "
                            "`autograde --shard i/n` on each machine")
    try:
        shard = parallel.parse_shard(args.shard)
    except ValueError as error:
        raise PipelineError(str(error)) from None
    if course.db_url.startswith("sqlite"):
        raise PipelineError(f"--shard needs a gradebook the machines share (PostgreSQL, --db-url or RELUDROP_DB_URL); "
                            f"this course uses {course.db_url}, which only this machine sees. On one machine, "
                            f"use --jobs N instead.")
    return shard


def main(argv=None):
    args = _parser().parse_args(argv)
    overrides = Config()
    if args.timeout:
        overrides.Execute.timeout = args.timeout
    if args.memory is not None:
        overrides.GradingExecute.memory_limit = args.memory
    if args.db_url:
        overrides.CourseDirectory.db_url = args.db_url
    # Kernels forked from a template that has done the imports (autograder.warm): about 0.5 s less per
    # notebook, still a new process for each. Plain `nbgrader autograde` keeps nbgrader's cold kernels.
    overrides.GradingExecute.warm_kernels = not args.cold_kernels
    try:
        jobs = getattr(args, "jobs", 1)
        if jobs < 1:
            raise PipelineError(f"--jobs {jobs}: give at least 1 (the default is the number of cores)")
        if args.command == "demo":
            return demo(pathlib.Path(args.course).resolve(), args.dir, jobs=jobs, overrides=overrides)
        course = Course(args.course, overrides)
        shard = _shard(course, args)
        if args.command == "release":
            release(course, args.assignments or None)
            return 0
        if args.command == "export":
            print(f"grades: {course.export(args.to)}")
            return 0
        if args.command == "run":
            release(course, None if args.all else args.assignments)
        assignments = _assignments(course, args)
        graded = []
        if args.command in ("autograde", "run"):
            graded = autograde(course, assignments, args.student, jobs=jobs, shard=shard)
        feedback_failed = []
        if args.command in ("feedback", "run"):
            _, feedback_failed = feedback(course, assignments, args.student, shard=shard)
            if args.command == "feedback":
                return 2 if feedback_failed else 0
        if args.command == "run":
            print(f"grades: {course.export(args.to)}")
        reports = reports_for(course, assignments, args.student, graded, shard)
        print()
        print(reporting.summary(reports))
        if args.json:
            reporting.dump(reports, args.json)
        if feedback_failed:
            print(f"feedback failed for {len(feedback_failed)} submission(s): see above", file=sys.stderr)
            return 2
        return 1 if any(r.attention() for r in reports) else 0
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: the grades recorded so far are kept; run the same command again to grade "
              "the rest (it regrades every submission it is given).", file=sys.stderr)
        return 130
