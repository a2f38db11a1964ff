"""The instructor pipeline, end to end through nbgrader 0.9.6: can an instructor trust every number?

One class of fault submissions (``tests/pipeline_fixtures``: an infinite loop, a loop that catches
KeyboardInterrupt, ``os._exit``, a memory blow-up, deleted, edited, duplicated and retyped cells, a
missing notebook, extra files, a file that is not JSON, rebinding numpy or the checks, a silenced
traceback, stderr output, and correct students, one with a non-ASCII name) is graded once, in one
batch, by the command an instructor runs (``python -m autograder autograde``) in a scratch copy of the
course. Every test below reads that graded course: the gradebook, the report, the feedback, grades.csv.
"""

import contextlib
import csv
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import types

import nbformat
import pytest

sys.path.insert(0, os.path.dirname(__file__))

import pipeline_fixtures as faults  # noqa: E402

from autograder import demonstrations, events  # noqa: E402
from cli_run import run_cli  # noqa: E402
from autograder.batch import samples  # noqa: E402
from autograder.grading import report as reporting  # noqa: E402
from autograder.grading import scan  # noqa: E402
from autograder.grading.course import Course  # noqa: E402
from autograder.grading.preprocessors import ScoreErrorsOnly, StudentFeedback  # noqa: E402
from nbgrader import utils as nbgrader_utils  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = pathlib.Path(sys.executable).parent
A = faults.ASSIGNMENT
TIMEOUT = 15          # seconds per cell in this batch; the slowest reference cell takes about 2 s
CLEAN = [s for s, case in faults.CASES.items() if not case.attention]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A scratch course with notebook 01 released, every fault case submitted, autograded, with feedback and grades.csv."""
    root = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    shutil.copytree(ROOT / "solutions" / A, root / "solutions" / A, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    course = Course(root)
    course.release(A)
    for student, case in faults.CASES.items():
        faults.write(course, student, case)
    status, output = run_cli("--course", str(root), "--timeout", str(TIMEOUT), "autograde", A,
                             "--json", str(root / "reports.json"))
    feedback_status, feedback_output = run_cli("--course", str(root), "feedback", A)
    export_status, _ = run_cli("--course", str(root), "export", "--to", str(root / "grades.csv"))
    reports = {r["student"]: r for r in json.loads((root / "reports.json").read_text(encoding="utf-8"))}
    return types.SimpleNamespace(root=root, course=course, status=status, output=output, reports=reports,
                                 feedback_status=feedback_status, feedback_output=feedback_output,
                                 export_status=export_status)


def cells(report):
    """Autograded cell -> (score, max score, reason) of a report (JSON form)."""
    return {c["cell"]: (c["score"], c["max_score"], c["reason"])
            for nb in report["notebooks"] for c in nb["cells"] if not c["manual"]}


def kinds(report):
    return {e["kind"] for e in report["events"]} | {e["kind"] for nb in report["notebooks"] for e in nb["events"]}


def autograded_notebook(graded, student):
    return nbformat.read(graded.course.path("autograded", student, A, A), as_version=4)


def grade_ids(nb):
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]


# ---------------------------------------------------------------------- scores

def test_the_fixtures_match_the_notebook(graded):
    """Does notebook 01 have the autograded cells and points the fault cases assume?"""
    with graded.course.gradebook() as gb:
        notebook = gb.find_notebook(A, A)
        assert {c.name: c.max_score for c in notebook.grade_cells if c.cell_type == "code"} == faults.POINTS


@pytest.mark.parametrize("student", list(faults.CASES))
def test_each_submission_gets_exactly_the_score_it_deserves(graded, student):
    """Does every fault cost exactly the cells it broke (0), and every other autograded cell keep full marks?"""
    case, got = faults.CASES[student], cells(graded.reports[student])
    assert set(got) == set(faults.POINTS), f"{student}: graded cells {sorted(got)}"
    zero = {cell for cell, (score, _, _) in got.items() if score == 0}
    full = {cell for cell, (score, max_score, _) in got.items() if score == max_score}
    assert zero == case.zero, f"{student} ({case.what}): scored 0 on {sorted(zero)}, expected {sorted(case.zero)}"
    assert full == set(faults.POINTS) - case.zero, f"{student}: partial marks on {sorted(set(got) - zero - full)}"
    assert sum(score for score, _, _ in got.values()) == case.score


@pytest.mark.parametrize("student", list(faults.CASES))
def test_the_report_and_the_summary_name_each_case(graded, student):
    """Does the report carry the events of each case, and does the printed summary name what needs attention?"""
    case, report = faults.CASES[student], graded.reports[student]
    assert case.attention | case.notes <= kinds(report), f"{student}: events {sorted(kinds(report))}"
    attention = {a["kind"] for a in report["attention"]}
    assert attention == case.attention, f"{student}: needs attention for {sorted(attention)}"
    section = graded.output.split("NEEDS ATTENTION")[-1]
    for kind in case.attention:
        assert re.search(rf"^  {re.escape(student)}  .*\[{kind}\]", section, re.M), f"summary misses {student} [{kind}]"
    if not case.attention:
        assert not re.search(rf"^  {re.escape(student)}  ", section, re.M), f"{student} is flagged but should not be"


def test_every_student_is_recorded_and_the_batch_finishes(graded):
    """Is every student in the gradebook with a score for every cell, whatever their submission did?"""
    with graded.course.gradebook() as gb:
        for student in faults.CASES:
            submission = gb.find_submission_notebook(A, A, student)
            autograded = [g for g in submission.grades if g.cell_type == "code"]
            assert len(autograded) == len(faults.POINTS)
            assert all(g.auto_score is not None for g in autograded), student
            assert submission.score == pytest.approx(faults.CASES[student].score + sum(
                g.score for g in submission.grades if g.cell_type != "code"))


def test_exit_status_and_summary_say_what_needs_attention(graded):
    """Does the batch exit 1 and list exactly the students that need attention, with the table first?"""
    assert graded.status == 1
    assert graded.output.index("student") < graded.output.index("NEEDS ATTENTION")
    flagged = re.search(r"NEEDS ATTENTION / 需要处理: \d+ item\(s\), \d+ student\(s\): (.*)", graded.output).group(1)
    assert set(flagged.split(", ")) == {s for s, case in faults.CASES.items() if case.attention}
    for student in faults.CASES:
        assert re.search(rf"^{re.escape(student)}\s+\d+/18", graded.output, re.M), f"no table row for {student}"


def test_a_clean_selection_exits_zero(graded):
    """Does the report exit 0 when none of the students shown needs attention (notes such as stderr do not count)?"""
    args = [arg for student in CLEAN for arg in ("--student", student)]
    status, output = run_cli("--course", str(graded.root), "report", A, *args)
    assert status == 0, output
    assert "nothing needs attention" in output
    assert "[stderr]" in output and "[extra-files]" in output


def test_a_step_that_fails_exits_two(graded):
    """Does grading an assignment that was never released exit 2 with a message, not 0 or a traceback?"""
    status, output = run_cli("--course", str(graded.root), "autograde", "99_not_released")
    assert status == 2
    assert "99_not_released is not in the gradebook" in output


# ---------------------------------------------------------------------- the faults, one by one

def test_a_loop_is_interrupted_and_the_rest_is_graded(graded):
    """Is an infinite loop stopped after the cell timeout, its cell marked, and the later cells still run?"""
    report = graded.reports["infinite_loop"]
    assert report["seconds"] < 4 * TIMEOUT
    assert "NameError" in cells(report)["test_train"][2]
    nb = autograded_notebook(graded, "infinite_loop")
    train = nb.cells[grade_ids(nb).index("train")]
    assert any(o.output_type == "error" and o.ename == "CellTimeoutError" for o in train.outputs)


def test_a_kernel_that_ignores_interrupts_is_killed(graded):
    """Is a loop that catches KeyboardInterrupt stopped (kernel killed), graded as far as it got, in bounded time?"""
    report = graded.reports["catches_interrupt"]
    assert report["seconds"] < 4 * TIMEOUT
    for cell in faults.AFTER_COST_FCN:
        assert cells(report)[cell][2].startswith("NotRunError")


def test_a_dead_kernel_is_graded_as_far_as_it_got(graded):
    """After os._exit(1), are the earlier tests kept, the later ones 0 with a reason, and the exit status named?"""
    report = graded.reports["os_exit"]
    assert {cell for cell, (score, _, _) in cells(report).items() if score} == {
        "test_ReLU", "test_ReLU_gradient", "test_sigmoid", "test_sigmoid_gradient"}
    died = [e for nb in report["notebooks"] for e in nb["events"] if e["kind"] == "kernel-died"]
    assert "exited with status 1" in died[0]["detail"]


def test_a_memory_blow_up_is_bounded(graded):
    """Does a runaway allocation hit the kernel's memory limit (MemoryError) instead of the machine?"""
    reason = cells(graded.reports["memory_hog"])["test_train"][2]
    assert reason.startswith("MemoryError")


