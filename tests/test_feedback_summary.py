"""The summary that opens a student's feedback (``autograder.grading.feedback_summary``): can a student read it
in ten seconds, and does it show nothing of the hidden tests?

The pure functions are tested on their own. Then one scratch course with notebook 01 released and three students
(every answer right, a ReLU that returns z, the release handed in blank) is graded once, in the bubblewrap sandbox,
by ``python -m autograder autograde``; the right student's written answer is then graded by hand, the other two wait
for it; and ``python -m autograder feedback`` writes their feedback. The HTML tests read that feedback; the
browser test opens it in Debian's Chromium (headless, through Playwright) and takes a screenshot of the first screen.

Without bubblewrap or Chromium the tests that need them fail under CI (``CI=true``) and are skipped elsewhere.
"""

import fnmatch
import html
import json
import os
import pathlib
import re
import sys
import time
import tomllib
import types
from html.parser import HTMLParser

import nbformat
import nbgrader
import pytest
from nbconvert import HTMLExporter
from nbgrader import utils as nbgrader_utils
from traitlets.config import Config

sys.path.insert(0, os.path.dirname(__file__))

from browser_helpers import VIEWPORT, Browser, cjk_font_available, find_chromium, fresh_profile_dir  # noqa: E402

from cli_run import run_cli  # noqa: E402
from autograder.batch import samples  # noqa: E402
from autograder.grading import feedback_summary as fs  # noqa: E402
from autograder.grading.course import Course, load_config  # noqa: E402
from autograder.grading.preprocessors import HIDDEN_NOTICE, StudentFeedback  # noqa: E402
from autograder.sandbox import bubblewrap  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
A = "01_relu_network"
WRONG_RELU = "def ReLU(z):\n    return z\n"
#: The students: who they are, and their answer cells that differ from the reference (None: the blank release).
STUDENTS = {"all_right": {}, "wrong_relu": {"ReLU": WRONG_RELU}, "blank": None}
GRADER_COMMENT = "思路清楚 / clearly argued"

#: A check's message as ``autograder.checks`` writes it (``_messages.fail``): Chinese, English, code, the case.
CHECK_MESSAGE = ("ReLU（隐藏测试）未通过：负数没有变成 0。\n"
                 "ReLU (hidden test) failed: negative inputs did not become 0.\n"
                 "诊断代码 / diagnosis code: mismatch\n"
                 "第一个不一致的用例 / first differing case #1:\n  输入 / input z = [-1.0]")
#: A timeout's message as GradingExecute writes it.
TIMEOUT = "单元格运行超过 60 秒，已被中断。/ The cell ran longer than 60 s and was interrupted."


def fail_or_skip(reason):
    if os.environ.get("CI"):
        pytest.fail(f"CI must run this test: {reason}")
    pytest.skip(reason)


# ====================================================================== the pure functions

def graded_cell(cell_type, grade_id, source="", points=1.0, score=None, outputs=(), solution=False, pending=False,
                comment=None):
    """A cell as the feedback sees it after GetGradesPending: nbgrader metadata with score, points, pending."""
    cell = nbformat.v4.new_code_cell(source) if cell_type == "code" else nbformat.v4.new_markdown_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "solution": solution, "locked": not solution, "grade_id": grade_id,
                                 "points": points, "schema_version": 3, "score": score, "pending": pending,
                                 "comment": comment}
    if cell_type == "code":
        cell.outputs = [nbformat.from_dict(o) for o in outputs]
    return cell


def answer_cell(grade_id, source, released=None):
    """A code answer cell; its checksum is the release's (``released``, by default ``source``: unanswered)."""
    cell = nbformat.v4.new_code_cell(released if released is not None else source)
    cell.metadata["nbgrader"] = {"grade": False, "solution": True, "locked": False, "grade_id": grade_id,
                                 "schema_version": 3}
    cell.metadata["nbgrader"]["checksum"] = nbgrader_utils.compute_checksum(cell)
    cell.source = source
    return cell


def error(ename, evalue):
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}


def test_a_check_message_shows_its_chinese_and_english_lines():
    """Of a check's message, are the Chinese and the English line shown, without the diagnosis code or the case?"""
    assert fs.message_lines(CHECK_MESSAGE) == ("ReLU（隐藏测试）未通过：负数没有变成 0。",
                                               "ReLU (hidden test) failed: negative inputs did not become 0.")


