"""The summary that opens a student's feedback: one row per graded item, read in ten seconds.

nbgrader's feedback opens with a generic list ("Test cell (Score: 0.0 / 2.0)" once per test, and
"Written response (Score: 0.0 / 3.0)" before anyone graded it). The course's template
(``templates/reludrop_feedback``) puts this summary in its place: each graded item in notebook order,
named as the student knows it (``test_backprop`` is the function ``backprop``; a written answer by the
heading above it), its points, a status, and for an item that lost points the first lines of the
check's message (Chinese, then English), linked to its cell.

Two preprocessors, configured in ``nbgrader_config.py`` (``c.GenerateFeedback.preprocessors``)::

    GetGradesPending  nbgrader's GetGrades, which also records per graded cell whether its grade is
                      pending: a written answer that needs a manual grade nobody gave yet is shown as
                      pending, not as 0.
    FeedbackSummary   computes the rows into ``resources["feedback_summary"]``, from the notebook as
                      ``StudentFeedback`` left it (after it: it refuses a notebook that still holds a
                      hidden test). It reads only the ``ename``/``evalue`` of test cells' error outputs,
                      which the feedback shows anyway, so the summary can show nothing the cells do not.

The rest are pure functions of a cell or a value, easy to test without nbgrader.
"""

import re

from traitlets import Int

from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, GetGrades, NbGraderPreprocessor

from .preprocessors import HIDDEN_NOTICE

__all__ = ["GetGradesPending", "FeedbackSummary", "SummaryBeforeStudentFeedback", "headings", "heading_title",
           "item_name", "message_lines", "lost_message", "answered", "status", "format_points", "total_line",
           "verdict", "summary_rows"]

#: Statuses, each with its Chinese and English label (the template colours them green, red and grey).
PASSED, LOST, PENDING = "passed", "lost", "pending"
STATUS_LABELS = {PASSED: ("通过", "passed"), LOST: ("未通过", "lost"), PENDING: ("待批改", "pending")}

#: What the summary says when a message is not the check's own (Chinese, English).
NOT_ANSWERED = ("未作答：答题单元格还是发下来时的样子。",
                "Not answered: the answer cell is as it was handed out.")
NO_ERROR_OUTPUT = ("没有错误信息：评分在这里超时或崩溃，这一项按 0 分记。",
                   "No error message: grading timed out or crashed here, and this item scores 0.")
MESSAGE_HIDDEN = ("错误信息引用了隐藏测试，反馈中不显示。",
                  "The error message quotes the hidden tests: it is not shown.")
SEE_COMMENT = ("请看老师在这一题下面的批语。", "See the grader's comment under this answer.")

_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
_DIAGNOSIS_CODE = "诊断代码 / diagnosis code:"       # the third line of every check's message (_messages.fail)


# ---------------------------------------------------------------------- naming the items

def _meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def headings(source):
    """The texts of the Markdown headings in ``source``, in order (emphasis and code marks dropped)."""
    found = (re.sub(r"[*_`]", "", m.group(1)).strip() for m in map(_HEADING.match, source.splitlines()) if m)
    return [title for title in found if title]


def heading_title(source):
    """The last Markdown heading in ``source`` (the one nearest what follows), or None."""
    titles = headings(source)
    return titles[-1] if titles else None


def item_name(cells, index):
    """What the student calls graded cell ``cells[index]``.

    A test cell ``test_<function>`` is its function; a written answer (or any other graded cell) is
    titled by the last heading of the nearest Markdown cell above it that has one, not looking past
    the previous graded cell; else its grade id.
    """
    grade_id = _meta(cells[index]).get("grade_id", f"cell {index + 1}")
    if cells[index].cell_type == "code" and not utils.is_solution(cells[index]):
        return grade_id[len("test_"):] if grade_id.startswith("test_") and len(grade_id) > 5 else grade_id
    for cell in reversed(cells[:index]):
        if utils.is_grade(cell):
            break
        if cell.cell_type == "markdown":
            title = heading_title(cell.source)
            if title:
                return title
    return grade_id


# ---------------------------------------------------------------------- why points were lost

