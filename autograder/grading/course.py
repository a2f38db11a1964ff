"""A course folder, as nbgrader sees it: its configuration, its paths, and nbgrader's Python API.

Everything here goes through nbgrader's own classes (``NbGraderAPI``, ``CourseDirectory``,
``Gradebook``) with the course's ``nbgrader_config.py``, so the pipeline grades exactly as the plain
``nbgrader`` commands run from the course folder would, and a later parallel or sharded runner can
build one ``Course`` per worker.
"""

import contextlib
import logging
import os
import pathlib
import re
import sys
import textwrap
import warnings

from jupyter_core.paths import jupyter_config_path
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory

from ..sandbox import bubblewrap
from ..sandbox.execute import course_packages
from .export import GradesCsvExport
from .gradebook import serialize_sqlite


class PipelineError(Exception):
    """A step that is not about one student failed (no gradebook, a release that does not build...)."""


def load_config(root, overrides=None):
    """The configuration nbgrader would load in ``root``: user/system ``nbgrader_config.py``, then the course's.

    ``overrides`` (a traitlets Config) is merged last.
    """
    config = Config()
    for directory in reversed(jupyter_config_path()):
        if os.path.isfile(os.path.join(directory, "nbgrader_config.py")):
            config.merge(PyFileConfigLoader("nbgrader_config.py", path=directory).load_config())
    if not os.path.isfile(os.path.join(root, "nbgrader_config.py")):
        raise PipelineError(f"no nbgrader_config.py in {root}: run from the course folder or pass --course")
    config.merge(PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config())
    config.CourseDirectory.root = str(root)
    if overrides is not None:
        config.merge(overrides)
    return config