def test_a_bilingual_line_is_shown_alone():
    """Is a visible test's one-line message (``中文 / English``) shown alone, without the value printed after it,
    and is a division in a Chinese diagnosis not taken for the bilingual separator?"""
    assert fs.message_lines("负数应变为 0 / negatives become 0; got\n[[-2.  0.  3.]]") == (
        "负数应变为 0 / negatives become 0; got",)
    zh, en = "输出层的 delta 应为 (h - Y) / m，别忘了除以 m。", "the output delta is (h - Y) / m."
    assert fs.message_lines(f"{zh}\n{en}") == (zh, en)
    assert fs.message_lines("name 'np' is not defined") == ("name 'np' is not defined",)
    assert fs.message_lines("   \n") == ()


def test_a_long_line_is_cut():
    """Is a line longer than the limit cut, with an ellipsis, so that one message cannot fill the screen?"""
    (line,) = fs.message_lines("x" * 1000, limit=80)
    assert len(line) == 80 and line.endswith("…")


@pytest.mark.parametrize("outputs, expected", [
    ([error("AssertionError", CHECK_MESSAGE)], fs.message_lines(CHECK_MESSAGE)),
    ([error("NotImplementedError", "")], fs.NOT_ANSWERED),
    ([error("ZeroDivisionError", "")], ("ZeroDivisionError（没有错误信息）", "ZeroDivisionError (no message)")),
    ([], fs.NO_ERROR_OUTPUT),
    ([{"output_type": "stream", "name": "stdout", "text": "✓ ReLU: all 3 visible cases pass.\n"}],
     fs.NO_ERROR_OUTPUT),
    ([{"output_type": "stream", "name": "stdout", "text": HIDDEN_NOTICE}], fs.MESSAGE_HIDDEN),
    ([error("CellTimeoutError", TIMEOUT)], (f"CellTimeoutError: {TIMEOUT}",)),
])
def test_a_lost_test_says_why(outputs, expected):
    """Does a lost test cell say why: the check's message, "not answered" for an empty NotImplementedError, the
    error's name when it has no message, "no error message" when the course zeroed it (a timeout or a crash that
    left no error), "hidden" when its error quoted a hidden test, and the name of any error but an assertion?"""
    cell = graded_cell("code", "test_ReLU", outputs=outputs, score=0.0)
    assert fs.lost_message(cell) == expected


def test_an_unchanged_answer_is_not_answered_whatever_the_test_says():
    """Does a test whose function's answer cell is still the release's say "not answered", even though the check
    wrapped the stub's NotImplementedError in a long message, and a changed answer get the check's message?"""
    stub = "def ReLU(z):\n    raise NotImplementedError()"
    test = graded_cell("code", "test_ReLU", score=0.0, outputs=[error("AssertionError", CHECK_MESSAGE)])
    rows = fs.summary_rows([answer_cell("ReLU", stub), test])
    assert rows[0]["lines"] == list(fs.NOT_ANSWERED)
    rows = fs.summary_rows([answer_cell("ReLU", WRONG_RELU, released=stub), test])
    assert rows[0]["lines"] == list(fs.message_lines(CHECK_MESSAGE))


def test_items_are_named_as_the_student_knows_them():
    """Is ``test_backprop`` called backprop, a written answer by the heading above it (not past the previous graded
    cell), and an item without either by its grade id?"""
    prose = "## 8. 练习 13\n\n### 练习 13（人工评分）\n\n根据上面的实验……"
    cells = [nbformat.v4.new_markdown_cell(prose),
             graded_cell("markdown", "exercise_13", solution=True),
             graded_cell("code", "test_backprop"),
             graded_cell("markdown", "exercise_14", solution=True),
             graded_cell("code", "check_everything")]
    assert [fs.item_name(cells, i) for i in range(1, 5)] == ["练习 13（人工评分）", "backprop", "exercise_14",
                                                           "check_everything"]
    assert fs.heading_title("**粗体**\n# 标题 `code` #") == "标题 code"
    assert fs.heading_title("no heading here") is None