def message_lines(evalue, limit=300):
    """The lines of a check's message that say what is wrong: the Chinese line, then the English one.

    The checks' messages (``autograder.checks._messages.fail``) are a Chinese line, an English line, a
    diagnosis code and the differing case: the first two lines. A visible test's message is usually
    one bilingual line (``中文 / English``, then maybe the value it got): that line. Each line is cut
    at ``limit`` characters.
    """
    lines = [line.strip() for line in (evalue or "").splitlines() if line.strip()]
    if not lines:
        return ()
    first = lines[0]
    two = len(lines) > 1 and (
        (len(lines) > 2 and lines[2].startswith(_DIAGNOSIS_CODE))
        or (not _bilingual(first) and _CJK.search(first) and not _CJK.search(lines[1])))
    return tuple(_cut(line, limit) for line in (lines[:2] if two else lines[:1]))


def _bilingual(line):
    """Is ``line`` Chinese and English already (``中文 / English``: no Chinese after its last " / ")?"""
    head, sep, tail = line.rpartition(" / ")
    return bool(sep) and bool(_CJK.search(head)) and not _CJK.search(tail) and bool(re.search(r"[A-Za-z]", tail))


def _cut(line, limit):
    return line if len(line) <= limit else line[:limit - 1].rstrip() + "…"


def lost_message(cell, answered=True, limit=300):
    """Why graded cell ``cell`` lost points: a tuple of lines, Chinese first (empty when nothing to add).

    ``answered`` is False when the student's answer cell is still the release's (an unanswered stub).
    The first error output of the cell tells the rest; a test cell with none was zeroed by the course
    (a timeout or a crash that left no error), or its error quoted a hidden test and was withheld.
    """
    if not answered:
        return NOT_ANSWERED
    if cell.cell_type != "code" or utils.is_solution(cell):
        return SEE_COMMENT if _meta(cell).get("comment") else ()
    outputs = cell.get("outputs", [])
    error = next((o for o in outputs if o.get("output_type") == "error"), None)
    if error is None:
        if any(o.get("output_type") == "stream" and o.get("text") == HIDDEN_NOTICE for o in outputs):
            return MESSAGE_HIDDEN
        return NO_ERROR_OUTPUT
    ename, lines = error.get("ename") or "Error", message_lines(error.get("evalue"), limit)
    if not lines:
        if ename == "NotImplementedError":
            return NOT_ANSWERED
        return (f"{ename}（没有错误信息）", f"{ename} (no message)")
    if ename != "AssertionError":                         # a check's verdict; anything else is named
        lines = (_cut(f"{ename}: {lines[0]}", limit),) + lines[1:]
    return lines


def answered(cell):
    """Has the student changed answer cell ``cell`` (nbgrader's test: its checksum differs from the release's)?"""
    checksum = _meta(cell).get("checksum")
    return checksum is None or checksum != utils.compute_checksum(cell)


# ---------------------------------------------------------------------- points and status

def format_points(value):
    """Points as a student reads them: ``14.0`` is "14", ``1.5`` is "1.5"."""
    return f"{round(float(value), 2):g}"


def status(score, points, pending):
    """``PENDING`` while a manual grade is missing, else ``PASSED`` for full marks and ``LOST`` below them."""
    if pending:
        return PENDING
    return PASSED if float(score or 0) >= float(points) else LOST


def total_line(score, max_score, pending_points=0, late_penalty=0):
    """The total: "得分 / Score: 14 / 21 (另有 3 分待批改 / 3 more points pending)"."""
    text = f"得分 / Score: {format_points(score)} / {format_points(max_score)}"
    notes = []
    if pending_points:
        p = format_points(pending_points)
        notes.append(f"另有 {p} 分待批改 / {p} more point{'s' if p != '1' else ''} pending")
    if late_penalty:
        p = format_points(late_penalty)
        notes.append(f"迟交扣 {p} 分 / late penalty: {p}")
    return text + "".join(f" ({note})" for note in notes)


def verdict(rows):
    """A one-line congratulation (Chinese, English) when no item lost points, else None."""
    if not rows or any(row["status"] == LOST for row in rows):
        return None
    done = sum(row["status"] == PASSED for row in rows)
    if done == len(rows):
        return ("全部通过，满分！做得好。", "Everything passed: full marks. Well done!")
    if not done:
        return None
    return (f"已评分的 {done} 项全部通过，做得好！其余的等老师批改。",
            f"{'The graded item' if done == 1 else f'All {done} graded items'} passed. Well done! "
            f"The rest waits for a grader.")


