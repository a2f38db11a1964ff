"""What a submission scored, why each point was lost, and what needs the instructor: read, not computed.

A report is rebuilt at any time from three places nbgrader already keeps: the gradebook (scores, also
manual ones), ``submitted/`` (what the student handed in) and ``autograded/`` (the executed notebooks,
with their error outputs and the events the preprocessors recorded). So ``python -m autograder report``
works after a plain ``nbgrader autograde`` too, and reports from several machines agree.
"""

import dataclasses
import json
import pathlib
import unicodedata

import nbformat

from nbgrader.api import MissingEntry

from .. import events

#: Error names, most telling first, when a test cell shows several errors.
_PRIORITY = ["TamperingError", "NotRunError", "DeadKernelError", "CellTimeoutError", "MemoryError"]


@dataclasses.dataclass
class CellScore:
    """One graded cell of a submitted notebook."""
    cell: str
    score: float
    max_score: float
    manual: bool            # a written answer, graded by hand
    pending: bool           # waits for manual grading
    reason: str = ""        # why points were lost (the error the test raised), or the manual status


@dataclasses.dataclass
class NotebookReport:
    """One notebook of a submission: ``status`` is graded, missing, invalid, failed, not graded or not submitted."""
    name: str
    status: str
    score: float = 0.0
    max_score: float = 0.0
    cells: list = dataclasses.field(default_factory=list)
    events: list = dataclasses.field(default_factory=list)
    feedback: list = dataclasses.field(default_factory=list)

    @property
    def lost(self):
        """Autograded cells that did not get full marks."""
        return [c for c in self.cells if not c.manual and c.score < c.max_score]

    @property
    def pending(self):
        return any(c.pending for c in self.cells)


@dataclasses.dataclass
class SubmissionReport:
    """A student's submission of one assignment."""
    student: str
    assignment: str
    notebooks: list = dataclasses.field(default_factory=list)
    events: list = dataclasses.field(default_factory=list)      # about the submission as a whole
    seconds: float = 0.0

    @property
    def score(self):
        return sum(nb.score for nb in self.notebooks)

    @property
    def max_score(self):
        return sum(nb.max_score for nb in self.notebooks)

    def items(self):
        """Every event as (notebook or "", event dict), submission-level first."""
        return [("", e) for e in self.events] + [(nb.name, e) for nb in self.notebooks for e in nb.events]

    def attention(self):
        """The events that need the instructor: (notebook, event) pairs."""
        return [(where, e) for where, e in self.items() if events.needs_attention(e["kind"])]

    def to_dict(self):
        return dataclasses.asdict(self) | {"score": self.score, "max_score": self.max_score,
                                           "attention": [{"notebook": w, **e} for w, e in self.attention()]}


# ---------------------------------------------------------------------- reading a submission

def preflight(folder, expected):
    """What a submission folder holds, before grading: per expected notebook ``(status, detail)``, plus extras.

    status is ``ok``, ``missing`` or ``invalid`` (not JSON, or not a notebook); nothing is modified.
    """
    folder = pathlib.Path(folder)
    found = {}
    for name in expected:
        path = folder / f"{name}.ipynb"
        if not path.exists():
            found[name] = ("missing", "")
            continue
        try:
            with open(path, encoding="utf-8") as fh:
                nb = nbformat.read(fh, as_version=4)
            if not isinstance(nb.get("cells"), list):
                raise ValueError("no cells")
        except Exception as error:  # noqa: BLE001 - any unreadable file is the same finding
            found[name] = ("invalid", f"{type(error).__name__}: {str(error).splitlines()[0][:100] if str(error) else ''}")
        else:
            found[name] = ("ok", "")
    wanted = {f"{name}.ipynb" for name in expected} | {"timestamp.txt"}
    extras = sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                    if p.is_file() and str(p.relative_to(folder)) not in wanted
                    and ".ipynb_checkpoints" not in p.parts) if folder.is_dir() else []
    return found, extras


def submission_events(found, extras):
    """The submission-level events of a preflight: missing/invalid notebooks, extra notebooks and files."""
    out = []
    notebooks = [e for e in extras if e.endswith(".ipynb")]
    others = [e for e in extras if not e.endswith(".ipynb")]
    for name, (status, detail) in found.items():
        if status == "missing":
            hint = f"found instead: {', '.join(notebooks)}" if notebooks else "no notebook of that name"
            out.append(events.event("missing-notebook", f"{name}.ipynb", hint))
        elif status == "invalid":
            out.append(events.event("invalid-notebook", f"{name}.ipynb", detail))
    if notebooks:
        out.append(events.event("extra-notebook", None, ", ".join(notebooks)))
    if others:
        out.append(events.event("extra-files", None, ", ".join(others[:8]) + (" ..." if len(others) > 8 else "")))
    return out


