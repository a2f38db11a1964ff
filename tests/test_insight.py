"""The class insight report on a synthetic class of notebook 01, graded for real (nbgrader, the sandbox).

The class (one graded batch for the module):

=============  ==================================================================================
honest_1..3    correct answers in three distinct styles (the variant catalogue's correct variants);
               everybody's ReLU is the same obvious one-liner ``return np.maximum(0, z)``
grad_a, grad_b the same mistake in different code: a ReLU_gradient that returns ReLU itself
twice_a, _b    a mistake no check knows, in different code with the same results: ReLU doubled
plus_c         another unknown mistake: ReLU plus one
copy_a, copy_b one wrong train (whole-set mini-batches); copy_b renamed it, re-commented it and swapped
               two independent statements
paster         the reference forward_propagate with renamed variables (parameters too) and its own comments
=============  ==================================================================================

Students other than the honest ones leave the answers they were not given as the stub.
"""

import json
import os
import subprocess
import sys

import pytest

import class_harness as harness
from autograder import variants
from autograder.batch import samples
from autograder.grading.course import Course
from browser_helpers import Browser, find_chromium, fresh_profile_dir

ASSIGNMENT = "01_relu_network"
ARTIFACTS = harness.ROOT / "build" / "insight-artifacts"
ONE_LINER = "def ReLU(z):\n    return np.maximum(0, z)\n"

WRONG_TRAIN = '''\
def train(X, Y, params, size, alpha, iters, activate_fcn, activate_fcn_gradient, ratio=0., step=-1):
    m = X.shape[0]
    if step == -1:
        step = m
    index = np.cumsum(np.array(size[1:]) * np.array(size[:-1]))
    g = np.array(params, dtype=float).ravel()
    cost = np.zeros(iters)
    for i in range(iters):
        cost[i] = cost_fcn(g, size, index, X, Y, activate_fcn)
        for j in range(0, m, step):
            xs = X[j:j + step]
            ys = Y[j:j + step]
            J, grad = backprop(g, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio)
            g = g - alpha * grad
    return g, cost
'''

# The same code: names changed, comments added, and the two independent slices swapped.
COPIED_TRAIN = '''\
def train(X, Y, params, size, alpha, iters, activate_fcn, activate_fcn_gradient, ratio=0., step=-1):
    # my training loop </pre><script>document.title = "pwned"</script>
    n_samples = X.shape[0]
    if step == -1:
        step = n_samples          # full batch
    idx = np.cumsum(np.array(size[1:]) * np.array(size[:-1]))
    w = np.array(params, dtype=float).ravel()
    history = np.zeros(iters)
    for epoch in range(iters):
        history[epoch] = cost_fcn(w, size, idx, X, Y, activate_fcn)
        for start in range(0, n_samples, step):
            batch_y = Y[start:start + step]
            batch_x = X[start:start + step]
            J, dw = backprop(w, size, idx, X, Y, activate_fcn, activate_fcn_gradient, ratio)
            w = w - alpha * dw    # gradient step
    return w, history
'''

PASTED_FORWARD = '''\
def forward_propagate(inputs, weights, activate_fcn):
    # forward pass, layer by layer
    inputs = np.asarray(inputs, dtype=np.float64)
    zs, acts = [inputs], [inputs]
    for w in weights[:-1]:
        zs.append(acts[-1] @ np.asarray(w, dtype=np.float64).T)
        acts.append(activate_fcn(zs[-1]))
    zs.append(acts[-1] @ np.asarray(weights[-1], dtype=np.float64).T)
    acts.append(softmax(zs[-1]))
    return zs, acts
'''

MISTAKES = {
    "grad_a": {"ReLU_gradient": "def ReLU_gradient(z):\n    return np.maximum(z, 0)\n"},
    "grad_b": {"ReLU_gradient": "def ReLU_gradient(z):\n    z = np.asarray(z, dtype=float)\n    return z * (z > 0)\n"},
    "twice_a": {"ReLU": "def ReLU(z):\n    return np.maximum(0, z) * 2\n"},
    "twice_b": {"ReLU": "def ReLU(z):\n    out = np.where(np.asarray(z) > 0, z, 0.0)\n    return 2.0 * out\n"},
    "plus_c": {"ReLU": "def ReLU(z):\n    return np.maximum(0, z) + 1\n"},
    "copy_a": {"train": WRONG_TRAIN},
    "copy_b": {"train": COPIED_TRAIN},
    "paster": {"forward_propagate": PASTED_FORWARD},
}
HONEST = ["honest_1", "honest_2", "honest_3"]


