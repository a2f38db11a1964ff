"""The instructor's steps over a whole class: release, collect, autograde, feedback, the reports, insight, and the demo.

With nbgrader's exchange (a course on a JupyterHub): ``release(exchange=True)`` also builds each assignment's
student kit and releases it to the students (``release_assignment``), ``collect`` takes their submissions from
the exchange, and ``feedback(exchange=True)`` also returns the feedback pages (``release_feedback``).
"""

import pathlib
import shutil
import tempfile

from ..grading import exchange as nbexchange
from ..grading import gradebook
from ..grading import report as reporting
from ..grading.course import Course, PipelineError
from ..insight import page
from ..insight import report as insight_report
from ..kit import build as kits
from ..kit.rules import KitError
from ..kit.settings import StudentKit
from ..sandbox.execute import NO_SANDBOX
from . import pool, samples
from .shards import in_shard


# ---------------------------------------------------------------------- batches

def release(course, assignments=None, out=print, exchange=False):
    """Generate each release (and the gradebook); with ``exchange``, also release its student kit to the students."""
    released = list(StudentKit(config=course.config).released_solutions)
    for assignment in assignments or course.source_assignments():
        course.release(assignment)
        out(f"released {assignment} -> {course.root / course.coursedir.release_directory / assignment}")
        if exchange:
            try:
                kit = kits.build_kit(assignment, course.root / nbexchange.KITS, released, course.root)
            except KitError as error:
                raise PipelineError(f"the student kit of {assignment} cannot be built:\n{error}") from None
            where = nbexchange.release_assignment(course, assignment)
            out(f"released {assignment} to the students: {where} (the student kit {kit})")


def collect(course, assignments, out=print):
    """Collect every student's latest submission of each assignment from the exchange into ``submitted/``."""
    for assignment in assignments:
        course.notebooks(assignment)          # PipelineError when it was never released
        students = nbexchange.collect(course, assignment)
        out(f"collected {assignment}: {len(students)} submission(s) in "
            f"{course.root / course.coursedir.submitted_directory}/<student>/{assignment}/")


def units(course, assignments, students=None, shard=None):
    """The (assignment, student) submissions a run grades: every submitted one, or the students given, in the shard."""
    todo = []
    for assignment in assignments:
        course.notebooks(assignment)          # PipelineError when it was never released
        todo += [(assignment, s) for s in course.students(assignment)
                 if (not students or s in students) and in_shard(s, shard)]
    return todo


def autograde(course, assignments, students=None, out=print, jobs=1, shard=None):
    """Grade every student (or those given, or those of a shard) of each assignment with ``jobs`` processes.

    Returns the reports in class order (assignment, then student), whatever order they finished in.
    """
    work = units(course, assignments, students, shard)
    where = f", shard {shard[0]}/{shard[1]}" if shard else ""
    course.require_sandbox()
    if not course.sandboxed():
        out(f"WARNING: {NO_SANDBOX}")
    copy = gradebook.backup(course.db_url)
    if copy is not None:
        out(f"gradebook copied to {copy} before grading")
    out(f"autograding {len(work)} submission(s) with {jobs} job(s){where}")
    return pool.run(course, work, jobs, out, check=lambda: gradebook.check_readable(course.db_url, copy))


def feedback(course, assignments, students=None, out=print, shard=None, exchange=False):
    """Write feedback for every autograded student; return ({(assignment, student): [html files]}, [failures]).

    With ``exchange``, each page written is also released to its student (``release_feedback``).
    """
    written, failed = {}, []
    for assignment in assignments:
        for student in course.students(assignment):
            if (students and student not in students) or not in_shard(student, shard):
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
    if exchange:
        for assignment, student in sorted(written):
            nbexchange.release_feedback(course, assignment, student)
        out(f"feedback released to {len(written)} student submission(s) through the exchange")
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
            if (not students or s in students) and in_shard(s, shard)]


def insight(course, assignments, reports, html=None, json_path=None, out=print):
    """The class insight report (``autograder.insight``): printed, and written to ``html`` / ``json_path``."""
    found = insight_report.build(course, reports, list(assignments))
    out(insight_report.summary(found))
    if html:
        pathlib.Path(html).write_text(page.page(found), encoding="utf-8")
        out(f"insight:  {html}")
    if json_path:
        insight_report.dump(found, json_path)
        out(f"insight:  {json_path}")
    return found


# ---------------------------------------------------------------------- the demo

def demo(source_root, folder=None, out=print, jobs=None, overrides=None):
    """The whole workflow on the bundled sample class, in a scratch copy of the course; returns the exit status."""
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
    graded = autograde(course, assignments, out=out, jobs=jobs or pool.default_jobs())
    _, feedback_failed = feedback(course, assignments, out=out)
    grades = course.export(folder / "grades.csv")
    reports = reports_for(course, assignments, graded=graded)
    out("")
    out(reporting.summary(reports))
    out("")
    insight(course, assignments, reports, folder / "insight.html", folder / "insight.json", out)
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