def test_status_points_and_total():
    """Are the statuses passed / lost / pending, points written as a student reads them, and the total line the
    score, the maximum and what is still pending?"""
    assert (fs.status(2.0, 2.0, False), fs.status(0.0, 2.0, False), fs.status(0.0, 3.0, True),
            fs.status(1.0, 2.0, False)) == (fs.PASSED, fs.LOST, fs.PENDING, fs.LOST)
    assert [fs.format_points(v) for v in (14.0, 1.5, 2.0 / 3.0, 0)] == ["14", "1.5", "0.67", "0"]
    assert fs.total_line(14.0, 20.0, 3.0) == "得分 / Score: 14 / 20 (另有 3 分待批改 / 3 more points pending)"
    assert fs.total_line(18.0, 18.0) == "得分 / Score: 18 / 18"
    assert fs.total_line(7, 10, 1, late_penalty=2) == (
        "得分 / Score: 7 / 10 (另有 1 分待批改 / 1 more point pending) (迟交扣 2 分 / late penalty: 2)")


def test_a_congratulation_only_when_nothing_was_lost():
    """Is there a one-line congratulation when every item passed (another when only manual grades are missing),
    and none when an item lost points?"""
    passed, lost, pending = ({"status": s} for s in (fs.PASSED, fs.LOST, fs.PENDING))
    assert "full marks" in fs.verdict([passed, passed])[1]
    assert fs.verdict([passed, passed, pending])[1].startswith("All 2 graded items passed")
    assert fs.verdict([passed, lost, pending]) is None
    assert fs.verdict([pending]) is None and fs.verdict([]) is None


def test_rows_follow_the_notebook_with_points_and_pending():
    """Is there one row per graded cell, in notebook order, with its points, status and message, and do pending
    points count apart, while a lost written answer graded with a comment points to the comment?"""
    cells = [graded_cell("code", "test_ReLU", score=1.0),
             nbformat.v4.new_code_cell("print('not graded')"),
             graded_cell("code", "test_softmax", points=2.0, score=0.0,
                         outputs=[error("AssertionError", CHECK_MESSAGE)]),
             graded_cell("markdown", "exercise_13", points=3.0, score=0.0, solution=True, pending=True),
             graded_cell("markdown", "exercise_14", points=4.0, score=1.0, solution=True,
                         comment="再想想 / think again")]
    rows = fs.summary_rows(cells)
    assert [(r["name"], r["score"], r["points"], r["status"]) for r in rows] == [
        ("ReLU", "1", "1", "passed"), ("softmax", "0", "2", "lost"), ("exercise_13", "0", "3", "pending"),
        ("exercise_14", "1", "4", "lost")]
    assert [r["anchor"] for r in rows] == ["test_ReLU", "test_softmax", "exercise_13", "exercise_14"]
    assert [r["code"] for r in rows] == [True, True, False, False]
    assert rows[1]["lines"] == list(fs.message_lines(CHECK_MESSAGE)) and rows[2]["lines"] == []
    assert rows[3]["lines"] == list(fs.SEE_COMMENT)
    assert [r["pending_points"] for r in rows] == [0, 0, 3.0, 0]


def hidden_test_notebook(evalue):
    """A test cell with a hidden region whose error output quotes ``evalue`` (as it was before StudentFeedback)."""
    hidden = "print(checks.check_ReLU(ReLU, globals(), hidden=True, seed=604251))"
    source = f"a = ReLU(z)\n### BEGIN HIDDEN TESTS\n{hidden}\n### END HIDDEN TESTS"
    cell = graded_cell("code", "test_ReLU", source=source, score=0.0, outputs=[error("AssertionError", evalue)])
    return nbformat.v4.new_notebook(cells=[cell]), hidden


def test_the_summary_cannot_show_a_hidden_test_line():
    """When a failed test's message quotes its hidden call (a student's code that reads IPython's history), does the
    summary, computed after StudentFeedback, say the message is withheld and show no hidden line?"""
    nb, hidden = hidden_test_notebook("")
    nb.cells[0].outputs[0].evalue = f"你的代码出错 / your code failed\n{hidden}"
    resources = {"nbgrader": {"score": 0.0, "max_score": 1.0, "late_penalty": 0}}
    nb, resources = StudentFeedback().preprocess(nb, resources)
    nb, resources = fs.FeedbackSummary().preprocess(nb, resources)
    text = json.dumps(resources["feedback_summary"], ensure_ascii=False)
    assert resources["feedback_summary"]["rows"][0]["lines"] == list(fs.MESSAGE_HIDDEN)
    assert "hidden=True" not in text and "seed=" not in text and "check_ReLU(" not in text


