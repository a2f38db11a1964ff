"""nbgrader preprocessors for grading the course, plugged in by ``nbgrader_config.py``.

Generating the release::

    CheckDemonstrations refuses a source notebook whose ``demo-only`` tags (``autograder.demonstrations``)
                      are misplaced (an answer, test or editable cell) or whose graded cells depend on
                      a name only a demonstration cell binds: skipping them while grading would change a grade.

Autograde, sanitizing step (before any student code runs)::

    AuditSubmission   records what the student changed in cells that are not theirs: edited, deleted,
                      duplicated or retyped read-only cells, changed grading metadata, suspicious code.
                      It tells a real edit from nbgrader's routine "checksum has changed" message
                      (every test cell with hidden tests differs from its gradebook copy by design).
    DeduplicateCells  nbgrader's DeduplicateIds, without turning a duplicated cell into a failed notebook.
    RestoreCells      nbgrader's OverwriteCells, plus: missing test cells *and* missing read-only
                      cells come back at their place in the source notebook (``add_missing_cells``),
                      in any database, for any number of missing cells.

Autograde, grading step::

    GradingExecute    (``autograder.sandbox.execute``) runs the notebook with limits and the grading guard.
    ScoreErrorsOnly   a test cell loses its points for an error only: stderr output (a numpy warning)
                      and displayed values are kept for the student to read, not scored.

Feedback::

    StudentFeedback   the student sees each failed test's message (``AssertionError: ...``), never the
                      hidden tests' code, their seeds or their tracebacks.
    (``feedback_summary``: GetGradesPending and FeedbackSummary, the summary that opens the page.)

Every finding is written as an event (``autograder.events``) into the autograded notebook.
"""

import json
import uuid

import nbformat
from nbformat.notebooknode import NotebookNode
from traitlets import Bool

from nbgrader import utils
from nbgrader.api import Gradebook
from nbgrader.preprocessors import ClearHiddenTests, DeduplicateIds, NbGraderPreprocessor, OverwriteCells

from .. import demonstrations, events
from ..sandbox.execute import GradingExecute, source_notebook  # noqa: F401  (GradingExecute: configured by its dotted name)
from . import scan

__all__ = ["CheckDemonstrations", "AuditSubmission", "DeduplicateCells", "RestoreCells", "GradingExecute",
           "ScoreErrorsOnly", "StudentFeedback"]


def normalised(source):
    """A cell source compared for edits: line endings, trailing blanks and blank edges do not count."""
    lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


def release_source(source, cell_type, configurable):
    """What the student received for a cell whose gradebook source is ``source``: hidden tests removed."""
    cell = NotebookNode(cell_type=cell_type, source=source, metadata={})
    ClearHiddenTests(parent=configurable)._remove_hidden_test_region(cell)
    return cell.source


