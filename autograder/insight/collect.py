"""What the report is made of: one ``Work`` per student and graded function, read from what grading kept.

Nothing is run again. The points come from the submission reports (the gradebook), the diagnosis from
the autograded notebook's cell metadata (``autograder.diagnoses``), the answer from the submitted
notebook, the starter code from the release and the reference from the source notebook.
"""

import dataclasses
import pathlib

import nbformat

from .. import diagnoses
from ..kit.rules import checked

#: The error names a test cell shows when grading itself stopped or refused it (not a mistake in the answer).
GRADING_STOPPED = ("TamperingError", "NotRunError", "DeadKernelError", "CellTimeoutError", "MemoryError")


@dataclasses.dataclass
class Work:
    """One student's answer to one graded function.

    Attributes
    ----------
    student, assignment, notebook, function : str
    score, max_score : float, the test cell's points (from the gradebook)
    status : str, the notebook's status in the report ("graded", "missing", "invalid", "not submitted"...)
    diagnosis : dict or None, the failed check's record (``autograder.diagnoses``)
    error : str, the name of the error the test cell showed ("" if none)
    source : str or None, the answer cell as submitted (None: no readable notebook, or no such cell)
    """
    student: str
    assignment: str
    notebook: str
    function: str
    score: float
    max_score: float
    status: str
    diagnosis: dict = None
    error: str = ""
    source: str = None

    @property
    def lost(self):
        return self.score < self.max_score


@dataclasses.dataclass
class Layout:
    """An assignment's notebooks as the instructor wrote them.

    tests : dict (notebook, test cell id) -> graded function
    points : dict (notebook, test cell id) -> its points
    answers : dict (notebook, function) -> answer cell id
    starter : dict (notebook, answer cell id) -> the release's source of that cell
    reference : dict (notebook, answer cell id) -> the solution notebook's source of that cell
    """
    tests: dict
    points: dict
    answers: dict
    starter: dict
    reference: dict


def layout(course, assignment):
    """Read the source and release notebooks of ``assignment`` (a ``Course``)."""
    tests, points, answers, starter, reference = {}, {}, {}, {}, {}
    coursedir = course.coursedir
    for name in course.notebooks(assignment):
        source = _read(pathlib.Path(coursedir.format_path(coursedir.source_directory, ".", assignment)) / f"{name}.ipynb")
        release = _read(pathlib.Path(coursedir.format_path(coursedir.release_directory, ".", assignment)) / f"{name}.ipynb")
        for cell in source.cells if source else []:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code":
                continue
            if meta.get("grade") and not meta.get("solution"):
                for function in checked(cell.source)[:1]:
                    tests[(name, meta["grade_id"])] = function
                    points[(name, meta["grade_id"])] = float(meta.get("points", 0))
            elif meta.get("solution"):
                reference[(name, meta["grade_id"])] = cell.source
        for function in set(tests.values()):
            for (nb, cell_id), src in reference.items():
                if nb == name and f"def {function}(" in src:
                    answers.setdefault((name, function), cell_id)
        starter.update({(name, cell_id): src for cell_id, src in _answer_cells(release).items()})
    return Layout(tests, points, answers, starter, reference)


def works(course, assignment, reports, plan=None):
    """Every student's ``Work`` for every graded function of ``assignment``, from its submission reports."""
    plan = plan or layout(course, assignment)
    out = []
    for report in reports:
        if report.assignment != assignment:
            continue
        for nb_report in report.notebooks:
            tests = {cell_id: f for (nb, cell_id), f in plan.tests.items() if nb == nb_report.name}
            autograded = _read(course.path("autograded", report.student, assignment, nb_report.name))
            submitted = _read(course.path("submitted", report.student, assignment, nb_report.name))
            graded = {_meta(c).get("grade_id"): c for c in (autograded.cells if autograded else [])}
            sources = _answer_cells(submitted)
            scores = {c.cell: c for c in nb_report.cells}
            for cell_id, function in tests.items():
                score = scores.get(cell_id)
                cell = graded.get(cell_id)
                answer = plan.answers.get((nb_report.name, function))
                out.append(Work(
                    report.student, assignment, nb_report.name, function,
                    score.score if score else 0.0,
                    score.max_score if score else plan.points[(nb_report.name, cell_id)], nb_report.status,
                    diagnoses.of_cell(cell) if cell is not None else None,
                    _error_name(cell), sources.get(answer) if answer else None))
    return out


def _answer_cells(nb):
    """Answer cell id -> source; of a duplicated cell, the last copy (the one graded)."""
    cells = {}
    for cell in nb.cells if nb else []:
        meta = _meta(cell)
        if cell.get("cell_type") == "code" and meta.get("solution") and isinstance(meta.get("grade_id"), str):
            source = cell.get("source", "")
            cells[meta["grade_id"]] = source if isinstance(source, str) else ""
    return cells


def _meta(cell):
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    nbgrader = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nbgrader if isinstance(nbgrader, dict) else {}


def _error_name(cell):
    if cell is None:
        return ""
    names = [o.get("ename", "") for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    stopped = [n for n in names if n in GRADING_STOPPED]
    return (stopped or names or [""])[0]


def _read(path):
    """The notebook at ``path``, or None when it is missing or unreadable (a broken submission)."""
    try:
        with open(path, encoding="utf-8") as fh:
            nb = nbformat.read(fh, as_version=4)
    except Exception:  # noqa: BLE001 - a missing or broken file is reported elsewhere; here it holds no answer
        return None
    return nb if isinstance(nb.get("cells"), list) else None