def test_the_summary_refuses_to_run_before_student_feedback():
    """Configured before StudentFeedback (a test cell still holds its hidden tests), does FeedbackSummary refuse
    and say where it belongs?"""
    nb, _ = hidden_test_notebook(CHECK_MESSAGE)
    with pytest.raises(fs.SummaryBeforeStudentFeedback, match="after StudentFeedback"):
        fs.FeedbackSummary().preprocess(nb, {"nbgrader": {}})


def test_the_template_ships_with_the_package():
    """Does the course configuration name template folders that exist, nbgrader's and ours, does ours hold the file
    it names, and does pyproject.toml's package data install every file of ours?"""
    exporter = load_config(ROOT).GenerateFeedback.HTMLExporter
    ours = pathlib.Path(exporter.extra_template_basedirs[-1])
    assert (pathlib.Path(exporter.extra_template_basedirs[0]) / "feedback" / "index.html.j2").is_file()
    assert (ours / exporter.template_name / exporter.template_file).is_file()
    assert ours.is_relative_to(ROOT / "autograder")        # this checkout's package (pip install -e .)
    package = ROOT / "autograder" / "grading"
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"]["autograder.grading"]
    files = [p.relative_to(package).as_posix() for p in (package / "templates").rglob("*") if p.is_file()]
    assert files and all(any(fnmatch.fnmatch(f, g) for g in globs) for f in files), files


def exporter():
    """The HTMLExporter GenerateFeedback makes with the course configuration (without a gradebook or a course)."""
    config = Config()
    config.HTMLExporter = load_config(ROOT).GenerateFeedback.HTMLExporter
    # nbgrader's GenerateFeedback adds Bootstrap's CSS folder, which its template inlines (converters/generate_feedback.py)
    config.HTMLExporter.extra_template_paths = [os.path.join(
        os.path.dirname(nbgrader.__file__), "server_extensions", "formgrader", "static", "node_modules", "bootstrap",
        "dist", "css")]
    return HTMLExporter(config=config)


def render(nb, summary=True):
    html_exporter = exporter()
    if summary:
        html_exporter.register_preprocessor(fs.FeedbackSummary(), enabled=True)
    resources = {"nbgrader": {"notebook": "nb", "score": 0.0, "max_score": 1.0, "late_penalty": 0}}
    return html_exporter.from_notebook_node(nb, resources=resources)[0]


def test_a_message_is_escaped_in_the_summary():
    """Is a message that holds HTML (a student's own exception text) shown as text, not as markup?"""
    message = "得到 <script>alert(1)</script> & <b>x</b> / got the wrong thing"
    text = render(nbformat.v4.new_notebook(cells=[
        graded_cell("code", "test_ReLU", score=0.0, outputs=[error("AssertionError", message)])]))
    page = FeedbackPage(text)
    assert page.rows()[0].lines == [message]
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_without_the_summary_the_page_is_nbgraders():
    """Without FeedbackSummary configured, does the course's template show nbgrader's own list instead of an empty
    summary, and does the course's template reach only the feedback (not the formgrader's HTMLExporter)?"""
    text = render(nbformat.v4.new_notebook(cells=[graded_cell("code", "test_ReLU", score=1.0)]), summary=False)
    assert 'id="summary"' not in text and "Test cell</a>" in text
    assert HTMLExporter(config=load_config(ROOT)).template_name != exporter().template_name == "reludrop_feedback"


# ====================================================================== a graded course

def hidden_lines():
    """The lines of notebook 01's hidden tests (its solutions) that the release does not have."""
    source = nbformat.read(ROOT / "solutions" / A / f"{A}.ipynb", as_version=4)
    release = nbformat.read(ROOT / "notebooks" / A / f"{A}.ipynb", as_version=4)
    shown = {line.strip() for cell in release.cells for line in cell.source.splitlines()}
    regions = [r for cell in source.cells for r in re.findall(r"BEGIN HIDDEN TESTS(.*?)END HIDDEN TESTS",
                                                              cell.source, re.S)]
    lines = {line.strip() for region in regions for line in region.splitlines()}
    return {line for line in lines if len(line) >= 12 and line not in shown and "###" not in line}