def test_deleted_cells_come_back_where_they_were(graded):
    """Are a deleted imports cell and deleted tests restored at their place in the source notebook, and run?"""
    nb = autograded_notebook(graded, "deleted_cells")
    ids = grade_ids(nb)
    loads = next(i for i, c in enumerate(nb.cells) if "load_digits()" in c.source and ids[i] is None)
    assert ids.index("imports") < loads
    assert ids.index("test_sigmoid") == ids.index("sigmoid") + 1
    assert ids.index("test_backprop") < ids.index("test_train") < ids.index("exercise_13")
    assert "train" not in ids                      # the student's own answer cell is not invented
    test_sigmoid = nb.cells[ids.index("test_sigmoid")]
    assert "✓ sigmoid: all" in "".join(o.get("text", "") for o in test_sigmoid.outputs)


def test_an_edited_test_cell_is_tampering_but_hidden_tests_are_routine(graded):
    """Is only the really edited cell reported, although nbgrader's checksum differs for every test cell?"""
    edited = [e for nb in graded.reports["edited_test"]["notebooks"] for e in nb["events"]
              if e["kind"] == "edited-locked-cell"]
    assert [e["cell"] for e in edited] == ["test_train"]
    for student in ("correct", "writes_stderr", "rebinds_check"):
        assert "edited-locked-cell" not in kinds(graded.reports[student])


