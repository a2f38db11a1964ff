"""Grading one submission: one student's submission of one assignment, the unit of work of every batch.

Check what was handed in, autograde each notebook through nbgrader's Python API (every kernel in its
sandbox: ``autograder.sandbox``), record 0 for any notebook nbgrader cannot grade, and report.
Never raises for anything the student did.
"""

import re
import time

from .. import events
from . import report as reporting


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


def grade_one(course, assignment, student):
    """``grade_submission``, never raising: a failure of ours becomes a ``grader-error`` report.

    What is not about one student is checked around the batch instead: the sandbox before it starts
    (``Course.require_sandbox``), the gradebook after every submission (``pool.run``'s ``check``).
    """
    try:
        return grade_submission(course, assignment, student)
    except Exception as error:  # noqa: BLE001 - a bug of ours must not stop the class either
        return reporting.SubmissionReport(student, assignment, events=[
            events.event("grader-error", None, f"{type(error).__name__}: {error}")])