def submission(course, answers):
    """The release with every answer cell filled in: the reference answer unless ``answers`` says otherwise."""
    nb = samples.release_notebook(course, A, A)
    reference = samples.solution_answers(course, A, A)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            cell.source = answers.get(meta["grade_id"], reference[meta["grade_id"]])
        elif meta.get("solution") and cell.cell_type == "markdown":
            cell.source = samples.WRITTEN
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """Notebook 01 released in a scratch course, three students submitted, autograded once, the right student's
    written answer graded by hand (full marks, a comment), and everyone's feedback written."""
    ok, why = bubblewrap.available()
    if not ok:
        fail_or_skip(f"grading runs in the bubblewrap sandbox: {why}")
    root = samples.scratch_course(ROOT, tmp_path_factory.mktemp("feedback") / "course")
    course = Course(root)
    course.release(A)
    for student, answers in STUDENTS.items():
        nb = samples.release_notebook(course, A, A) if answers is None else submission(course, answers)
        folder = course.path("submitted", student, A)
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / f"{A}.ipynb")
    start = time.monotonic()
    graded, graded_output = run_cli("--course", str(root), "autograde", A)
    seconds = time.monotonic() - start
    with course.gradebook() as gb:
        written = [c.name for c in gb.find_notebook(A, A).grade_cells if c.cell_type == "markdown"]
        for name in written:
            grade = gb.find_grade(name, A, A, "all_right")
            grade.manual_score, grade.needs_manual_grade = grade.max_score, False
            gb.find_comment(name, A, A, "all_right").manual_comment = GRADER_COMMENT
        gb.db.commit()
        max_scores = {c.name: c.max_score for c in gb.find_notebook(A, A).grade_cells}
        scores = {s: {g.name: g.score for g in gb.find_submission_notebook(A, A, s).grades} for s in STUDENTS}
    start = time.monotonic()
    fed, feedback_output = run_cli("--course", str(root), "feedback", A)
    print(f"\n[feedback summary] autograde of {len(STUDENTS)} students: {seconds:.1f} s; "
          f"feedback: {time.monotonic() - start:.1f} s")
    assert graded in (0, 1), graded_output
    assert fed == 0, feedback_output
    pages = {s: course.path("feedback", s, A, A, ".html") for s in STUDENTS}
    return types.SimpleNamespace(root=root, course=course, pages=pages, written=written, max_scores=max_scores,
                                 scores=scores, html={s: p.read_text(encoding="utf-8") for s, p in pages.items()})


class Element:
    """An element of the summary: tag, attributes, children, and its text (its descendants' too)."""

    def __init__(self, tag, attrs):
        self.tag, self.attrs, self.children, self.parts = tag, attrs, [], []

    @property
    def text(self):
        return re.sub(r"\s+", " ", "".join(self.parts)).strip()

    def classes(self):
        return (self.attrs.get("class") or "").split()

    def descendants(self):
        for child in self.children:
            yield child
            yield from child.descendants()

    def find(self, cls):
        """The descendants that have class ``cls``, in document order."""
        return [e for e in self.descendants() if cls in e.classes()]

    def tags(self, tag):
        return [e for e in self.descendants() if e.tag == tag]


class FeedbackPage(HTMLParser):
    """A feedback page: its summary (the element with id="summary") as a tree of Elements, the position of the
    summary and of the first notebook cell, and every ``<a name>`` anchor of the page."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.summary, self.summary_at, self.first_cell_at, self.anchors, self._open = None, None, None, set(), []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("name"):
            self.anchors.add(attrs["name"])
        classes = (attrs.get("class") or "").split()
        if self.first_cell_at is None and tag == "div" and "cell" in classes and "border-box-sizing" in classes:
            self.first_cell_at = self.getpos()
        if attrs.get("id") == "summary" and self.summary is None:
            self.summary, self.summary_at = Element(tag, attrs), self.getpos()
            self._open = [self.summary]
        elif self._open and tag not in self.VOID:
            element = Element(tag, attrs)
            self._open[-1].children.append(element)
            self._open.append(element)

    def handle_endtag(self, tag):
        if self._open and tag not in self.VOID:
            while self._open and self._open.pop().tag != tag:
                pass

    def handle_data(self, data):
        for element in self._open:
            element.parts.append(data)

    def rows(self):
        """Each row of the summary's table: grade id, link, item, points, status, message lines, CSS classes."""
        return [types.SimpleNamespace(
            grade_id=row.attrs.get("data-grade-id"), classes=row.classes(),
            link=[a.attrs.get("href") for a in row.tags("a")],
            item=row.find("rd-item")[0].text, points=row.find("rd-points")[0].text,
            status=row.find("rd-status")[0].text, lines=[p.text for p in row.find("rd-message")])
            for row in self.summary.find("rd-row")]

    def one(self, cls):
        found = self.summary.find(cls)
        return found[0].text if found else None


