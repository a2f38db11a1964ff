"""The instructor's pipeline: ``python -m autograder <command>`` from the course folder.

    release   [ASSIGNMENT ...] [--exchange] nbgrader generate_assignment --force (all by default); --exchange: also
                                            build the student kit and nbgrader release_assignment it to the students
    collect   ASSIGNMENT ... | --all        nbgrader collect --update: the students' submissions from the exchange
    autograde ASSIGNMENT ... | --all        autograde every student, print the table; exit 1 if anything needs attention
    feedback  ASSIGNMENT ... | --all [--exchange]
                                            nbgrader generate_feedback for every graded student; --exchange: also
                                            nbgrader release_feedback (students fetch it in the Assignments tab)
    export    [--to grades.csv]             the gradebook as UTF-8 CSV
    report    ASSIGNMENT ... | --all        the table again, from the gradebook (no grading)
    insight   ASSIGNMENT ... | --all        the class's common mistakes and answers that look copied (HTML, JSON)
    run       ASSIGNMENT ... | --all        release, autograde, feedback, export, report, insight; with --exchange (on
                                            a JupyterHub, after the deadline): collect, autograde, feedback and
                                            release_feedback, export, report, insight
    demo      [--dir DIR]                   the whole workflow on sample submissions in a scratch course
    student-kit ASSIGNMENT ... | --all --to DIR [--released A ...]
                                            what students receive: DIR/<assignment>/ and DIR/<assignment>.zip

The unit of work is one student's submission of one assignment (``autograder.grading.submission``):
check what was handed in, autograde each notebook through nbgrader's Python API, every kernel in its
own bubblewrap sandbox (``autograder.sandbox``), record 0 for any notebook nbgrader cannot grade, and
report. A student never stops the batch, and the exit status is 0 only when nothing needs the
instructor's attention (1 otherwise, 2 when a step itself failed: no sandbox, an unreadable gradebook).

A class at once (``autograder.batch``): ``autograde``/``run``/``demo`` grade ``--jobs N`` submissions
at a time (default: the number of cores); ``--shard i/n`` (autograde, feedback, report) takes only the
students of shard i, for n machines sharing a PostgreSQL gradebook (``--db-url`` or ``RELUDROP_DB_URL``).
``--no-sandbox`` grades without isolation (only where bubblewrap cannot run; every run says so).
"""

import argparse
import pathlib
import sys

from traitlets.config import Config

from .batch import pool
from .batch.shards import parse_shard
from .batch.workflow import autograde, collect, demo, feedback, insight, release, reports_for
from .grading import report as reporting
from .grading.course import Course, PipelineError, load_config
from .grading.gradebook import GradebookUnreadable
from .kit import build as kits
from .kit.rules import KitError
from .kit.settings import StudentKit
from .sandbox.bubblewrap import SandboxUnavailable


# ---------------------------------------------------------------------- command line

def _parser():
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--course", default=".", help="course folder (holds nbgrader_config.py); default: here")
    parser.add_argument("--timeout", type=int, help="seconds per cell (c.Execute.timeout)")
    parser.add_argument("--memory", type=int, help="MiB of address space per kernel (c.GradingExecute.memory_limit)")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run student code WITHOUT the bubblewrap sandbox (c.GradingExecute.sandbox = False): "
                             "it can then read and change the gradebook, the solutions and classmates' work; "
                             "only for a machine where bubblewrap cannot run")
    parser.add_argument("--db-url", help="the gradebook's database (c.CourseDirectory.db_url), e.g. "
                        "postgresql+psycopg2://USER@HOST/reludrop; default: $RELUDROP_DB_URL, else gradebook.db here")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_assignments(name, help_text):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT")
        p.add_argument("--all", action="store_true", help="every assignment in the gradebook")
        p.add_argument("--student", action="append", help="only this student (repeatable)")
        p.add_argument("--json", help="also write the insight report as JSON to this file" if name == "insight"
                       else "also write the reports as JSON to this file")
        p.add_argument("--shard", metavar="I/N", help="only the students of shard I of N (a hash of the student id; "
                       "needs a PostgreSQL gradebook shared by the N machines)")
        if name in ("feedback", "run"):
            p.add_argument("--exchange", action="store_true",
                           help="nbgrader's exchange (a course on a JupyterHub): " + (
                               "also release the feedback to the students" if name == "feedback" else
                               "collect the submissions first (no release), and release the feedback"))
        if name in ("autograde", "run"):
            p.add_argument("--jobs", type=int, default=pool.default_jobs(), metavar="N",
                           help=f"grade N students at once (default: the number of cores, {pool.default_jobs()})")
        return p

    rel = sub.add_parser("release", help="generate the student release(s) and the gradebook")
    rel.add_argument("assignments", nargs="*", metavar="ASSIGNMENT")
    rel.add_argument("--exchange", action="store_true",
                     help="also release each assignment's student kit to the students through nbgrader's exchange")
    col = sub.add_parser("collect", help="collect the students' submissions from nbgrader's exchange")
    col.add_argument("assignments", nargs="*", metavar="ASSIGNMENT")
    col.add_argument("--all", action="store_true", help="every assignment in the gradebook")
    with_assignments("autograde", "autograde every student and print the table")
    with_assignments("feedback", "write feedback HTML for every graded student")
    with_assignments("report", "print the table from the gradebook")
    ins = with_assignments("insight", "the class's common mistakes and answers that look copied, after autograde")
    ins.add_argument("--html", default="insight.html", help="the report as one HTML file (default insight.html)")
    run = with_assignments("run", "release, autograde, feedback, export, report and insight")
    run.add_argument("--to", default="grades.csv", help="CSV file (default grades.csv)")
    run.add_argument("--insight", default="insight.html", help="the insight report's HTML file (default insight.html)")
    exp = sub.add_parser("export", help="write grades.csv (UTF-8)")
    exp.add_argument("--to", default="grades.csv")
    dem = sub.add_parser("demo", help="the whole workflow on sample submissions, in a scratch course")
    dem.add_argument("--dir", help="scratch course folder (recreated); default: a new temporary folder")
    dem.add_argument("--jobs", type=int, default=pool.default_jobs(), metavar="N", help="students graded at once")
    kit = sub.add_parser("student-kit", help="write what students receive for each assignment (no answers in it)")
    kit.add_argument("assignments", nargs="*", metavar="ASSIGNMENT")
    kit.add_argument("--all", action="store_true", help="every assignment of the course")
    kit.add_argument("--to", required=True, help="folder that receives DIR/<assignment>/ and DIR/<assignment>.zip")
    kit.add_argument("--released", action="append", default=[], metavar="ASSIGNMENT",
                     help="also count this assignment's solutions as released (adds to c.StudentKit.released_solutions)")
    return parser