# ---------------------------------------------------------------------- the rows

def summary_rows(cells, limit=300):
    """One row (a dict) per graded cell of ``cells``, in notebook order, after GetGradesPending ran.

    Keys: ``anchor`` (the grade id, nbgrader's ``<a name>``), ``name``, ``code`` (a function name,
    shown as code), ``score``, ``points`` (formatted), ``pending_points`` (a number), ``status``,
    ``status_zh``, ``status_en``, ``lines`` (the message, Chinese first; empty unless lost).
    """
    answers = {_meta(c).get("grade_id"): c for c in cells if utils.is_solution(c) and not utils.is_grade(c)}
    rows = []
    for index, cell in enumerate(cells):
        if not (utils.is_grade(cell) or utils.is_task(cell)):
            continue
        meta = _meta(cell)
        grade_id = meta.get("grade_id", "")
        name = item_name(cells, index)
        is_test = cell.cell_type == "code" and not utils.is_solution(cell)
        own = cell if utils.is_solution(cell) else answers.get(name) if is_test else None
        state = status(meta.get("score"), meta.get("points", 0), bool(meta.get("pending")))
        lines = lost_message(cell, answered(own) if own is not None else True, limit) if state == LOST else ()
        rows.append({
            "anchor": grade_id, "name": name, "code": is_test and name != grade_id,
            "score": format_points(meta.get("score") or 0), "points": format_points(meta.get("points", 0)),
            "pending_points": float(meta.get("points", 0)) if state == PENDING else 0.0,
            "status": state, "status_zh": STATUS_LABELS[state][0], "status_en": STATUS_LABELS[state][1],
            "lines": list(lines),
        })
    return rows


# ---------------------------------------------------------------------- the preprocessors

class GetGradesPending(GetGrades):
    """nbgrader's GetGrades; each graded cell also gets ``pending``: it needs a manual grade nobody gave yet.

    nbgrader's gradebook marks a written answer ``needs_manual_grade`` until a grader scores it
    (``manual_score``); until then its score reads 0. The feedback is only rendered, never saved as a
    notebook, so the flag sits with the ``score`` and ``points`` GetGrades writes into the metadata.
    """

    def _get_score(self, cell, resources):
        grade = self.gradebook.find_grade(cell.metadata["nbgrader"]["grade_id"], self.notebook_id,
                                          self.assignment_id, self.student_id)
        cell.metadata.nbgrader["score"] = grade.score
        cell.metadata.nbgrader["points"] = grade.max_score
        cell.metadata.nbgrader["pending"] = bool(grade.needs_manual_grade and grade.manual_score is None)


class SummaryBeforeStudentFeedback(ValueError):
    """FeedbackSummary configured before StudentFeedback: a test cell still holds its hidden tests."""


class FeedbackSummary(NbGraderPreprocessor):
    """Compute the feedback's opening summary into ``resources["feedback_summary"]`` (run last).

    ``rows`` (``summary_rows``), ``total`` (``total_line``), ``verdict`` (a congratulation or None) and
    ``title`` (the notebook's first heading) are what ``templates/reludrop_feedback`` shows.
    """

    message_limit = Int(300, help="Longest line of a check's message the summary shows, in characters (the "
                                  "whole message stays in the cell's output below).").tag(config=True)

    def preprocess(self, nb, resources):
        delimiter = ClearHiddenTests(parent=self).begin_test_delimeter
        for cell in nb.cells:
            if utils.is_grade(cell) and cell.cell_type == "code" and delimiter in cell.source:
                raise SummaryBeforeStudentFeedback(
                    f"{_meta(cell).get('grade_id')} still holds its hidden tests: list FeedbackSummary after "
                    f"StudentFeedback in c.GenerateFeedback.preprocessors")
        rows = summary_rows(nb.cells, self.message_limit)
        info = resources.get("nbgrader", {})
        pending = sum(row["pending_points"] for row in rows)
        title = next((headings(c.source)[0] for c in nb.cells if c.cell_type == "markdown" and headings(c.source)),
                     None)
        resources["feedback_summary"] = {
            "title": title,
            "rows": rows,
            "total": total_line(info.get("score", 0), info.get("max_score", 0), pending, info.get("late_penalty", 0)),
            "verdict": verdict(rows),
        }
        return nb, resources