def build(course, assignment, student, failures=None):
    """The report of one submission, from the gradebook, ``submitted/`` and ``autograded/``.

    ``failures`` maps a notebook to nbgrader's error text, when the caller just saw nbgrader fail on it.
    """
    failures = failures or {}
    expected = course.notebooks(assignment)
    folder = course.path("submitted", student, assignment)
    report = SubmissionReport(student, assignment)
    reasons = {}
    if not folder.is_dir():
        report.notebooks = [NotebookReport(name, "not submitted") for name in expected]
        _fill_scores(course, assignment, student, report, reasons)
        return report
    found, extras = preflight(folder, expected)
    report.events = submission_events(found, extras)
    for name in expected:
        status = found[name][0]
        nb_report = NotebookReport(name, "graded" if status == "ok" else status)
        autograded = course.path("autograded", student, assignment, name)
        if status == "ok" and autograded.exists():
            nb = nbformat.read(autograded, as_version=4)
            nb_report.events = events.read(nb)
            reasons[name] = _reasons(nb)
        elif status == "ok":
            nb_report.status = "failed" if name in failures else "not graded"
            if name in failures:
                nb_report.events.append(events.event("nbgrader-error", None, failures[name]))
        nb_report.feedback = [str(p) for p in [course.path("feedback", student, assignment, name, ".html")]
                              if p.exists()]
        report.notebooks.append(nb_report)
    _fill_scores(course, assignment, student, report, reasons)
    return report


def _fill_scores(course, assignment, student, report, reasons):
    with course.gradebook() as gb:
        for nb_report in report.notebooks:
            try:
                submitted = gb.find_submission_notebook(nb_report.name, assignment, student)
            except MissingEntry:
                notebook = gb.find_notebook(nb_report.name, assignment)
                nb_report.max_score = float(notebook.max_score)
                continue
            cell_reasons = reasons.get(nb_report.name, {})
            if nb_report.status == "not graded" and _autograded_in_gradebook(submitted):
                # graded by another machine sharing this gradebook (--shard): its autograded/ folder has the reasons
                nb_report.status = "graded"
                cell_reasons = {g.name: _ELSEWHERE for g in submitted.grades if g.cell_type == "code"}
            for grade in sorted(submitted.grades, key=lambda g: _order(g, cell_reasons)):
                manual = grade.cell_type != "code"
                pending = bool(grade.needs_manual_grade)
                if pending:
                    reason = "awaiting manual grading / 待人工评分"
                elif manual and grade.manual_score is None and not grade.auto_score:
                    reason = "no answer / 未作答"
                else:
                    reason = cell_reasons.get(grade.name, "")
                if not manual and grade.auto_score is None and not pending:
                    reason = reason or "not graded / 未评分"
                nb_report.cells.append(CellScore(grade.name, float(grade.score), float(grade.max_score),
                                                 manual, pending, reason))
            nb_report.score = float(submitted.score)
            nb_report.max_score = float(submitted.max_score)


_ELSEWHERE = "graded on another machine: the reason is in its autograded/ folder / 在另一台机器上批改，原因见那台机器的 autograded/"


def _autograded_in_gradebook(submitted):
    """Does the gradebook hold an autograded score for every test cell of this submitted notebook?"""
    tests = [g for g in submitted.grades if g.cell_type == "code"]
    return bool(tests) and all(g.auto_score is not None for g in tests)


def _order(grade, reasons):
    keys = list(reasons)
    return (keys.index(grade.name) if grade.name in keys else len(keys), grade.name)


def _reasons(nb):
    """For every grade cell of an autograded notebook (in notebook order): the error it shows, or ""."""
    reasons = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade"):
            continue
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        errors.sort(key=lambda o: _PRIORITY.index(o.ename) if o.ename in _PRIORITY else len(_PRIORITY))
        reasons[meta["grade_id"]] = message(errors[0]) if errors else ""
    return reasons


def message(output, width=150, lines=2):
    """``ename: evalue``, its first lines, shortened: what the student was told."""
    text = [line.strip() for line in str(output.get("evalue", "")).splitlines() if line.strip()][:lines]
    text = [line if len(line) <= width else line[:width - 1] + "…" for line in text]
    return f"{output.ename}: " + " | ".join(text) if text else output.ename