def test_a_duplicated_test_is_graded_once(graded):
    """Does a duplicated test count once (max score unchanged) and its edited copy not help?"""
    with graded.course.gradebook() as gb:
        assert gb.find_submission_notebook(A, A, "duplicated_test").max_score == \
            gb.find_submission_notebook(A, A, "correct").max_score


def test_the_guard_restores_the_environment_for_later_tests(graded):
    """After a student rebinds numpy or the name `checks`, do later tests run against the real grader again?"""
    numpy_case = cells(graded.reports["rebinds_numpy"])
    assert numpy_case["test_ReLU"][2].startswith("TamperingError") and "numpy.array_equal" in numpy_case["test_ReLU"][2]
    names_case = cells(graded.reports["rebinds_checks_name"])
    assert names_case["test_ReLU"][2].startswith("TamperingError")
    assert "ratio" in names_case["test_train"][2]     # the real check_train ran, and failed the wrong train


def test_extra_files_are_never_imported(graded):
    """Do a student's matplotlib.py and autograder.py (which raise on import) stay unused, and get listed?"""
    report = graded.reports["extra_files"]
    listed = next(e["detail"] for e in report["events"] if e["kind"] == "extra-files")
    for name in ("matplotlib.py", "autograder.py", "笔记.txt", "data/权重.npy"):
        assert name in listed


def test_no_kernel_outlives_the_batch(graded):
    """Is every kernel started for the batch stopped (no process left working in the course folder)?"""
    leftovers = []
    for proc in pathlib.Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                if str(graded.root) in os.readlink(proc / "cwd"):
                    leftovers.append(proc.name)
    assert leftovers == []


# ---------------------------------------------------------------------- feedback and grades.csv

def hidden_seeds():
    """The seeds written in the hidden tests of notebook 01 (never shown to students)."""
    nb = nbformat.read(ROOT / "solutions" / A / f"{A}.ipynb", as_version=4)
    regions = [r for cell in nb.cells for r in re.findall(r"BEGIN HIDDEN TESTS(.*?)END HIDDEN TESTS", cell.source, re.S)]
    return {seed for region in regions for seed in re.findall(r"seed=(\d+)", region)}


def test_feedback_shows_each_failure_message_but_no_hidden_test(graded):
    """Does the feedback tell the student why a test failed, without the hidden call, its seed or a traceback?"""
    assert graded.feedback_status == 0
    html = graded.course.path("feedback", "edited_test", A, A, ".html").read_text(encoding="utf-8")
    assert "does not pass ratio" in html                # the check's message for the wrong train
    assert "AssertionError" in html
    assert "most recent call last" not in html          # its only error is a test's: no traceback
    seeds = hidden_seeds()
    assert seeds
    for path in (graded.root / "feedback").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert "BEGIN HIDDEN TESTS" not in text and "hidden=True" not in text, path
        assert not any(f"seed={seed}" in text for seed in seeds), path


