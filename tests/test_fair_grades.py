"""Fair grades through the real test cells: what nbgrader records is what the check decides, function by function.

A student's score is what nbgrader records from the whole test cell, so every variant of the catalogue
(``autograder/variants``, correct and buggy) is placed in its notebook's answer cell, with the reference answers
everywhere else, and the whole class is graded once through the course's own pipeline (``python -m autograder
autograde --all --jobs 2``: the course configuration, the sandbox on). Then, cell by cell:

* **one judge**: a test cell scores full marks exactly when its check, called as the cell calls it (options
  and hidden seed read from the source notebook), passes on the variant by itself;
* every correct variant earns full marks on every cell; a buggy one loses exactly its own function's points
  and nothing else; a buggy function with a correct one downstream (which calls it) loses only its own;
* the check's message is the first line a student reads, and a mistake the visible cases cannot show is
  reported by the hidden test with the case that shows it;
* the cases the fair-grading issue found, by name: the handout's bool ``ReLU_gradient``, a textbook sigmoid
  that warns, an ``np.matrix`` network, a Dropout with its own Generator, the handout's cost formula, and a
  ``train`` that passes ``backprop`` the wrong ``index``.

Grading runs in the bubblewrap sandbox (the course default); without bubblewrap these tests fail.
"""

import inspect
import os
import re
import sys
import types

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from autograder import variants  # noqa: E402
from autograder.variants import base, handout  # noqa: E402

from autograder import checks  # noqa: E402
from autograder.batch import samples  # noqa: E402
from autograder.grading.course import Course  # noqa: E402
from autograder.sandbox import bubblewrap  # noqa: E402
from class_harness import (  # noqa: E402
    ASSIGNMENTS, ROOT, autograded, catalogue_class, catalogue_for, check_calls, defined_names, filled,
    function_source, grade, grade_id, meta, scores, source_notebook, submit, variant_source)

CATALOGUE = variants.load()
CALLS = {a: check_calls(source_notebook(a)) for a in ASSIGNMENTS}
HAND_SIGMOID = "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n"
OWN_RNG_DROPOUT = ("def Dropout(size, ratio):\n"
                   "    rng = np.random.default_rng()\n"
                   "    num = int(np.round(size * (1 - ratio)))\n"
                   "    ym = np.zeros(size)\n"
                   "    ym[rng.permutation(size)[:num]] = size / num\n"
                   "    return ym\n")


def verdict(variant, assignment):
    """(visible, hidden): does the variant pass its check, called as its notebook's test cell calls it?"""
    name, options, seed = CALLS[assignment][f"test_{variant.fn.__name__}"]
    check = getattr(checks, name)
    out = []
    for flavour in ({}, {"hidden": True, "seed": seed}):
        ns, fn = variant.notebook()
        try:
            check(fn, ns, **options, **flavour)
            out.append(True)
        except AssertionError:
            out.append(False)
    return tuple(out)