def _ids(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


class DemonstrationError(ValueError):
    """A source notebook whose demonstration cells grading could not skip safely."""


class CheckDemonstrations(NbGraderPreprocessor):
    """Refuse to release a notebook whose ``demo-only`` cells could not be skipped without changing a grade."""

    def preprocess(self, nb, resources):
        problems = demonstrations.check_release(nb)
        if problems:
            name = resources.get("nbgrader", {}).get("notebook", "the notebook")
            raise DemonstrationError(
                f"{name}: the {demonstrations.TAG!r} tags cannot stay as they are (grading skips those cells):\n  "
                + "\n  ".join(problems))
        return nb, resources


class AuditSubmission(NbGraderPreprocessor):
    """Record what a submission changed in cells that are not the student's (run first when sanitizing)."""

    scan_code = Bool(True, help="Scan the student's code cells for constructs that tamper with grading.").tag(
        config=True)

    def preprocess(self, nb, resources):
        notebook_id = resources["nbgrader"]["notebook"]
        assignment_id = resources["nbgrader"]["assignment"]
        with Gradebook(resources["nbgrader"]["db_url"]) as gb:
            source_nb = gb.find_notebook(notebook_id, assignment_id)
            sources = {c.name: (c.cell_type, c.source, c.locked) for c in source_nb.source_cells}
            grade_points = {c.name: float(c.max_score) for c in source_nb.grade_cells}
            answer_ids = {c.name for c in source_nb.solution_cells}

        seen = {}
        for cell in nb.cells:
            grade_id = _ids(cell)
            if grade_id is not None:
                seen.setdefault(grade_id, []).append(cell)
        for grade_id, cells in seen.items():
            if len(cells) > 1:
                kind = "duplicated-answer" if grade_id in answer_ids and grade_id not in grade_points \
                    else "duplicated-cell"
                events.add(nb, kind, grade_id, f"{len(cells)} copies")
            if grade_id not in sources:
                events.add(nb, "unknown-cell", grade_id, "its nbgrader metadata names no gradebook cell")
        for grade_id, (cell_type, source, locked) in sources.items():
            if grade_id not in seen:
                if locked or grade_id in grade_points:
                    events.add(nb, "deleted-cell", grade_id)
                continue
            cell = seen[grade_id][-1]              # nbgrader's DeduplicateIds keeps the last copy
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != cell_type:
                events.add(nb, "cell-type-changed", grade_id, f"{cell_type} -> {cell.cell_type}")
            if grade_id in grade_points and "points" in meta and float(meta["points"]) != grade_points[grade_id]:
                events.add(nb, "metadata-changed", grade_id, f"points {grade_points[grade_id]:g} -> {meta['points']}")
            if bool(utils.is_locked(cell)) != bool(locked) and grade_id not in answer_ids:
                events.add(nb, "metadata-changed", grade_id, f"read-only flag {bool(locked)} -> {not locked}")
            if locked and normalised(cell.source) != normalised(release_source(source, cell_type, self)):
                events.add(nb, "edited-locked-cell", grade_id, _first_difference(
                    release_source(source, cell_type, self), cell.source))
        if self.scan_code:
            self._scan(nb, resources, sources)
        return nb, resources

    def _scan(self, nb, resources, sources):
        """Scan every code cell the student wrote or changed (answers, new cells), not the released code."""
        released = set()
        original = source_notebook(self, resources["nbgrader"]["assignment"], resources["nbgrader"]["notebook"])
        for cell in (original.cells if original is not None else []):
            released.add(normalised(release_source(cell.source, cell.cell_type, self)))
        for cell_type, source, locked in sources.values():
            released.add(normalised(release_source(source, cell_type, self)))
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or utils.is_locked(cell) or normalised(cell.source) in released:
                continue
            findings = scan.scan(cell.source)
            if findings:
                events.add(nb, "suspicious-code", _ids(cell) or f"cell {index + 1}", "; ".join(findings))


def _first_difference(expected, got):
    """The first line that differs between the released source and the submitted one, for the instructor."""
    a, b = normalised(expected).split("\n"), normalised(got).split("\n")
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else "<nothing>"
        y = b[i] if i < len(b) else "<nothing>"
        if x.rstrip() != y.rstrip():
            return f"line {i + 1}: expected {x.strip()[:60]!r}, got {y.strip()[:60]!r}"
    return "whitespace only"


class DeduplicateCells(DeduplicateIds):
    """nbgrader's DeduplicateIds (the last copy of a cell keeps its grade id), without failing the notebook.

    nbgrader 0.9.6 (preprocessors/deduplicateids.py) empties the earlier copies' metadata to
    ``nbgrader: {}``; CheckCellMetadata then reads that as schema version 0 and raises
    SchemaTooOldError, so one duplicated cell made nbgrader drop the whole notebook. Here the earlier
    copies lose their ``nbgrader`` metadata altogether: they run as plain cells and are not graded.
    """

    def preprocess_cell(self, cell, resources, cell_index):
        if not (utils.is_grade(cell) or utils.is_solution(cell) or utils.is_locked(cell)):
            return cell, resources
        grade_id = cell.metadata.nbgrader.get("grade_id")
        if grade_id in self.grade_ids:
            self.log.warning("Cell with id '%s' exists multiple times!", grade_id)
            del cell.metadata["nbgrader"]
        else:
            self.grade_ids.add(grade_id)
        return cell, resources


class RestoreCells(OverwriteCells):
    """nbgrader's OverwriteCells; with ``add_missing_cells`` it also restores deleted read-only cells.

    nbgrader 0.9.6 (preprocessors/overwritecells.py) has three problems here. ``add_missing_grade_cells``
    places a missing test after the gradebook's previous source cell, which must itself be present
    (a KeyError when the answer before it was deleted too), and trusts the database to return cells in
    notebook order (there is no ORDER BY). ``add_missing_task_cells`` reads ``grade_id`` from every
    cell with nbgrader metadata, so it raises KeyError once DeduplicateIds has emptied a duplicate's
    metadata: a duplicated cell made nbgrader fail the whole notebook. And deleted read-only cells
    that are not tests (the imports) are not restored at all.

    Here a missing test or read-only cell is put back where it stands in the source notebook: after the
    nearest earlier source cell the submission still has (matched by grade id, cell id or text).
    """

    def add_missing_grade_cells(self, nb, resources):
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        source_cells = {cell.name: cell for cell in source_nb.source_cells}
        grade_cells = {cell.name: cell for cell in source_nb.grade_cells}
        answer_ids = {cell.name for cell in source_nb.solution_cells}
        task_ids = {cell.name for cell in source_nb.task_cells}
        layout = self._layout(source_cells)

        for position, (grade_id, _, _) in enumerate(layout):
            if grade_id is None or grade_id in task_ids or grade_id in self._present(nb):
                continue
            if grade_id in grade_cells:
                cell = self.missing_cell_transform(source_cells[grade_id], grade_cells[grade_id].max_score,
                                                   is_solution=grade_id in answer_ids)
            elif source_cells[grade_id].locked and grade_id not in answer_ids:
                cell = self._locked_cell(source_cells[grade_id])
            else:
                continue                          # an answer cell: the student's own to delete
            self.log.warning("Missing cell %s encountered, adding it back to the notebook", grade_id)
            if (nb.nbformat, nb.nbformat_minor) >= (4, 5):
                cell.setdefault("id", uuid.uuid4().hex[:8])
            else:
                cell.pop("id", None)
            nb.cells.insert(self._insert_at(nb, layout, position), cell)
        return nb, resources

    def add_missing_task_cells(self, nb, resources):
        """nbgrader's, without the KeyError on a cell whose nbgrader metadata has no grade id."""
        source_nb = self.gradebook.find_notebook(self.notebook_id, self.assignment_id)
        source_cells = {cell.name: cell for cell in source_nb.source_cells}
        present = self._present(nb)
        for task_cell in source_nb.task_cells:
            if task_cell.name not in present:
                nb.cells.append(self.missing_cell_transform(source_cells[task_cell.name], task_cell.max_score,
                                                            is_task=True))
        return nb, resources

    def _layout(self, source_cells):
        """The source notebook as (grade id or None, cell id, normalised text) per cell, in order.

        Without the source notebook, the gradebook's cells (in whatever order the database returns).
        """
        original = source_notebook(self, self.assignment_id, self.notebook_id)
        if original is None:
            return [(name, None, normalised(cell.source)) for name, cell in source_cells.items()]
        return [(_ids(cell) if _ids(cell) in source_cells else None, cell.get("id"), normalised(cell.source))
                for cell in original.cells]

    @staticmethod
    def _present(nb):
        return {_ids(cell) for cell in nb.cells if _ids(cell) is not None}

    @staticmethod
    def _insert_at(nb, layout, position):
        """Index in ``nb`` for the cell at ``position`` of the layout: after its nearest present predecessor."""
        def find(entry):
            grade_id, cell_id, text = entry
            for i, cell in enumerate(nb.cells):
                if grade_id is not None and _ids(cell) == grade_id:
                    return i
                if grade_id is None and ((cell_id and cell.get("id") == cell_id) or
                                         (text and _ids(cell) is None and normalised(cell.source) == text)):
                    return i
            return None
        for entry in reversed(layout[:position]):
            found = find(entry)
            if found is not None:
                return found + 1
        for entry in layout[position + 1:]:
            found = find(entry)
            if found is not None:
                return found
        return len(nb.cells)

    def _locked_cell(self, source_cell):
        note = self.missing_cell_notification.format(cell_id=source_cell.name)
        cell = nbformat.v4.new_code_cell(source="# " + note + source_cell.source) if source_cell.cell_type == "code" \
            else nbformat.v4.new_markdown_cell(source=note + source_cell.source)
        cell.metadata = NotebookNode({
            "deletable": False, "editable": False,
            "nbgrader": {"grade": False, "solution": False, "task": False, "locked": True,
                         "grade_id": source_cell.name, "checksum": source_cell.checksum, "schema_version": 3},
        })
        return cell


class ScoreErrorsOnly(NbGraderPreprocessor):
    """A test cell loses its points only when it raises (run after execution, before SaveAutoGrades).

    nbgrader (utils.determine_grade) scores 0 for any stderr output in a test cell, so a correct answer
    that triggers a numpy RuntimeWarning would lose its points, and reads a displayed number as partial
    credit. Here stderr text becomes ordinary output (the student still reads the warning in the
    feedback) and a displayed value is shown, not scored; each is noted for the instructor.
    """

    allow_partial_credit = Bool(
        False, help="Read a number displayed by a test cell as partial credit (nbgrader's default). "
                    "The course's tests never display one, so a displayed value is student output.").tag(config=True)

    def preprocess(self, nb, resources):
        self._nb = nb
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type != "code" or not utils.is_grade(cell) or utils.is_solution(cell):
            return cell, resources
        grade_id = _ids(cell)
        for output in cell.outputs:
            if output.output_type == "stream" and output.name == "stderr":
                output.name = "stdout"
                first = next((line for line in output.text.splitlines() if line.strip()), "")
                events.add(self._nb, "stderr", grade_id, first[:120])
            elif output.output_type == "execute_result" and not self.allow_partial_credit:
                output.output_type = "display_data"
                output.pop("execution_count", None)
                events.add(self._nb, "display-output", grade_id, str(output.get("data", {}).get("text/plain", ""))[:60])
        return cell, resources


class StudentFeedback(NbGraderPreprocessor):
    """Feedback shows each failure's message, never the hidden tests' code or any test cell's traceback.

    The autograded notebook keeps everything for the instructor. In the feedback, every test cell
    loses its hidden-test region (the same delimiters as ``ClearHiddenTests``) and each error output
    of a test cell keeps only ``ename: evalue``: the message the check wrote for the student. A
    traceback would show the hidden call, its seed and the grader's internals. And any output, of
    any cell, that quotes a line of a hidden test (a student cell that prints IPython's history,
    ``In`` or ``_ih``, after a test cell ran) is replaced by a one-line notice.
    """

    def preprocess(self, nb, resources):
        self._hidden = set()
        for cell in nb.cells:
            if cell.cell_type == "code" and utils.is_grade(cell):
                shown = set(release_source(cell.source, "code", self).splitlines())
                self._hidden |= {line.strip() for line in cell.source.splitlines()
                                 if line not in shown and len(line.strip()) >= 12 and "HIDDEN TESTS" not in line}
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code":
            cell.outputs = [self._redacted(o) for o in cell.get("outputs", [])]
        if cell.cell_type != "code" or not utils.is_grade(cell):
            return cell, resources
        ClearHiddenTests(parent=self)._remove_hidden_test_region(cell)
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                message = f"{output.ename}: {output.evalue}" if output.evalue else output.ename
                output.traceback = message.split("\n")
        return cell, resources

    def _redacted(self, output):
        text = json.dumps(output, ensure_ascii=False)
        if not any(json.dumps(line, ensure_ascii=False)[1:-1] in text for line in self._hidden):
            return output
        return NotebookNode(output_type="stream", name="stdout", text=HIDDEN_NOTICE)


HIDDEN_NOTICE = ("（这个输出引用了隐藏测试，反馈中不显示。）/ (This output quotes the hidden tests: it is not shown "
                 "in the feedback.)\n")
