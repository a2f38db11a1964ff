"""nbgrader's exchange, for a course on a JupyterHub: release to students, collect, return feedback.

Each step is nbgrader's own exchange class (``c.Exchange.root``, from the instructor's nbgrader configuration),
through the course's ``NbGraderAPI``, so the files and permissions are exactly nbgrader's: ``release_assignment``
copies a released folder into ``<exchange>/<course>/outbound/``, ``collect`` copies each student's latest
submission from ``inbound/`` into ``submitted/<student>/<assignment>/``, ``release_feedback`` puts each
student's feedback page in ``feedback/`` under the hash of that student's own submission.
"""

import contextlib

from nbgrader.utils import capture_log

from .course import PipelineError, _tail

#: The folder of the course that receives the student kits released through the exchange.
KITS = "kits"


@contextlib.contextmanager
def _attrs(coursedir, **values):
    previous = {name: getattr(coursedir, name) for name in values}
    for name, value in values.items():
        setattr(coursedir, name, value)
    try:
        yield
    finally:
        for name, value in previous.items():
            setattr(coursedir, name, value)


def _run(course, step, app, what):
    with course.quiet():
        result = capture_log(app)
    if not result["success"]:
        raise PipelineError(f"{step} {what} failed:\n{_tail(result)}")
    return result


def exchange_root(course):
    return course.config.Exchange.get("root", "/srv/nbgrader/exchange")


def release_assignment(course, assignment, folder=KITS):
    """``nbgrader release_assignment <assignment> --force`` from ``<course>/<folder>/<assignment>/``."""
    api = course.api
    with _attrs(course.coursedir, assignment_id=assignment, release_directory=folder):
        app = api.exchange.ReleaseAssignment(coursedir=course.coursedir, authenticator=api.authenticator, parent=api)
        app.force = True
        _run(course, "release_assignment", app, assignment)
    return f"{exchange_root(course)}/{course.coursedir.course_id}/outbound/{assignment}"


def collect(course, assignment):
    """``nbgrader collect <assignment> --update``: each student's latest submission; returns the students."""
    api = course.api
    with _attrs(course.coursedir, assignment_id=assignment, student_id=""):
        app = api.exchange.Collect(coursedir=course.coursedir, authenticator=api.authenticator, parent=api)
        app.update = True
        result = _run(course, "collect", app, assignment)
    if "claims to be submitted by" in result["log"]:
        raise PipelineError(f"collect {assignment}: a submission is not owned by the student it names "
                            f"(nbgrader's owner check):\n{result['log']}")
    return course.students(assignment)


def release_feedback(course, assignment, student="*"):
    """``nbgrader release_feedback <assignment>`` for every student with feedback (or one student)."""
    api = course.api
    with _attrs(course.coursedir, assignment_id=assignment, student_id=student):
        app = api.exchange.ReleaseFeedback(coursedir=course.coursedir, authenticator=api.authenticator, parent=api)
        _run(course, "release_feedback", app, assignment)
