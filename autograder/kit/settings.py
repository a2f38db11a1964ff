"""The course setting that decides which earlier answers a student kit may contain."""

from traitlets import List, Unicode
from traitlets.config import Configurable


class StudentKit(Configurable):
    """``c.StudentKit.*`` in the course's nbgrader_config.py."""

    released_solutions = List(
        Unicode(), default_value=[],
        help="Assignments whose reference solutions the instructor has handed out (after their deadline). A kit "
             "of a later assignment may then contain those functions (the notebooks of 02-04 import the functions "
             "of 01 from the student package); until then no kit implements them. "
             "`python -m autograder student-kit --released A` adds to this list for one build.",
    ).tag(config=True)