class Course:
    """A course folder: ``root/nbgrader_config.py``, the gradebook, and nbgrader's directories."""

    def __init__(self, root=".", overrides=None):
        _tools_on_path()
        self.root = pathlib.Path(root).resolve()
        self.overrides = overrides if overrides is not None else Config()
        self.config = load_config(self.root, overrides)
        serialize_sqlite()
        self.coursedir = CourseDirectory(config=self.config)
        self.coursedir.root = str(self.root)
        log = logging.getLogger("autograder.nbgrader")
        log.setLevel(logging.INFO)
        log.propagate = False              # nbgrader's messages are captured per step (capture_log), not printed
        if not log.handlers:
            log.addHandler(logging.NullHandler())
        with self.quiet():
            self.api = NbGraderAPI(coursedir=self.coursedir, config=self.config, log=log)

    # ------------------------------------------------------------------ paths

    def sandboxed(self):
        """Does this course grade in the sandbox (``c.GradingExecute.sandbox``, on unless switched off)?"""
        return bool(self.config.GradingExecute.get("sandbox", True))

    def require_sandbox(self):
        """Raise ``SandboxUnavailable`` (saying what to install) when this course grades in a sandbox that
        cannot be made here; before a batch, so that no student is graded without it."""
        if self.sandboxed():
            ok, why = bubblewrap.available(self.config.GradingExecute.get("bwrap", "bwrap"), course_packages())
            if not ok:
                raise bubblewrap.SandboxUnavailable(why)

    @property
    def db_url(self):
        return self.coursedir.db_url

    def gradebook(self):
        return Gradebook(self.db_url, self.coursedir.course_id)

    def path(self, step, student, assignment, notebook=None, suffix=".ipynb"):
        """``root/<step dir>/<student>/<assignment>[/<notebook><suffix>]`` for step in submitted, autograded, feedback."""
        directory = {"submitted": self.coursedir.submitted_directory, "autograded": self.coursedir.autograded_directory,
                     "feedback": self.coursedir.feedback_directory}[step]
        folder = pathlib.Path(self.coursedir.format_path(directory, student, assignment))
        return folder if notebook is None else folder / f"{notebook}{suffix}"

    # ------------------------------------------------------------------ what is there

    def source_assignments(self):
        """Assignments in the source folder (``solutions/``), sorted."""
        with self.quiet():
            return sorted(self.api.get_source_assignments())

    def assignments(self):
        """Assignments in the gradebook, sorted by name."""
        with self.gradebook() as gb:
            return sorted(a.name for a in gb.assignments)

    def notebooks(self, assignment):
        """The notebooks of an assignment, from the gradebook; PipelineError if it was never released."""
        with self.gradebook() as gb:
            try:
                return [nb.name for nb in gb.find_assignment(assignment).notebooks]
            except MissingEntry:
                raise PipelineError(f"{assignment} is not in the gradebook: run `python -m autograder release` "
                                    f"(or `nbgrader generate_assignment {assignment} --force`) first") from None

    def students(self, assignment):
        """Students who submitted ``assignment``: the folders ``submitted/<student>/<assignment>``, sorted."""
        base = self.root / self.coursedir.submitted_directory
        if not base.is_dir():
            return []
        return sorted(p.name for p in base.iterdir() if (p / assignment).is_dir())

    # ------------------------------------------------------------------ nbgrader's steps

    def release(self, assignment):
        """``nbgrader generate_assignment <assignment> --force`` (and record it in the gradebook)."""
        with self.quiet():
            result = self.api.generate_assignment(assignment, force=True, create=True)
        if not result["success"]:
            raise PipelineError(f"generate_assignment {assignment} failed:\n{_tail(result)}")
        return result

    def autograde_notebook(self, assignment, student, notebook):
        """``nbgrader autograde <assignment> --student <student> --notebook <notebook> --force``.

        Returns nbgrader's result dict (``success``, ``log``, ``error``).
        """
        previous = self.coursedir.notebook_id
        self.coursedir.notebook_id = notebook
        try:
            with self.quiet():
                return self.api.autograde(assignment, student, force=True, create=True)
        finally:
            self.coursedir.notebook_id = previous

    def zero(self, assignment, student, notebook):
        """Record 0 for every cell of a notebook nbgrader could not grade (as nbgrader does for a missing one)."""
        with self.quiet(), self.gradebook() as gb:
            gb.update_or_create_student(student)
            gb.update_or_create_submission(assignment, student)
            submitted = gb.find_submission_notebook(notebook, assignment, student)
            for grade in submitted.grades:
                grade.auto_score = 0.0
                grade.needs_manual_grade = False
            gb.db.commit()

    def feedback(self, assignment, student):
        """``nbgrader generate_feedback <assignment> --student <student> --force``; returns the HTML files."""
        with self.quiet():
            result = self.api.generate_feedback(assignment, student, force=True)
        if not result["success"]:
            raise PipelineError(f"generate_feedback {assignment} for {student} failed:\n{_tail(result)}")
        return sorted(self.path("feedback", student, assignment).glob("*.html"))

    def export(self, to):
        """``nbgrader export --to <to>`` with the course's UTF-8 CSV plugin; returns the path."""
        to = pathlib.Path(to)
        with self.gradebook() as gb:
            GradesCsvExport(to=str(to), config=self.config).export(gb)
        return to

    @staticmethod
    @contextlib.contextmanager
    def quiet():
        """Silence the warning nbgrader's database layer prints for every new submission (SAWarning)."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*not in session.*")
            yield


def _tools_on_path():
    """nbgrader runs ``alembic`` (new or upgraded gradebooks) by name: find it next to this Python, as in a venv."""
    here = os.path.dirname(sys.executable)
    if here not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = here + os.pathsep + os.environ.get("PATH", "")


def _tail(result, lines=15):
    """What made an nbgrader step fail: the exception in its log, its message in full (not nbgrader's
    closing "see the above traceback"), else the end of the log."""
    log = (result.get("log") or "").rstrip().splitlines()
    starts = [i for i, line in enumerate(log)
              if re.match(r"\s*[\w.]+(Error|Exception): ", line) and "NbGraderException" not in line]
    if starts:
        block = log[starts[-1]:]
        end = next((i for i, line in enumerate(block[1:], 1) if line.startswith("[")), len(block))
        return textwrap.dedent("\n".join(block[:end])).strip()
    text = (result.get("log") or "") + (result.get("error") or "")
    return "\n".join(text.rstrip().splitlines()[-lines:])