def test_feedback_shows_each_demonstration_cell_as_not_run(graded):
    """Does a student's feedback show each demonstration cell (demo-only in the source) as the one line that says
    it was not run during grading, and none of its output?"""
    source = nbformat.read(ROOT / "solutions" / A / f"{A}.ipynb", as_version=4)
    demos = demonstrations.demonstration_ids(source)
    assert len(demos) >= 5
    student = "correct"
    nb = nbformat.read(graded.course.path("autograded", student, A, A), as_version=4)
    shown = {cell.metadata.nbgrader["grade_id"]: cell.outputs for cell in nb.cells
             if cell.metadata.get("nbgrader", {}).get("grade_id") in demos}
    assert set(shown) == demos
    assert all([o.get("text") for o in outputs] == [demonstrations.NOT_RUN] for outputs in shown.values()), shown
    html = graded.course.path("feedback", student, A, A, ".html").read_text(encoding="utf-8")
    assert html.count("Demonstration only: not run during grading") == len(demos)


def test_feedback_for_every_graded_student_and_only_them(graded):
    """Is there one feedback file per autograded notebook, and none for a missing or unreadable notebook?"""
    with_feedback = {p.parent.parent.name for p in (graded.root / "feedback").rglob("*.html")}
    assert with_feedback == set(faults.CASES) - {"missing_notebook", "not_json"}


def test_grades_csv_is_utf8_with_every_student(graded):
    """Does grades.csv list every student (Chinese names in UTF-8) with the gradebook's scores?"""
    assert graded.export_status == 0
    with open(graded.root / "grades.csv", encoding="utf-8", newline="") as fh:
        rows = {row["student_id"]: row for row in csv.DictReader(fh)}
    assert set(rows) == set(faults.CASES)
    assert float(rows["李雷"]["raw_score"]) == faults.CASES["李雷"].score
    assert float(rows["not_json"]["score"]) == 0.0
    assert float(rows["missing_notebook"]["max_score"]) == 18.0


def test_plain_nbgrader_commands_use_the_course_configuration(graded):
    """Do `nbgrader autograde`, `generate_feedback` and `export`, run from the course folder, grade the same way?"""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")

    def nbgrader(*args):
        return subprocess.run([str(BIN / "nbgrader"), *args], cwd=graded.root, env=env, capture_output=True,
                              text=True, timeout=300)

    before = cells(graded.reports["writes_stderr"])
    run = nbgrader("autograde", A, "--student", "writes_stderr", "--force")
    assert run.returncode == 0, run.stderr
    # nbgrader's routine message for every test cell with hidden tests; not reported as tampering
    assert "Attribute 'checksum' for cell test_ReLU has changed" in run.stderr
    again = cells(reporting.build(graded.course, A, "writes_stderr").to_dict())
    assert again == before
    assert "edited-locked-cell" not in {e["kind"] for e in events.read(autograded_notebook(graded, "writes_stderr"))}
    assert nbgrader("generate_feedback", A, "--student", "writes_stderr", "--force").returncode == 0
    html = graded.course.path("feedback", "writes_stderr", A, A, ".html").read_text(encoding="utf-8")
    assert "BEGIN HIDDEN TESTS" not in html
    export = nbgrader("export", "--to", "plain.csv")
    assert export.returncode == 0, export.stderr
    assert (graded.root / "plain.csv").read_text(encoding="utf-8") == (graded.root / "grades.csv").read_text(
        encoding="utf-8")


# ---------------------------------------------------------------------- the parts, without a kernel

def _test_cell(outputs):
    cell = nbformat.v4.new_code_cell("print(checks.check_ReLU(ReLU))")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "grade_id": "test_ReLU",
                                 "points": 1, "schema_version": 3}
    cell.outputs = [nbformat.from_dict(o) for o in outputs]
    return cell


def test_stderr_output_does_not_cost_points():
    """Does a test cell whose answer warns keep its points here, where nbgrader alone would give 0?"""
    warning = {"output_type": "stream", "name": "stderr", "text": "RuntimeWarning: invalid value encountered in divide\n"}
    passed = {"output_type": "stream", "name": "stdout", "text": "✓ ReLU passed\n"}
    cell = _test_cell([warning, passed])
    assert nbgrader_utils.determine_grade(cell)[0] == 0           # nbgrader's default
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb, _ = ScoreErrorsOnly().preprocess(nb, {})
    assert nbgrader_utils.determine_grade(nb.cells[0])[0] == 1
    assert "RuntimeWarning" in nb.cells[0].outputs[0].text             # still shown to the student
    assert [e["kind"] for e in events.read(nb)] == ["stderr"]


