"""The four course notebooks: solutions (instructor) and release (students).

The course follows nbgrader's layout (see ``nbgrader_config.py``): the
instructor's notebooks live in ``solutions/<id>/<id>.ipynb`` and the student
release, generated from them by ``nbgrader generate_assignment``, in
``notebooks/<id>/<id>.ipynb``. These tests check that the committed release
is exactly what nbgrader generates, that it gives nothing away, that the
solutions pass their own tests and the release fails them, and that every
graded function sits in its own answer cell followed by its test cell.

The regression test of the solutions' stored outputs is nbval's
(``pytest --nbval solutions/``); the tests here check that what is stored is
what nbval can compare.
"""

import ast
import json
import pathlib
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = pathlib.Path(sys.executable).parent
ASSIGNMENTS = ["01_relu_network", "02_softmax_comparison", "03_sigmoid_dropout", "04_relu_dropout"]

#: The functions each notebook grades, in the order their answer cells appear.
GRADED = {
    "01_relu_network": ["ReLU", "ReLU_gradient", "sigmoid", "sigmoid_gradient", "softmax",
                        "forward_propagate", "cost_fcn", "backprop", "train"],
    "02_softmax_comparison": ["softmax_gradient"],
    "03_sigmoid_dropout": ["Dropout", "forward_propagate_dropout", "backprop"],
    "04_relu_dropout": ["ReLU_dropout_gradient"],
}
#: The manually graded written answers of each notebook.
MANUAL = {
    "01_relu_network": ["exercise_13"],
    "02_softmax_comparison": ["exercise_14"],
    "03_sigmoid_dropout": [],
    "04_relu_dropout": ["exercise_16"],
}
#: What every visible test prints when it passes (the check's success line; a browser test counts these lines).
MARKER = "个可见用例通过"


def passed_visibly(name, text):
    """Does ``text`` hold the line the visible check of ``name`` prints when it passes ("✓ ReLU：全部 3 个可见用例通过。")?"""
    return re.search(rf"✓ {re.escape(name)}：全部 \d+ {MARKER}", text) is not None
NBVAL_IGNORE = {"nbval-ignore-output", "nbval-skip"}
RELEASE_NOTEBOOK_METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def solution_path(aid):
    return ROOT / "solutions" / aid / f"{aid}.ipynb"


def release_path(aid):
    return ROOT / "notebooks" / aid / f"{aid}.ipynb"


def read(path):
    return nbformat.read(path, as_version=4)


def nbgrader_meta(cell):
    return cell.metadata.get("nbgrader", {})


def is_answer(cell):
    """An autograded answer cell: code the student writes."""
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and meta.get("solution", False) and not meta.get("grade", False)


def is_test(cell):
    """An autograded test cell."""
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and meta.get("grade", False) and not meta.get("solution", False)


def is_manual(cell):
    """A manually graded written answer."""
    meta = nbgrader_meta(cell)
    return cell.cell_type == "markdown" and meta.get("grade", False) and meta.get("solution", False)


def region(source, begin, end):
    """The lines strictly between the ``begin`` and ``end`` marker lines."""
    lines, inside, out = source.split("\n"), False, []
    for line in lines:
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside:
            out.append(line)
    return out


def without_region(source, begin, end, stub=None):
    """``source`` with the marked region (markers included) removed, or replaced by ``stub`` lines at its indent."""
    out, inside = [], False
    for line in source.split("\n"):
        if begin in line:
            inside = True
            if stub is not None:
                indent = re.match(r"\s*", line).group(0)
                out += [indent + s for s in stub]
        elif end in line:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


def lines(source_lines):
    """The non-blank lines, stripped, as a set."""
    return {ln.strip() for ln in source_lines if ln.strip()}


def visible_names(folder):
    """The sorted names in ``folder``, leaving out hidden ones such as .ipynb_checkpoints."""
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


# --- the release is nbgrader's, freshly generated --------------------------------------------------------------------