def _student_kits(args):
    """``student-kit``: build each kit; a kit that cannot be built says why and the others are still built."""
    root = pathlib.Path(args.course).resolve()
    released = list(StudentKit(config=load_config(root)).released_solutions) + args.released
    if args.all == bool(args.assignments):
        raise PipelineError("name the assignment(s) or pass --all")
    failed = 0
    for assignment in (kits.rules.ASSIGNMENTS if args.all else args.assignments):
        try:
            kit = kits.build_kit(assignment, args.to, released, root)
        except KitError as error:
            failed += 1
            print(f"{assignment}: not built\n{error}\n", file=sys.stderr)
            continue
        print(kits.describe(kit))
    return 1 if failed else 0


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
        shard = parse_shard(args.shard)
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
    if args.no_sandbox:
        overrides.GradingExecute.sandbox = False
    try:
        jobs = getattr(args, "jobs", 1)
        if jobs < 1:
            raise PipelineError(f"--jobs {jobs}: give at least 1 (the default is the number of cores)")
        if args.command == "student-kit":
            return _student_kits(args)
        if args.command == "demo":
            return demo(pathlib.Path(args.course).resolve(), args.dir, jobs=jobs, overrides=overrides)
        course = Course(args.course, overrides)
        shard = _shard(course, args)
        if args.command == "release":
            release(course, args.assignments or None, exchange=args.exchange)
            return 0
        if args.command == "collect":
            collect(course, _assignments(course, args))
            return 0
        if args.command == "export":
            print(f"grades: {course.export(args.to)}")
            return 0
        exchange = getattr(args, "exchange", False)
        if args.command == "run" and not exchange:
            release(course, None if args.all else args.assignments)
        assignments = _assignments(course, args)
        if args.command == "run" and exchange:
            collect(course, assignments)
        graded = []
        if args.command in ("autograde", "run"):
            graded = autograde(course, assignments, args.student, jobs=jobs, shard=shard)
        feedback_failed = []
        if args.command in ("feedback", "run"):
            _, feedback_failed = feedback(course, assignments, args.student, shard=shard, exchange=exchange)
            if args.command == "feedback":
                return 2 if feedback_failed else 0
        if args.command == "run":
            print(f"grades: {course.export(args.to)}")
        reports = reports_for(course, assignments, args.student, graded, shard)
        if args.command == "insight":
            insight(course, assignments, reports, args.html, args.json)
            return 0
        print()
        print(reporting.summary(reports))
        if args.json:
            reporting.dump(reports, args.json)
        if args.command == "run":
            print()
            insight(course, assignments, reports, args.insight)
        if feedback_failed:
            print(f"feedback failed for {len(feedback_failed)} submission(s): see above", file=sys.stderr)
            return 2
        return 1 if any(r.attention() for r in reports) else 0
    except (PipelineError, SandboxUnavailable, GradebookUnreadable) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: the grades recorded so far are kept; run the same command again to grade "
              "the rest (it regrades every submission it is given).", file=sys.stderr)
        return 130