def expected_items(course):
    """The graded items of notebook 01 in order, named as the summary should: function names for tests, the last
    heading above it for a written answer (read here with a plain regex)."""
    release = nbformat.read(course.root / "notebooks" / A / f"{A}.ipynb", as_version=4)
    items, heading = [], None
    for cell in release.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and cell.cell_type == "code":
            items.append((meta["grade_id"], meta["grade_id"].removeprefix("test_")))
        elif meta.get("grade"):
            items.append((meta["grade_id"], heading))
        elif cell.cell_type == "markdown":
            heading = (re.findall(r"^#+\s*(.+?)\s*$", cell.source, re.M) or [heading])[-1]
    return items


def points(score, max_score):
    return f"{score:g} / {max_score:g}"


def test_the_summary_comes_first_instead_of_nbgraders_list(course):
    """Does every student's feedback open with the summary, before the first cell, and without nbgrader's generic
    list ("Test cell (Score: ...)", "Written response")?"""
    for student, text in course.html.items():
        page = FeedbackPage(text)
        assert page.summary is not None, student
        assert page.summary_at < page.first_cell_at, student
        assert "Test cell</a>" not in text and "Written response</a>" not in text and 'id="toc"' not in text
        assert page.one("rd-total").startswith("得分 / Score: ")


def test_each_graded_item_has_its_row_with_its_points(course):
    """Is there one row per graded item, in notebook order, named as the student knows it, with its points from the
    gradebook, its status, and a link to its cell's anchor?"""
    items = expected_items(course)
    for student, text in course.html.items():
        page = FeedbackPage(text)
        rows = page.rows()
        assert [(r.grade_id, r.item) for r in rows] == items, student
        for row in rows:
            assert row.link == [f"#{row.grade_id}"] and row.grade_id in page.anchors, (student, row)
            if "rd-pending" not in row.classes:
                assert row.points == points(course.scores[student][row.grade_id], course.max_scores[row.grade_id])


def test_the_wrong_function_shows_the_checks_chinese_and_english_message(course):
    """Is ReLU the only lost item of the student whose ReLU returns z, and does its row show the first two lines of
    the check's message (Chinese, then English) exactly as the test cell raised it?"""
    rows = {r.item: r for r in FeedbackPage(course.html["wrong_relu"]).rows()}
    lost = [name for name, r in rows.items() if "rd-lost" in r.classes]
    assert lost == ["ReLU"]
    assert rows["ReLU"].status == "未通过 / lost" and rows["ReLU"].points == "0 / 1"
    nb = nbformat.read(course.course.path("autograded", "wrong_relu", A, A), as_version=4)
    test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_ReLU")
    evalue = next(o.evalue for o in test.outputs if o.output_type == "error")
    zh, en = [line.strip() for line in evalue.splitlines()[:2]]
    assert rows["ReLU"].lines == [zh, en]
    assert zh.startswith("ReLU（") and "未通过" in zh and en.startswith("ReLU (") and "failed" in en
    assert all(r.lines == [] for name, r in rows.items() if name != "ReLU")


def test_a_written_answer_nobody_graded_is_pending_not_zero(course):
    """Is the ungraded written answer pending (grey, "– / 3"), counted apart in the total, and does its own cell
    heading say pending instead of "Score: 0.0 / 3.0"?"""
    page = FeedbackPage(course.html["wrong_relu"])
    pending = [r for r in page.rows() if "rd-pending" in r.classes]
    assert [r.grade_id for r in pending] == course.written
    points_pending = sum(course.max_scores[name] for name in course.written)
    for row in pending:
        assert row.status == "待批改 / pending" and row.points == f"– / {course.max_scores[row.grade_id]:g}"
    score = sum(course.scores["wrong_relu"].values())
    assert page.one("rd-total") == fs.total_line(score, sum(course.max_scores.values()), points_pending)
    assert f"另有 {points_pending:g} 分待批改 / {points_pending:g} more points pending" in page.one("rd-total")
    assert page.one("rd-verdict") is None
    headings = re.findall(r'rd-pending-score">([^<]*)', course.html["wrong_relu"])
    assert [h.strip() for h in headings] == [f"待批改 / pending: – / {course.max_scores[n]:g}"
                                             for n in course.written]