@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory):
    """Generate the four assignments from a copy of the course, so the repository is never touched.

    Returns the temporary course root; its ``notebooks/`` holds the fresh release.
    """
    course = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions", course / "solutions", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))

    def generate(aid):
        # --no-db: the gradebook is not needed to build the release, and four parallel runs would share it.
        return subprocess.run([str(BIN / "nbgrader"), "generate_assignment", aid, "--force", "--no-db"],
                              cwd=course, capture_output=True, text=True, timeout=300)

    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = list(pool.map(generate, ASSIGNMENTS))
    for aid, run in zip(ASSIGNMENTS, runs):
        assert run.returncode == 0, f"nbgrader generate_assignment {aid} failed:\n{run.stdout}\n{run.stderr}"
    return course


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_release_is_a_fresh_generation(aid, fresh_release):
    """Is the committed release exactly what `nbgrader generate_assignment <id> --force` makes of the solutions?"""
    fresh = fresh_release / "notebooks" / aid
    committed = ROOT / "notebooks" / aid
    # Hidden entries (.ipynb_checkpoints, made when the notebook is opened in JupyterLab) are git-ignored.
    assert visible_names(committed) == visible_names(fresh), "the release folder's files differ from a fresh generation"
    assert read(release_path(aid)) == read(fresh / f"{aid}.ipynb"), (
        f"notebooks/{aid} is out of date: run `nbgrader generate_assignment {aid} --force` from the repository root")


def test_release_holds_only_the_four_assignments():
    """Does notebooks/ hold the four assignments and nothing else?"""
    assert visible_names(ROOT / "notebooks") == ASSIGNMENTS
    assert sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir() and not p.name.startswith(".")) == ASSIGNMENTS


# --- the release gives nothing away ----------------------------------------------------------------------------------