def test_an_error_still_costs_the_points():
    """Does a test cell that raises still score 0, and a displayed number not count as partial credit?"""
    error = {"output_type": "error", "ename": "AssertionError", "evalue": "wrong", "traceback": []}
    shown = {"output_type": "execute_result", "execution_count": 1, "data": {"text/plain": "0.5"}, "metadata": {}}
    nb = nbformat.v4.new_notebook(cells=[_test_cell([error]), _test_cell([shown])])
    nb, _ = ScoreErrorsOnly().preprocess(nb, {})
    assert nbgrader_utils.determine_grade(nb.cells[0])[0] == 0
    assert nbgrader_utils.determine_grade(nb.cells[1])[0] == 1


def test_feedback_keeps_the_message_and_drops_the_traceback():
    """Does StudentFeedback leave `ename: evalue` and remove the hidden region and the traceback?"""
    error = {"output_type": "error", "ename": "AssertionError", "evalue": "负数应变为 0 / negatives become 0",
             "traceback": ["Traceback (most recent call last)", "checks.check_ReLU(ReLU, globals(), hidden=True, seed=1)"]}
    cell = _test_cell([error])
    cell.source = "a = ReLU(z)\n### BEGIN HIDDEN TESTS\nprint(checks.check_ReLU(ReLU, globals(), hidden=True, seed=1))\n" \
                  "### END HIDDEN TESTS"
    nb, _ = StudentFeedback().preprocess(nbformat.v4.new_notebook(cells=[cell]), {})
    assert nb.cells[0].source == "a = ReLU(z)"
    assert nb.cells[0].outputs[0].traceback == ["AssertionError: 负数应变为 0 / negatives become 0"]


@pytest.mark.parametrize("source", [
    "def ReLU(z):\n    return np.maximum(z, 0.0)",
    "%timeit ReLU(np.ones((5, 5)))\nnp.random.seed(0)",
    "import numpy as np\nfrom autograder import checks\nprint(checks.check_ReLU(ReLU, globals()))",
    "def broken(:\n",
])
def test_honest_code_is_not_suspicious(source):
    """Does the scan leave plain answers, magics, re-imports and syntax errors alone?"""
    assert scan.scan(source) == []


@pytest.mark.parametrize("source, finding", [
    ("np.allclose = lambda *a, **k: True", "assigns np.allclose"),
    ("checks.check_ReLU = print", "assigns checks.check_ReLU"),
    ("checks = None", "rebinds checks"),
    ("np = object()", "rebinds np"),
    ("get_ipython().showtraceback = lambda *a: None", "assigns get_ipython().showtraceback"),
    ("import sys\nsys.modules['numpy'] = None", "assigns sys.modules['numpy']"),
    ("while True:\n    try:\n        pass\n    except KeyboardInterrupt:\n        pass", "catches KeyboardInterrupt"),
    ("import os\nos._exit(1)", "uses ._exit"),
    ("!rm -rf data", "shell command: !rm -rf data"),
    ("setattr(np, 'isclose', max)", "calls setattr()"),
])
def test_tampering_code_is_found(source, finding):
    """Does the scan name each construct that reaches into the grading environment?"""
    assert finding in scan.scan(source)


def test_the_sample_class_is_built_from_the_course(tmp_path):
    """Are the demo's sample submissions made from the release, with the intended mistakes and broken files?"""
    samples.scratch_course(ROOT, tmp_path)
    course = Course(tmp_path)
    for assignment in course.source_assignments():
        course.release(assignment)
    placed = samples.place(course)
    assert set(placed) == set(samples.STUDENTS)
    folder = course.path("submitted", "chen_jing", A)
    with pytest.raises(Exception):
        nbformat.read(folder / f"{A}.ipynb", as_version=4)
    assert (course.path("submitted", "chen_jing", "02_softmax_comparison") / "02_softmax_comparison-副本.ipynb").exists()
    li_na = nbformat.read(course.path("submitted", "li_na", A, A), as_version=4)
    softmax = next(c for c in li_na.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "softmax")
    assert "d = np.exp(z)" in softmax.source
    blank = nbformat.read(course.path("submitted", "blank", A, A), as_version=4)
    assert blank == nbformat.read(tmp_path / "notebooks" / A / f"{A}.ipynb", as_version=4)


def test_the_demo_never_empties_a_folder_it_did_not_make(tmp_path):
    """Does `demo --dir` refuse a non-empty folder that is not a previous demo course (it would be deleted)?"""
    (tmp_path / "thesis.tex").write_text("irreplaceable", encoding="utf-8")
    status, output = run_cli("--course", str(ROOT), "demo", "--dir", str(tmp_path))
    assert status == 2 and "not empty" in output
    assert (tmp_path / "thesis.tex").read_text(encoding="utf-8") == "irreplaceable"