def issue_cases(course):
    """The students of the issue's examples: {student: (assignment, what they wrote, the test cells they lose)}."""
    by_fn = {v.fn: v for v in CATALOGUE}
    nb01 = defined_names(source_notebook("01_relu_network", course.root))
    wrong_index = samples.solution_answers(course, "01_relu_network", "01_relu_network")["train"]
    assert "size[:-1]" in wrong_index
    wrong_index = wrong_index.replace("size[:-1]", "size[:1]")
    matrix_style = {"forward_propagate": function_source(handout.forward_propagate),
                    "backprop": function_source(base.unpack) + "\n\n" + function_source(base.backprop),
                    "train": function_source(base.train)}
    return {
        "i_bool_gradient": ("01_relu_network", {"ReLU_gradient": "def ReLU_gradient(z):\n    return z > 0\n"}, set()),
        "i_textbook_sigmoid": ("01_relu_network", {"sigmoid": HAND_SIGMOID}, set()),
        "i_matrix_network": ("01_relu_network", matrix_style, set()),
        "i_own_rng_dropout": ("03_sigmoid_dropout", {"Dropout": OWN_RNG_DROPOUT}, set()),
        "i_handout_cost": ("01_relu_network", {"cost_fcn": variant_source(by_fn[handout.cost_fcn], nb01)},
                           {"test_cost_fcn"}),
        "i_wrong_index": ("01_relu_network", {"train": wrong_index}, {"test_train"}),
        # ReLU6 (Keras's relu6) for ReLU: right on the small visible values, wrong where a hidden z exceeds 6
        "i_relu6": ("01_relu_network", {"ReLU": "def ReLU(z):\n    return np.clip(z, 0, 6)\n"}, {"test_ReLU"}),
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The catalogue class (reference, one student per variant, the pairwise cases, the issue's cases), graded once."""
    ok, why = bubblewrap.available()
    if not ok:
        pytest.fail(f"grading runs in the sandbox and needs bubblewrap: {why}")
    root = samples.scratch_course(ROOT, tmp_path_factory.mktemp("fair") / "course")
    course = Course(root)
    for assignment in ASSIGNMENTS:
        course.release(assignment)
    students = catalogue_class(course, CATALOGUE, root=root)
    cases = issue_cases(course)
    for student, (assignment, answers, _) in cases.items():
        [notebook] = course.notebooks(assignment)
        reference = samples.solution_answers(course, assignment, notebook)
        submit(course, student, assignment, filled(samples.release_notebook(course, assignment, notebook),
                                                   {**reference, **answers}))
    run, seconds = grade(root)
    sizes = {a: sum(len(v) for v in catalogue_for(a, CATALOGUE, root).values()) for a in ASSIGNMENTS}
    counts = {kind: sum(s.kind == kind for s in students) for kind in ("reference", "variant", "pair")}
    print(f"\n[fair grades] catalogue per notebook: {sizes}; students: {counts} + {len(cases)} issue cases; "
          f"graded in {seconds:.1f} s wall time (--jobs 2)")
    verdicts = {(s.assignment, v.id): verdict(v, s.assignment) for s in students for v in s.variants.values()}
    return types.SimpleNamespace(root=root, run=run, seconds=seconds, students=students, cases=cases,
                                 scores=scores(root), notebooks=autograded(root), verdicts=verdicts, sizes=sizes)


def code_cells(graded, student, assignment):
    """{test cell: (auto score, score, max score)} of one student's autograded code test cells."""
    return {cell: s for (who, a, _, cell), s in graded.scores.items()
            if who == student and a == assignment and cell.startswith("test_")}


def lost(graded, student, assignment):
    return {cell for cell, (_, score, max_score) in code_cells(graded, student, assignment).items()
            if score < max_score}


def expected_lost(graded, student):
    return {f"test_{cell}" for cell, v in student.variants.items()
            if not graded.verdicts[(student.assignment, v.id)][1]}


def test_the_whole_class_is_graded(graded):
    """Does one run grade every submission of the class, without a traceback, every variant placed somewhere?"""
    assert graded.run.returncode in (0, 1), f"exit {graded.run.returncode}\n{graded.run.stderr[-3000:]}"
    assert "Traceback" not in graded.run.stdout + graded.run.stderr, graded.run.stderr[-3000:]
    expected = {(s.id, s.assignment) for s in graded.students} | {(k, a) for k, (a, _, _) in graded.cases.items()}
    assert {(who, a) for who, a, _ in graded.notebooks} == expected
    placed = {v.id for s in graded.students if s.kind == "variant" for v in s.variants.values()}
    assert placed == {v.id for v in CATALOGUE}, f"variants in no notebook: {sorted({v.id for v in CATALOGUE} - placed)}"
    for student in graded.students:
        cells = code_cells(graded, student.id, student.assignment)
        assert set(cells) == set(CALLS[student.assignment]), (student.id, sorted(cells))
        assert all(max_score > 0 for _, _, max_score in cells.values())


def test_every_test_cell_calls_its_check(graded):
    """Does every test cell of every notebook have a hidden check call to read the options and seed from?"""
    for assignment in ASSIGNMENTS:
        tests = [grade_id(c) for c in source_notebook(assignment).cells
                 if meta(c).get("grade") and not meta(c).get("solution") and c.cell_type == "code"]
        assert tests and set(tests) == set(CALLS[assignment]), assignment


def test_the_reference_students_have_full_marks(graded):
    """Do the reference answers get full marks on every test cell (so losing marks means something)?"""
    for student in (s for s in graded.students if s.kind == "reference"):
        assert code_cells(graded, student.id, student.assignment)
        assert lost(graded, student.id, student.assignment) == set(), student.assignment


def graded_as_written(variant, assignment):
    """Does the notebook's test cell call the check with the options the variant was written for (a backprop
    written for ReLU networks is graded in notebook 03 on sigmoid ones, and may rightly fail there)?"""
    name, options, _ = CALLS[assignment][f"test_{variant.fn.__name__}"]
    defaults = {k: p.default for k, p in inspect.signature(getattr(checks, name)).parameters.items()}
    return all(variant.options.get(k, defaults[k]) == options.get(k, defaults[k])
               for k in set(variant.options) | set(options))


def one_variant_students(graded, correct):
    for student in graded.students:
        if student.kind == "variant":
            [variant] = student.variants.values()
            if (variant.expect is None) == correct:
                yield student, variant


def test_each_test_cell_scores_what_its_check_decides(graded):
    """One judge: does every test cell of every variant's student score full marks exactly when the check, called
    as that cell calls it, passes on the variant by itself (and lose all its points otherwise)?"""
    failures = []
    for student in (s for s in graded.students if s.kind == "variant"):
        got, want = lost(graded, student.id, student.assignment), expected_lost(graded, student)
        if got != want:
            failures.append(f"{student.id} {student.describe()}: lost {sorted(got)}, its check decides {sorted(want)}")
        for cell in got:
            assert code_cells(graded, student.id, student.assignment)[cell][1] == 0, (student.id, cell)
    assert not failures, "\n".join(failures)


def test_every_correct_style_earns_full_marks(graded):
    """Does every correct variant, graded with the options it was written for, pass its check and score full
    marks on every test cell of its notebook?"""
    failures, counted = [], 0
    for student, variant in one_variant_students(graded, correct=True):
        if not graded_as_written(variant, student.assignment):
            continue
        counted += 1
        assert graded.verdicts[(student.assignment, variant.id)] == (True, True), variant.id
        if lost(graded, student.id, student.assignment):
            failures.append(f"{student.id} {variant.id}: lost {sorted(lost(graded, student.id, student.assignment))}")
    print(f"\n[fair grades] correct styles with full marks: {counted - len(failures)} of {counted}")
    assert counted >= 50
    assert not failures, "correct styles that lost marks:\n" + "\n".join(failures)


def test_a_mistake_costs_its_own_function_and_nothing_else(graded):
    """Does a buggy variant graded as written lose exactly its own test cell, all of its points, and nothing else?"""
    failures, counted = [], 0
    for student, variant in one_variant_students(graded, correct=False):
        if not graded_as_written(variant, student.assignment):
            continue
        counted += 1
        assert graded.verdicts[(student.assignment, variant.id)][1] is False, f"{variant.id}: its check passes it"
        got = lost(graded, student.id, student.assignment)
        if got != {f"test_{variant.fn.__name__}"}:
            failures.append(f"{student.id} {variant.id}: lost {sorted(got)}")
    print(f"\n[fair grades] mistakes that cost exactly their own function: {counted - len(failures)} of {counted}")
    assert counted >= 70
    assert not failures, "\n".join(failures)


def test_a_buggy_function_with_a_correct_one_downstream_loses_only_its_own_points(graded):
    """For each buggy function paired with a correct function that calls it, is only the buggy one's cell lost?"""
    pairs = [s for s in graded.students if s.kind == "pair"]
    assert len(pairs) >= 20
    failures = []
    for student in pairs:
        got, want = lost(graded, student.id, student.assignment), expected_lost(graded, student)
        if got != want:
            failures.append(f"{student.id} {student.describe()}: lost {sorted(got)}, the checks decide {sorted(want)}")
    assert not failures, "\n".join(failures)


def error_message(graded, student, assignment, cell):
    nb = graded.notebooks[(student, assignment, assignment)]
    [test] = [c for c in nb.cells if grade_id(c) == cell]
    errors = [o for o in test.outputs if o.output_type == "error"]
    assert len(errors) == 1, (student, cell, test.outputs)
    return errors[0]


def test_the_checks_message_comes_first_and_a_hidden_failure_names_its_case(graded):
    """Is a lost cell's error the check's own message (its first line names the function and the flavour), the
    visible flavour whenever the visible cases show the mistake, and otherwise the hidden one naming its case?"""
    hidden_only = 0
    for student in (s for s in graded.students if s.kind == "variant"):
        [variant] = student.variants.values()
        visible_ok, hidden_ok = graded.verdicts[(student.assignment, variant.id)]
        if hidden_ok:
            continue
        name = variant.fn.__name__
        error = error_message(graded, student.id, student.assignment, f"test_{name}")
        first = error.evalue.split("\n")[0]
        assert error.ename == "AssertionError", (variant.id, error.ename)
        if visible_ok:
            hidden_only += 1
            assert first.startswith(f"{name}（隐藏测试）未通过"), (variant.id, first)
            assert re.search(r"用例 (H\d+|#\d+~)|case (H\d+|#\d+~)", error.evalue), (variant.id, error.evalue)
        else:
            assert first.startswith(f"{name}（可见测试）未通过"), (variant.id, first)
    print(f"\n[fair grades] mistakes only the hidden cases show: {hidden_only}")


@pytest.mark.parametrize("student", ["i_bool_gradient", "i_textbook_sigmoid", "i_matrix_network", "i_own_rng_dropout",
                                     "i_handout_cost", "i_wrong_index", "i_relu6"])
def test_the_issues_examples(graded, student):
    """Do the issue's examples score as they should: the handout's bool ReLU_gradient, a warning sigmoid, an
    np.matrix forward_propagate with a matrix backprop and train, and a Dropout drawing from its own Generator
    full marks; the handout's cost formula only cost_fcn's points; a wrong index only train's; ReLU6 only ReLU's?"""
    assignment, answers, want = graded.cases[student]
    assert lost(graded, student, assignment) == want
    cells = code_cells(graded, student, assignment)
    assert cells and all(score == 0 for cell, (_, score, _) in cells.items() if cell in want)
    if student == "i_wrong_index":
        assert "train_wrong_index" in error_message(graded, student, assignment, "test_train").evalue


def test_the_sigmoid_warning_reaches_neither_stderr_nor_the_grade(graded):
    """Does the textbook sigmoid's overflow warning stay out of the test cell's output (so nbgrader cannot zero it)?"""
    nb = graded.notebooks[("i_textbook_sigmoid", "01_relu_network", "01_relu_network")]
    [test] = [c for c in nb.cells if grade_id(c) == "test_sigmoid"]
    assert not [o for o in test.outputs if o.output_type == "stream" and o.name == "stderr"]
    assert "✓ sigmoid" in "".join(o.get("text", "") for o in test.outputs)


def test_what_the_visible_test_says_predicts_the_grade(graded):
    """Does ReLU6, which passes the visible test a student runs in JupyterLab, lose its points only in the hidden
    test, with a message that says so first and names the hidden case that shows the mistake?"""
    nb = graded.notebooks[("i_relu6", "01_relu_network", "01_relu_network")]
    [test] = [c for c in nb.cells if grade_id(c) == "test_ReLU"]
    printed = "".join(o.get("text", "") for o in test.outputs if o.output_type == "stream")
    assert "✓ ReLU：全部 3 个可见用例通过" in printed                    # the visible test passed...
    error = error_message(graded, "i_relu6", "01_relu_network", "test_ReLU")
    assert error.evalue.split("\n")[0].startswith("ReLU（隐藏测试）未通过")    # ...the hidden one did not, and says so
    assert re.search(r"first differing case H\d+", error.evalue), error.evalue