@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_release_has_no_solutions_and_no_hidden_tests(aid):
    """Has every answer been replaced by the stub, every written answer by YOUR ANSWER HERE, every hidden test removed?"""
    release, solution = read(release_path(aid)), read(solution_path(aid))
    text = json.dumps(release, ensure_ascii=False)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text, f"{marker} left in the release"
    assert [c.id for c in release.cells] == [c.id for c in solution.cells]
    secret_lines, public_lines = set(), set()
    for rel, sol in zip(release.cells, solution.cells):
        if is_answer(sol):
            expected = without_region(sol.source, "### BEGIN SOLUTION", "### END SOLUTION",
                                      ["# YOUR CODE HERE", "raise NotImplementedError()"])
            assert rel.source == expected, f"answer cell {nbgrader_meta(sol)['grade_id']} is not the stub"
            secret_lines |= lines(region(sol.source, "### BEGIN SOLUTION", "### END SOLUTION"))
            public_lines |= lines(without_region(sol.source, "### BEGIN SOLUTION", "### END SOLUTION").split("\n"))
        elif is_manual(sol):
            assert rel.source == "YOUR ANSWER HERE", f"written answer {nbgrader_meta(sol)['grade_id']} leaked"
            secret_lines |= lines(sol.source.split("\n"))
        elif is_test(sol):
            assert rel.source == without_region(sol.source, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
            secret_lines |= lines(region(sol.source, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"))
            public_lines |= lines(rel.source.split("\n"))
        else:
            assert rel.source == sol.source
            public_lines |= lines(sol.source.split("\n"))
    # No line of a reference answer or a hidden test appears anywhere in the release, unless the
    # notebook shows that same line in given code anyway (a loop header such as "for i, end in enumerate(index):").
    release_lines = set().union(*(lines(c.source.split("\n")) for c in release.cells))
    leaked = (secret_lines - public_lines) & release_lines
    assert not leaked, f"lines of reference answers or hidden tests in the release: {sorted(leaked)}"
    for seed in re.findall(r"seed=(\d+)", "\n".join(secret_lines)):
        assert f"seed={seed}" not in text, f"a hidden test's seed ({seed}) is readable in the release"


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_release_has_no_outputs_and_no_run_metadata(aid):
    """Does the release carry no outputs, no execution counts, and no execution or personal metadata?"""
    nb = read(release_path(aid))
    assert nb.metadata == RELEASE_NOTEBOOK_METADATA, f"unexpected notebook metadata: {dict(nb.metadata)}"
    for i, cell in enumerate(nb.cells):
        assert set(cell.metadata) <= {"nbgrader", "editable", "deletable"}, \
            f"cell {i} carries metadata {sorted(cell.metadata)}"
        assert "attachments" not in cell
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {i} has outputs"
            assert cell.execution_count is None, f"cell {i} has an execution count"
    assert "image/png" not in release_path(aid).read_text(encoding="utf-8")


# --- solutions pass, release fails (nbgrader's own validator) -------------------------------------------------------

VALIDATE = """
import json, sys
from nbgrader.validator import Validator
print(json.dumps(Validator().validate(sys.argv[1])))
"""


def validate(path):
    """nbgrader's Validator on one notebook, in its own process (it sets process-wide environment variables)."""
    run = subprocess.run([sys.executable, "-c", VALIDATE, str(path)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"the validator crashed on {path}:\n{run.stderr}"
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_solutions_pass_their_tests():
    """Does nbgrader's validator find every test cell of every solution notebook passing?

    (``nbgrader validate`` exits 0 even when a notebook fails, so the validator is called directly.)
    """
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(ASSIGNMENTS, pool.map(validate, [solution_path(a) for a in ASSIGNMENTS])))
    for aid, result in results.items():
        failed = "\n\n".join(f"{f['source'][:200]}\n{f['raw_error']}" for f in result.get("failed", []))
        assert result == {}, f"{aid}: the solution notebook fails its tests:\n{failed or result}"


def test_release_fails_every_test_as_shipped():
    """Does every autograded test cell of every release notebook fail before the student writes anything?

    (The validator also lists the written answers, still "YOUR ANSWER HERE", as failing: nothing else may fail
    or pass.)
    """
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = dict(zip(ASSIGNMENTS, pool.map(validate, [release_path(a) for a in ASSIGNMENTS])))
    for aid, result in results.items():
        cells = read(release_path(aid)).cells
        tests = [c.source.strip() for c in cells if is_test(c)]
        written = [c.source.strip() for c in cells if is_manual(c)]
        assert "changed" not in result and "type_changed" not in result, f"{aid}: {result}"
        failed = [f["source"] for f in result.get("failed", [])]
        assert sorted(failed) == sorted(tests + written), \
            f"{aid}: these test cells pass as shipped: {set(tests) - set(failed)}"
        for f in result["failed"]:
            if f["source"] in tests:  # each fails because the student's function is missing, not for another reason
                assert "NotImplementedError" in f["raw_error"] or "NameError" in f["raw_error"], f["raw_error"][:500]


# --- structure -------------------------------------------------------------------------------------------------------

def defined_functions(source):
    """The names of the top-level statements of a cell, if they are all function definitions, else None."""
    tree = ast.parse(source)
    if not all(isinstance(node, ast.FunctionDef) for node in tree.body):
        return None
    return [node.name for node in tree.body]


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_each_answer_cell_holds_one_function_followed_by_its_test(aid):
    """Is each graded function alone in an answer cell named after it, followed at once by its graded test cell?"""
    cells = read(solution_path(aid)).cells
    answers = [i for i, c in enumerate(cells) if is_answer(c)]
    assert [nbgrader_meta(cells[i])["grade_id"] for i in answers] == GRADED[aid]
    for i in answers:
        name = nbgrader_meta(cells[i])["grade_id"]
        assert defined_functions(cells[i].source) == [name], f"answer cell {name} must define only {name}()"
        assert "### BEGIN SOLUTION" in cells[i].source and "### END SOLUTION" in cells[i].source
        test = cells[i + 1]
        meta = nbgrader_meta(test)
        assert is_test(test) and meta.get("locked") and meta.get("points", 0) > 0, \
            f"the cell after {name} must be a locked, graded test cell"
        assert meta["grade_id"] == f"test_{name}"
        # One judge: the visible part is the check on its visible cases, nothing else; the hidden part one
        # line calling the check's hidden flavour with its secret seed.
        visible = test.source.split("### BEGIN HIDDEN TESTS")[0]
        statements = [ln for ln in visible.split("\n") if ln.strip() and not ln.lstrip().startswith("#")]
        assert len(statements) == 1 and statements[0].startswith(f"print(checks.check_{name}({name}"), statements
        assert "hidden=" not in statements[0] and "seed=" not in statements[0]
        hidden = [ln for ln in region(test.source, "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
                  if ln.strip() and not ln.lstrip().startswith("#")]
        assert len(hidden) == 1 and hidden[0].startswith(f"print(checks.check_{name}({name}, globals(),"), hidden
        assert "hidden=True" in hidden[0] and re.search(r"seed=\d+", hidden[0]), hidden
    manual = [nbgrader_meta(c)["grade_id"] for c in cells if is_manual(c)]
    assert manual == MANUAL[aid]
    grade_ids = [nbgrader_meta(c)["grade_id"] for c in cells if nbgrader_meta(c)]
    assert len(grade_ids) == len(set(grade_ids)), "grade_id values must be unique within a notebook"


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_first_cell_imports_the_grader_before_any_student_code(aid):
    """Is the first code cell read-only, and does it import the grading checks before anything else runs? Is
    matplotlib imported right after it, in a read-only demonstration cell (only demonstrations plot)?"""
    code = [c for c in read(solution_path(aid)).cells if c.cell_type == "code"]
    first, plotting = code[:2]
    assert nbgrader_meta(first).get("locked") and not nbgrader_meta(first).get("solution")
    statements = [ln for ln in first.source.split("\n") if ln.strip() and not ln.lstrip().startswith("#")]
    assert statements[0] == "from autograder import checks"
    assert "matplotlib" not in first.source
    assert nbgrader_meta(plotting).get("locked") and nbgrader_meta(plotting)["grade_id"] == "demo_plotting"
    assert "demo-only" in plotting.metadata.get("tags", [])
    assert "import matplotlib.pyplot as plt" in plotting.source and "%matplotlib inline" in plotting.source


# --- what nbval compares ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_stored_outputs_are_what_nbval_compares(aid):
    """Does every code cell of the solution carry an execution count (else nbval skips it), and only text outputs?

    Figures are not compared (and stay out of git): cells that draw are tagged nbval-ignore-output and
    store no output. ``solutions/store_outputs.py`` refreshes the stored outputs.
    """
    nb = read(solution_path(aid))
    assert nb.metadata == RELEASE_NOTEBOOK_METADATA
    counts = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        counts.append(cell.execution_count)
        assert set(cell.metadata) <= {"nbgrader", "tags"}, f"cell {i}: per-run metadata {sorted(cell.metadata)}"
        tags = set(cell.metadata.get("tags", []))
        draws = re.search(r"\bplt\.|\bplot_\w+\(", cell.source) is not None
        if draws:
            assert tags & NBVAL_IGNORE, f"cell {i} draws a figure but is not tagged nbval-ignore-output"
        if tags & NBVAL_IGNORE:
            assert cell.outputs == [], f"cell {i} is not compared, so it stores no output"
        for out in cell.outputs:
            assert out.output_type in ("stream", "execute_result"), f"cell {i}: {out.output_type} output stored"
            assert out.output_type != "stream" or out.name == "stdout", f"cell {i} writes to stderr"
            assert set(out.get("data", {})) <= {"text/plain"}
    assert counts == list(range(1, len(counts) + 1)), "code cells must be numbered 1, 2, 3, ... (nbval skips unrun cells)"


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_every_test_cell_prints_its_success_marker(aid):
    """Does each test cell's stored output show that its visible tests passed?"""
    for cell in read(solution_path(aid)).cells:
        if is_test(cell):
            name = nbgrader_meta(cell)["grade_id"].removeprefix("test_")
            text = "".join(o.get("text", "") for o in cell.outputs)
            assert passed_visibly(name, text), f"test_{name}'s stored output lacks its success marker"


def test_no_nbgrader_working_files_in_the_repository():
    """Are the gradebook and the students' work (they hold hidden tests and grades) git-ignored and untracked?"""
    ignored = {line.strip().rstrip("/") for line in (ROOT / ".gitignore").read_text().splitlines()}
    names = ["gradebook.db", "submitted", "autograded", "feedback"]
    assert set(names) <= ignored, f"not in .gitignore: {set(names) - ignored}"
    tracked = subprocess.run(["git", "ls-files", "--", *names], cwd=ROOT, capture_output=True, text=True)
    assert tracked.returncode == 0, tracked.stderr
    assert tracked.stdout == "", f"tracked by git: {tracked.stdout}"