def test_a_blank_notebook_says_not_answered(course):
    """Does every item of the blank release lose its points with "not answered", in Chinese and English?"""
    page = FeedbackPage(course.html["blank"])
    rows = page.rows()
    assert rows and all("rd-lost" in r.classes and r.lines == list(fs.NOT_ANSWERED) for r in rows)
    assert page.one("rd-total") == f"得分 / Score: 0 / {sum(course.max_scores.values()):g}"


def test_everything_right_gets_a_one_line_congratulation(course):
    """Once the right student's written answer is graded, is every row passed and is there one congratulation?"""
    page = FeedbackPage(course.html["all_right"])
    assert all("rd-passed" in r.classes and r.status == "通过 / passed" for r in page.rows())
    assert page.one("rd-verdict") == " / ".join(fs.verdict([{"status": fs.PASSED}]))
    total = sum(course.max_scores.values())
    assert page.one("rd-total") == f"得分 / Score: {total:g} / {total:g}"
    assert GRADER_COMMENT in course.html["all_right"]


def test_no_hidden_test_anywhere_in_the_feedback(course):
    """Does no feedback page, summary included, show a line of the hidden tests, ``hidden=True``, a hidden seed or a
    traceback?"""
    lines = hidden_lines()
    seeds = {s for line in lines for s in re.findall(r"seed=\d+", line)}
    assert lines and seeds
    for student, text in course.html.items():
        summary = FeedbackPage(text).summary.text
        assert "seed=" not in summary and "hidden=True" not in summary, student
        for shown in (text, html.unescape(text)):
            assert "hidden=True" not in shown and "BEGIN HIDDEN TESTS" not in shown, student
            assert not [line for line in lines if line in shown], student
            assert not [seed for seed in seeds if seed in shown], student
        assert "most recent call last" not in text, student


# ====================================================================== in a browser

def test_the_summary_is_the_first_thing_on_screen(course, tmp_path, capsys):
    """Opened in headless Chromium, is the summary within the first screen, with all its rows and Chinese text that
    takes up room, and is the screenshot of that screen a real picture?"""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        fail_or_skip("Playwright is not installed (pip install playwright; it drives Debian's chromium)")
    if find_chromium() is None:
        fail_or_skip("Chromium is not installed (apt-get install chromium)")
    browser = Browser(find_chromium(), fresh_profile_dir(tmp_path)).start()
    shot = tmp_path / "wrong_relu-feedback.png"
    try:
        page = browser.page
        page.goto(course.pages["wrong_relu"].as_uri())
        page.wait_for_selector("#summary")
        box = page.locator("#summary").bounding_box()
        rows = page.locator("#summary tr.rd-row")
        assert box["y"] < VIEWPORT["height"] and box["height"] > 0
        assert rows.count() == len(expected_items(course))
        first_rows = rows.first.bounding_box()
        assert first_rows["y"] + first_rows["height"] < VIEWPORT["height"]
        for text in ("未通过 / lost", "待批改 / pending", "得分 / Score"):
            element = page.get_by_text(text, exact=False).first
            assert element.is_visible() and element.bounding_box()["width"] > 0, text
        lost = page.locator("#summary tr.rd-lost p.rd-message").first
        assert lost.bounding_box()["width"] > 0 and lost.text_content().startswith("ReLU（")
        colours = page.evaluate("""() => ['rd-passed', 'rd-lost', 'rd-pending'].map(c =>
            getComputedStyle(document.querySelector(`tr.${c} .rd-badge`)).color)""")
        assert len(set(colours)) == 3, colours
        page.screenshot(path=str(shot))
    finally:
        browser.stop()
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (VIEWPORT["width"], VIEWPORT["height"])
    with capsys.disabled():
        print(f"\n[feedback summary] screenshot of the first screen: {shot}")
        if not cjk_font_available():
            print("[feedback summary] no Chinese font installed (apt-get install fonts-wqy-microhei): "
                  "the screenshot shows boxes for Chinese characters")