def cli(course, *args):
    return [sys.executable, "-m", "autograder", "--course", str(course), *map(str, args)]


def honest_answers(stubs):
    """Three students' answers, each function in a different correct style where the catalogue has one."""
    correct = [v for v in variants.load() if v.expect is None]
    placed = harness.catalogue_for(ASSIGNMENT, correct)
    defined = harness.defined_names(harness.source_notebook(ASSIGNMENT))
    out = {s: dict(stubs) for s in HONEST}
    for cell, found in placed.items():
        distinct = list({v.fn.__code__: v for v in found}.values())
        for student, variant in zip(HONEST, distinct):
            out[student][cell] = harness.variant_source(variant, defined)
    for student in HONEST:
        out[student]["ReLU"] = ONE_LINER
    return out


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class, released, submitted, autograded in the sandbox, and ``insight`` run on it."""
    course = tmp_path_factory.mktemp("insight") / "course"
    samples.scratch_course(harness.ROOT, course)
    subprocess.run(cli(course, "release", ASSIGNMENT), check=True, env=harness.ENV, capture_output=True)
    handle = Course(course)
    [notebook] = handle.notebooks(ASSIGNMENT)
    release = samples.release_notebook(handle, ASSIGNMENT, notebook)
    stubs = {harness.grade_id(c): c.source for c in release.cells
             if c.cell_type == "code" and harness.meta(c).get("solution")}
    answers = honest_answers(stubs)
    for student, cells in MISTAKES.items():
        answers[student] = dict(stubs, ReLU=ONE_LINER) | cells
    for student, cells in answers.items():
        harness.submit(handle, student, ASSIGNMENT, harness.filled(release, cells))
    run, seconds = harness.grade(course)
    assert run.returncode in (0, 1), run.stdout + run.stderr
    html, data = course / "insight.html", course / "insight.json"
    insight = subprocess.run(cli(course, "insight", ASSIGNMENT, "--html", html, "--json", data),
                             env=harness.ENV, capture_output=True, text=True)
    assert insight.returncode == 0, insight.stdout + insight.stderr
    return {"course": course, "html": html, "data": json.loads(data.read_text(encoding="utf-8")),
            "stdout": insight.stdout, "scores": harness.scores(course), "autograded": harness.autograded(course)}


def groups_of(data, function, kind=None):
    return [g for g in data["mistakes"] if g["function"] == function and (kind is None or g["kind"] == kind)]


def score(graded, student, function):
    auto, points, max_score = graded["scores"][(student, ASSIGNMENT, ASSIGNMENT, f"test_{function}")]
    return points, max_score


def test_honest_styles_earn_full_marks(graded):
    """Does every function an honest student answered (in their own style) earn its full points?"""
    for student in HONEST:
        nb = graded["autograded"][(student, ASSIGNMENT, ASSIGNMENT)]
        for cell in nb.cells:
            if cell.cell_type == "code" and harness.meta(cell).get("solution") and "NotImplementedError" not in cell.source:
                points, max_score = score(graded, student, harness.grade_id(cell))
                assert points == max_score, (student, harness.grade_id(cell))


def test_one_known_mistake_in_different_code_is_one_group(graded):
    """Are two students whose different ReLU_gradient code returns ReLU itself one group, with the check's
    diagnosis code and its bilingual description?"""
    [group] = [g for g in groups_of(graded["data"], "ReLU_gradient") if g["diagnosis"] == "relu_grad_is_relu"]
    assert group["students"] == ["grad_a", "grad_b"] and group["kind"] == "diagnosed"
    assert "ReLU" in group["description"] and " / " in group["description"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in group["description"])    # Chinese first


def test_unknown_mistakes_are_grouped_by_what_the_code_returns(graded):
    """Do failures no known mistake explains fall into groups of students whose code gave the same results,
    whatever the code looks like?"""
    found = {tuple(g["students"]): g for g in groups_of(graded["data"], "ReLU", "unexplained")}
    assert set(found) == {("twice_a", "twice_b"), ("plus_c",)}
    assert found[("twice_a", "twice_b")]["behaviour"] != found[("plus_c",)]["behaviour"]
    assert all(g["diagnosis"] == "mismatch" for g in found.values())


def test_groups_are_sorted_by_size_and_count_each_student_once(graded):
    """Are the groups sorted by how many students they hold, and is a student in one group per function?"""
    sizes = [len(g["students"]) for g in graded["data"]["mistakes"]]
    assert sizes == sorted(sizes, reverse=True)
    seen = [(g["function"], s) for g in graded["data"]["mistakes"] for s in g["students"]]
    assert len(seen) == len(set(seen))
    row = {f["function"]: f for f in graded["data"]["functions"]}["ReLU"]
    assert row["lost"] == 3 and row["students"] == len(HONEST) + len(MISTAKES)


def test_the_copies_are_flagged_and_no_honest_student(graded):
    """Are the renamed, re-commented, reordered copy and the pasted reference the only flags (no honest
    student, no shared one-liner)?"""
    flags = {(f["function"], f["kind"], tuple(f["students"])): f for f in graded["data"]["similar"]}
    assert set(flags) == {("train", "identical", ("copy_a", "copy_b")),
                          ("forward_propagate", "reference", ("paster",))}
    assert all(f["score"] == 1.0 for f in flags.values())
    assert flags[("forward_propagate", "reference", ("paster",))]["reference"].startswith("solutions/")


def test_the_copied_wrong_answer_is_also_its_mistake(graded):
    """Do the two copies of a wrong train lose its points with the same diagnosis?"""
    [group] = [g for g in groups_of(graded["data"], "train") if "copy_a" in g["students"]]
    assert group["diagnosis"] == "train_minibatch_whole_set" and {"copy_a", "copy_b"} <= set(group["students"])


def test_the_diagnosis_is_kept_in_the_notebook_and_the_feedback_shows_only_the_message(graded):
    """Does the autograded notebook keep the check's diagnosis as data, and does the feedback show the
    message but not the record?"""
    nb = graded["autograded"][("grad_a", ASSIGNMENT, ASSIGNMENT)]
    [cell] = [c for c in nb.cells if harness.grade_id(c) == "test_ReLU_gradient"]
    record = cell.metadata["autograder"]["diagnosis"]
    assert record["code"] == "relu_grad_is_relu" and record["function"] == "ReLU_gradient"
    run = subprocess.run(cli(graded["course"], "feedback", ASSIGNMENT, "--student", "grad_a"),
                         env=harness.ENV, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    page = (graded["course"] / "feedback" / "grad_a" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text(encoding="utf-8")
    assert "relu_grad_is_relu" in page                           # the message names the code ...
    assert record["behaviour"] not in page and '"behaviour"' not in page    # ... the record stays out


def test_the_report_prints_the_largest_groups(graded):
    """Does the command print a summary with the groups and the flags?"""
    assert "class insight" in graded["stdout"] and "copy? " in graded["stdout"]
    assert "relu_grad_is_relu" in graded["stdout"]


def test_the_html_report_opens_in_chromium_with_its_chart(graded, tmp_path):
    """Does the HTML file open in Chromium without a server, show the chart, the groups and the two cells
    side by side, with the students' code escaped?"""
    chromium = find_chromium()
    if chromium is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is missing (apt-get install -y chromium): the insight page must be opened in CI")
        pytest.skip("no Chromium (apt-get install -y chromium)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser = Browser(chromium, fresh_profile_dir(tmp_path)).start()
    try:
        page = browser.page
        page.goto(graded["html"].as_uri())
        assert page.title() == "班级学情报告 / Class insight report"
        assert page.evaluate("() => Array.from(document.images).every(i => i.complete && i.naturalWidth > 300)")
        assert page.evaluate("() => document.images.length") == 1
        text = page.inner_text("body")
        assert "relu_grad_is_relu" in text and "grad_a, grad_b" in text
        assert page.locator(".pair").count() == 2
        assert "</pre><script>" in text          # shown as code, not run
        page.screenshot(path=str(ARTIFACTS / "insight.png"), full_page=True)
    finally:
        browser.stop()