# ---------------------------------------------------------------------- printing

def width(text):
    """Columns a string takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text, columns):
    return text + " " * max(0, columns - width(text))


def score_text(nb_report):
    if nb_report.status in ("not submitted",):
        return "-"
    text = f"{nb_report.score:g}/{nb_report.max_score:g}"
    if nb_report.status != "graded":
        text += " !"
    elif nb_report.pending:
        text += " *"
    return text


def table(reports):
    """Student x notebook scores (``*`` manual grading pending, ``!`` not graded normally, ``-`` no submission)."""
    columns = []
    for r in reports:
        for nb in r.notebooks:
            if (r.assignment, nb.name) not in columns:
                columns.append((r.assignment, nb.name))
    students = sorted({r.student for r in reports})
    by_key = {(r.student, r.assignment, nb.name): nb for r in reports for nb in r.notebooks}
    header = ["student"] + [name for _, name in columns] + ["total"]
    rows = []
    for student in students:
        row, score, max_score = [student], 0.0, 0.0
        for assignment, name in columns:
            nb = by_key.get((student, assignment, name))
            row.append(score_text(nb) if nb else "-")
            if nb:
                score, max_score = score + nb.score, max_score + nb.max_score
        rows.append(row + [f"{score:g}/{max_score:g}"])
    widths = [max(width(r[i]) for r in [header] + rows) for i in range(len(header))]
    lines = ["  ".join(pad(cell, w) for cell, w in zip(row, widths)).rstrip() for row in [header] + rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def grouped(items):
    """Events of one kind in one notebook, merged: [(where, kind, [cells], first detail)], in order."""
    groups = {}
    for where, e in items:
        group = groups.setdefault((where, e["kind"]), [where, e["kind"], [], e.get("detail") or ""])
        if e.get("cell") and e["cell"] not in group[2]:
            group[2].append(e["cell"])
    return [tuple(g) for g in groups.values()]


def details(report):
    """Lines: every lost point with its reason, and every event (merged by kind), of one submission."""
    out = []
    for nb in report.notebooks:
        if nb.status not in ("graded", "not submitted"):
            out.append(f"  {nb.name}  every cell  {nb.score:g}/{nb.max_score:g}  {_STATUS.get(nb.status, nb.status)}")
            continue
        for cell in nb.lost:
            out.append(f"  {nb.name}  {cell.cell}  {cell.score:g}/{cell.max_score:g}  {cell.reason or '(no error shown)'}")
    for where, kind, cells, detail in grouped(report.items()):
        mark = "!" if events.needs_attention(kind) else "·"
        place = "  ".join(p for p in (where, ", ".join(cells)) if p)
        text = detail if len(cells) <= 1 and detail else events.describe(kind)
        out.append(f"  {mark} [{kind}] {place}: {text}" if place else f"  {mark} [{kind}] {text}")
    return out


_STATUS = {"missing": "notebook missing / 未提交", "invalid": "notebook unreadable / 文件损坏",
           "failed": "nbgrader failed / 评分失败", "not graded": "not autograded yet / 尚未评分"}


def summary(reports):
    """The full text: the table, the details per student, and what needs attention."""
    lines = [table(reports), "", "* manual grading pending (nbgrader formgrader)   ! not graded normally   - no submission", ""]
    for report in sorted(reports, key=lambda r: (r.student, r.assignment)):
        more = details(report)
        if more:
            lines.append(f"{report.student} / {report.assignment}: {report.score:g}/{report.max_score:g}")
            lines += more
    attention = [(r, group) for r in reports for group in grouped(r.attention())]
    lines.append("")
    if attention:
        students = sorted({r.student for r, _ in attention})
        lines.append(f"NEEDS ATTENTION / 需要处理: {len(attention)} item(s), {len(students)} student(s): {', '.join(students)}")
        for r, (where, kind, cells, _) in attention:
            notebook = r.assignment if where in ("", r.assignment) else f"{r.assignment}/{where}"
            place = "  ".join(p for p in (notebook, ", ".join(cells)) if p)
            lines.append(f"  {r.student}  {place}  [{kind}] {events.describe(kind)}")
    else:
        lines.append(f"All {len(reports)} submission(s) graded; nothing needs attention. / 全部评分完成，无需处理。")
    return "\n".join(lines)


def dump(reports, path):
    """Write the reports as JSON (for scripts; the gradebook stays the source of truth)."""
    pathlib.Path(path).write_text(json.dumps([r.to_dict() for r in reports], ensure_ascii=False, indent=1),
                                  encoding="utf-8")
