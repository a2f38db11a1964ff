"""Demonstration-only cells (``demo-only``): grading skips them, and skipping them changes no grade.

What this module proves:

* the static analysis (``autograder.demonstrations.analyse`` / ``dependencies``) sees reads and writes as
  Python evaluates them, counts what a function's body reads and writes where it is called, treats item and
  attribute stores as writes, calls ``exec``/``globals()``/star imports/``%run`` opaque, tracks numpy's
  global random state, and finds every running cell that reads a name only a skipped cell binds;
* the course's four source notebooks tag exactly their demonstration cells (read-only, neither answer nor
  test, grade id ``demo_*``), pass the release check, and the committed release carries no tag;
* ``nbgrader generate_assignment`` with the course configuration refuses a tag on a test, on an editable
  or a markdown cell, and a test that reads a name a demonstration binds, naming the cell and the problem;
* grading a whole class (the reference answers, a blank release, the whole variant catalogue of
  ``autograder/variants`` packed into students, a student who tags a test cell, a student who builds on a
  demonstration's variables) with and without skipping gives the same score on every cell; the skipped
  run really skipped every demonstration (one ``NOT_RUN`` line, no execution count), except for a
  notebook whose student code reads a demonstration's names, which is run entirely and says so
  (a ``demonstrations-run`` event).

Grading runs in the bubblewrap sandbox (the course default); without bubblewrap these tests fail.
"""

import os
import shutil
import sys
import types

import nbformat
import pytest
from nbformat.v4 import new_code_cell

sys.path.insert(0, os.path.dirname(__file__))

from autograder import variants  # noqa: E402

from autograder import demonstrations, events  # noqa: E402
from autograder.batch import samples  # noqa: E402
from autograder.demonstrations import RANDOM_STATE, TAG, analyse, dependencies  # noqa: E402
from autograder.grading.course import Course, PipelineError  # noqa: E402
from autograder.sandbox import bubblewrap  # noqa: E402
from nbgrader import utils as nbgrader_utils  # noqa: E402
from nbgrader.api import Gradebook  # noqa: E402
from class_harness import (  # noqa: E402
    ASSIGNMENTS, ROOT, autograded, catalogue_for, defined_names, filled, grade, grade_id, meta, scores,
    source_notebook, variant_source)

NO_SKIPPING = "\nc.GradingExecute.skip_demonstrations = False\n"
#: The student of notebook 04 who tags the test cell (and un-tags the demonstrations) with a wrong answer.
TAGGER = "tags_a_test"
WRONG = "def ReLU_dropout_gradient(z, a):\n    return a / z\n"
#: The student of notebook 04 who reads, in a cell of their own at the end, what only demo_train binds.
BUILDER = "uses_a_demo"
BUILDER_CELL = 'print("final loss of the demonstration run:", cost_exact[-1])\n'


# ====================================================================== 1. the analysis, without a kernel

def test_reads_and_writes_follow_evaluation_order():
    """Does ``x = x + 1`` read x, while a name bound earlier in the same cell is no read?"""
    names = analyse("x = x + 1")
    assert names.reads == {"x"} and names.writes == {"x"}
    assert analyse("x += 1").reads == {"x"}
    names = analyse("y = 1\nz = y * 2\nprint(z)")
    assert names.reads == {"print"} and names.writes == {"y", "z"}
    # the right-hand side is evaluated before the target is bound
    assert analyse("w = [w]").reads == {"w"}


def test_a_function_body_reads_globals_but_not_its_arguments_or_locals():
    """Does a def record the globals its body loads and writes (and read its defaults), never its arguments,
    *args, **kw or locals?"""
    names = analyse("def f(a, *rest, b=default, **kw):\n    t = a + g\n    u = t + len(rest) + b\n"
                    "    return u + kw['k'] + size\n")
    assert names.reads == {"default"}                     # evaluated when the def runs
    assert names.writes == {"f"}
    assert names.functions == {"f": ({"g", "len", "size"}, set())}  # looked up when f is called
    assert analyse("square = lambda q: q * q + w").reads == {"w"}
    assert "y" in analyse("class A:\n    x = y\n").reads
    # a global statement makes the function's binding a write of the notebook, when it is called
    bump = analyse("def bump():\n    global counter\n    counter = 1\n")
    assert bump.writes == {"bump"} and bump.functions["bump"] == (set(), {"counter"})
    # changing a global object's item is a read and a write of it, when called
    assert analyse("def f():\n    params[0] = 1\n").functions["f"] == ({"params"}, {"params"})


def test_a_function_reads_the_globals_of_its_body_where_it_is_called():
    """Is a call, after a skipped cell, of a function whose body reads what the skipped cell binds a dependency,
    through the functions it calls too, while defining it there is not?"""
    defined_before = ["def f():\n    return size\n", "size = 3", "f()"]
    assert dependencies(defined_before, {1}) == [(2, "size", 1)]
    chain = ["def f():\n    return size\n", "def g():\n    return f()\n", "size = 3", "print(g())"]
    assert dependencies(chain, {2}) == [(3, "size", 2)]
    # handed to a check (or any call) by name: still a use of its body
    assert dependencies(["def f():\n    return size\n", "size = 3", "checks.check_f(f, globals())"], {1}) \
        == [(2, "size", 1)]
    # defined after the skipped cell but never called: nothing reads size
    assert dependencies(["size = 3", "def f():\n    return size\n"], {0}) == []
    # a function a running cell defines again no longer reads size
    assert dependencies(defined_before[:2] + ["def f():\n    return 1\n", "f()"], {1}) == []
    # a function the skipped cell defines is itself a name only it binds
    assert dependencies(["size = 1", "def f():\n    return size\n", "f()"], {1}) == [(2, "f", 1)]


def test_comprehension_variables_are_not_reads():
    """Are a comprehension's own variables neither reads nor writes, while what it iterates over is read?"""
    names = analyse("squares = [i * i for i in values]")
    assert names.reads == {"values"} and names.writes == {"squares"}
    names = analyse("table = {k: v for k, v in d.items() if k > lim}")
    assert names.reads == {"d", "lim"} and names.writes == {"table"}
    assert analyse("total = sum(x for row in rows for x in row)").reads == {"sum", "rows"}


def test_item_and_attribute_stores_write_the_object():
    """Do ``params[0] = 1`` and ``plt.rcParams["a"] = 1`` count as writes of params and plt?"""
    assert "params" in analyse("params[0] = 1").writes
    assert "plt" in analyse('plt.rcParams["a"] = 1').writes
    assert "model" in analyse("model.weights = None").writes
    assert "cache" in analyse("del cache['k']").writes


def test_imports_and_statement_targets_are_writes():
    """Are ``import a.b as c``, ``import os.path``, ``from m import n`` and for/with/except targets writes?"""
    assert analyse("import a.b as c").writes == {"c"}
    assert analyse("import os.path").writes == {"os"}
    assert analyse("from m import n, o as p").writes == {"n", "p"}
    assert analyse("for i, (j, k) in pairs:\n    pass\n").writes == {"i", "j", "k"}
    assert analyse("with open(path) as fh:\n    pass\n").writes == {"fh"}
    names = analyse("try:\n    pass\nexcept ValueError as err:\n    pass\n")
    assert names.writes == {"err"} and names.reads == {"ValueError"}


@pytest.mark.parametrize("source", ["exec(code)", "eval('x + 1')", "g = globals()", "from m import *",
                                    "%run helper.py", "%load helper.py", "%time x = f()", "vars()['x'] = 1"])
def test_code_that_can_touch_any_name_is_opaque(source):
    """Are exec, eval, globals(), vars(), a star import and code-running magics (%run, %load, %time) opaque?"""
    assert analyse(source).opaque


@pytest.mark.parametrize("source", ["%matplotlib inline", "checks.check_ReLU(ReLU, globals())",
                                    "checks.check_train(train, globals(), ratio=0.2)", "print(x)"])
def test_configuring_magics_and_the_checks_namespace_are_not_opaque(source):
    """Are ``%matplotlib inline`` and ``globals()`` passed to ``checks.<fn>(...)`` not opaque?"""
    assert analyse(source).opaque == ""


def test_the_global_random_state_is_one_more_name():
    """Does ``np.random.seed(0)`` write RANDOM_STATE, ``np.random.rand(3)`` read it, and a Generator neither?"""
    seeded = analyse("np.random.seed(0)")
    assert RANDOM_STATE in seeded.writes and RANDOM_STATE not in seeded.reads
    drawn = analyse("x = np.random.rand(3)")
    assert RANDOM_STATE in drawn.reads
    generator = analyse("rng = np.random.default_rng(0)\ny = rng.normal(size=3)")
    assert RANDOM_STATE not in generator.reads | generator.writes
    assert generator.reads == {"np"}


def test_a_cell_that_does_not_parse_reads_and_writes_nothing():
    """Does a cell with a syntax error count as reading and binding nothing (it runs nothing)?"""
    names = analyse("def f(:\n    return size\n")
    assert not names.reads and not names.writes and not names.opaque and not names.functions
    assert dependencies(["size = 3", "print(size"], {0}) == []


def test_dependencies_find_a_read_of_a_name_only_a_skipped_cell_binds():
    """Is a running cell flagged when the last binding of a name it reads is a skipped cell's?"""
    sources = ["import numpy as np", "size = [25, 5]\ncost = np.zeros(3)", "print(size)", "y = cost[0]"]
    assert dependencies(sources, {1}) == [(2, "size", 1), (3, "cost", 1)]
    # the same cells, nothing skipped: nothing to flag
    assert dependencies(sources, set()) == []
    # a read before the skipped cell binds the name does not depend on it
    assert dependencies(["print(size)", "size = 3"], {1}) == []


def test_dependencies_do_not_flag_a_name_a_running_cell_binds_again():
    """Is a name re-bound by a running cell between the skipped cell and the reader not flagged?"""
    assert dependencies(["size = 3", "size = 4", "print(size)"], {0}) == []
    assert dependencies(["size = 3", "for size in range(2):\n    pass\n", "print(size)"], {0}) == []
    # but a skipped re-binding after the running one is the last binding again
    assert dependencies(["size = 4", "size = 3", "print(size)"], {1}) == [(2, "size", 1)]


def test_dependencies_flag_every_later_reading_cell_after_an_opaque_skipped_cell():
    """After a skipped cell that can bind anything, is every later running cell that reads a name flagged?"""
    sources = ["exec(code)", "print(b)", "c = 1", "print(c)", "1 + 1", "%run helper.py"]
    assert dependencies(sources, {0}) == [(1, "*", 0), (3, "*", 0), (5, "*", 0)]
    # an opaque running cell after a skipped one can read what the skipped one binds
    assert dependencies(["a = 1", "exec(code)"], {0}) == [(1, "*", 0)]


def test_the_numpy_random_state_links_a_skipped_seed_to_a_later_draw():
    """Is a running draw from numpy's global state after a skipped ``np.random.seed`` a dependency?"""
    sources = ["import numpy as np", "np.random.seed(4)", "x = np.random.rand(3)"]
    assert dependencies(sources, {1}) == [(2, RANDOM_STATE, 1)]
    # a running seed in between makes the draw independent of the skipped cell
    assert dependencies(sources[:2] + ["np.random.seed(0)"] + sources[2:], {1}) == []
    # a draw inside a notebook function counts where the function is called
    drawing = ["import numpy as np\ndef mask():\n    return np.random.rand(3) > 0.2\n", "np.random.seed(4)", "m = mask()"]
    assert dependencies(drawing, {1}) == [(2, RANDOM_STATE, 1)]


def test_what_a_function_writes_counts_where_it_is_called_not_where_it_is_defined():
    """Does defining a function that would change a global leave the skipped cell's binding the last one, and
    does calling it (in a skipped or a running cell) count as the write?"""
    assert dependencies(["params = [0]", "def f():\n    params[0] = 1\n", "print(params)"], {0}) \
        == [(2, "params", 0)]
    assert dependencies(["params = [0]", "def f():\n    global params\n    params = [1]\n", "print(params)"],
                        {0}) == [(2, "params", 0)]
    assert dependencies(["np.random.seed(4)", "def D():\n    return np.random.rand()\n", "x = np.random.rand(3)"],
                        {0}) == [(2, RANDOM_STATE, 0)]
    # a skipped cell that calls a function drawing from numpy's global state changes that state
    assert dependencies(["def D():\n    return np.random.rand()\n", "D()", "np.random.rand(2)"], {1}) \
        == [(2, RANDOM_STATE, 1)]
    assert dependencies(["def g():\n    global x\n    x = 1\n", "g()", "print(x)"], {1}) == [(2, "x", 1)]
    # a running call that binds the global again makes the later read independent of the skipped cell
    assert dependencies(["x = 1", "def g():\n    global x\n    x = 2\n", "g()", "print(x)"], {0}) == []


def test_nested_functions_methods_and_named_lambdas_read_where_they_are_used():
    """Are a def inside a def, a class's methods and a lambda bound to a name followed to what they read?"""
    assert dependencies(["def outer():\n    def inner():\n        return size\n    return inner()\n", "size = 3",
                         "outer()"], {1}) == [(2, "size", 1)]
    assert dependencies(["class A:\n    def m(self):\n        return size\n", "size = 3", "A().m()"], {1}) \
        == [(2, "size", 1)]
    assert dependencies(["f = lambda: size", "size = 3", "f()"], {1}) == [(2, "size", 1)]


def test_code_nested_too_deeply_to_read_is_opaque_not_a_crash():
    """Does a hostile cell nested thousands of levels deep make the analysis opaque instead of crashing it?"""
    deep = "x = " + "-" * 2000 + "1"                    # Python compiles it; a recursive reader would overflow
    assert analyse(deep).opaque == "code nested too deeply to read"
    assert dependencies(["y = 1", deep, "print(y)"], {0}) == [(1, "*", 0), (2, "y", 0)]


def test_a_cell_magic_is_opaque():
    """Is a cell magic (``%%time``), whose code nbgrader sees as a string, opaque?"""
    assert analyse("%%time\ny = 2\n").opaque
    assert dependencies(["x = 1", "%%time\ny = 2\n", "print(y)"], {1}) == [(2, "*", 1)]


# ====================================================================== 2. the course's notebooks

@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_source_notebook_tags_exactly_its_demonstration_cells(assignment):
    """Does each source notebook tag at least one cell, every tagged cell a locked code cell that is neither
    graded nor an answer, and every demonstration cell (locked, not graded, no answer, id ``demo_*``)?"""
    nb = source_notebook(assignment)
    tagged = [cell for cell in nb.cells if TAG in cell.metadata.get("tags", [])]
    assert tagged, f"{assignment}: no {TAG} cell"
    for cell in tagged:
        assert cell.cell_type == "code", f"{assignment}: a tagged {cell.cell_type} cell"
        assert nbgrader_utils.is_locked(cell) and meta(cell).get("locked"), f"{grade_id(cell)} is not read-only"
        assert not nbgrader_utils.is_grade(cell) and not nbgrader_utils.is_solution(cell), grade_id(cell)
        assert grade_id(cell), f"{assignment}: a tagged cell without a grade id"
    demonstration_cells = {grade_id(cell) for cell in nb.cells
                           if cell.cell_type == "code" and meta(cell).get("locked") and not meta(cell).get("grade")
                           and not meta(cell).get("solution") and (grade_id(cell) or "").startswith("demo_")}
    assert {grade_id(cell) for cell in tagged} == demonstration_cells
    assert demonstrations.demonstration_ids(nb) == demonstration_cells
    assert demonstrations.check_release(nb) == []


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_committed_release_carries_no_tag(assignment):
    """Does the committed release (notebooks/<id>/<id>.ipynb) carry no demo-only tag, so students see none?"""
    nb = nbformat.read(ROOT / "notebooks" / assignment / f"{assignment}.ipynb", as_version=4)
    assert not [grade_id(cell) or i for i, cell in enumerate(nb.cells) if TAG in cell.metadata.get("tags", [])]
    assert TAG not in nb.metadata.get("tags", [])


# ====================================================================== 3. the release refuses misplaced tags

def refused_release(tmp_path, assignment, edit):
    """Edit the scratch course's source notebook, release it, and return the PipelineError's message."""
    root = samples.scratch_course(ROOT, tmp_path / "course")
    nb = source_notebook(assignment, root)
    edit(nb)
    nbformat.write(nb, root / "solutions" / assignment / f"{assignment}.ipynb")
    with pytest.raises(PipelineError) as refused:
        Course(root).release(assignment)
    assert not (root / "notebooks" / assignment / f"{assignment}.ipynb").exists(), "a release was written"
    return str(refused.value)


def cell_with_id(nb, wanted):
    return next(cell for cell in nb.cells if grade_id(cell) == wanted)


def test_a_tag_on_a_test_cell_is_refused_when_the_release_is_generated(tmp_path):
    """Is a tag on a test cell refused by generate_assignment, naming the cell?"""
    def edit(nb):
        cell_with_id(nb, "test_ReLU_dropout_gradient").metadata["tags"] = [TAG]
    message = refused_release(tmp_path, "04_relu_dropout", edit)
    assert "test_ReLU_dropout_gradient" in message and TAG in message
    assert "answer, test or manually graded" in message


def test_a_tag_on_an_editable_cell_is_refused(tmp_path):
    """Is a tag on a code cell that is not read-only refused by generate_assignment, naming the cell?"""
    def edit(nb):
        index = next(i for i, cell in enumerate(nb.cells) if grade_id(cell) == "relu_dropout_tools")
        nb.cells.insert(index + 1, new_code_cell('print("an editable demonstration")', metadata={"tags": [TAG]}))
        edit.position = index + 2                        # 1-based position of the new cell
    message = refused_release(tmp_path, "04_relu_dropout", edit)
    assert f"cell {edit.position}: it is not read-only" in message
    assert f"the {TAG!r} tags cannot stay as they are" in message


def test_a_tag_on_a_markdown_cell_is_a_release_problem():
    """Does the release check name a tagged markdown cell (only code cells run), without nbgrader?"""
    nb = source_notebook("04_relu_dropout")
    nb.cells[0].metadata["tags"] = [TAG]                 # the title
    assert demonstrations.check_release(nb) == ["cell 1: it is a markdown cell: only code cells run"]


def test_a_test_that_reads_what_a_demonstration_binds_is_refused(tmp_path):
    """Is a test cell that reads a name only a tagged cell binds refused, naming the test, the name and the cell?"""
    def edit(nb):
        test = cell_with_id(nb, "test_ReLU_dropout_gradient")
        index = nb.cells.index(test)
        demo = new_code_cell("z_demo = 1", metadata={"tags": [TAG], "nbgrader": {
            "grade": False, "grade_id": "demo_z", "locked": True, "schema_version": 3, "solution": False,
            "task": False}})
        nb.cells.insert(index, demo)
        test.source += "\nassert z_demo == 1\n"
    message = refused_release(tmp_path, "04_relu_dropout", edit)
    assert "test_ReLU_dropout_gradient reads 'z_demo' that only demo_z (demo-only) binds" in message


# ====================================================================== 4. the class graded with and without skipping


def build_class(course):
    """Write every student's submissions; return {(student, assignment): what the student is}."""
    catalogue = variants.load()
    students, sizes = {}, {}
    for assignment in ASSIGNMENTS:
        source = source_notebook(assignment, course.root)
        demos = demonstrations.demonstration_ids(source)
        defined = defined_names(source, demos)
        [notebook] = course.notebooks(assignment)
        release = samples.release_notebook(course, assignment, notebook)
        reference = samples.solution_answers(course, assignment, notebook)
        submissions = {"reference": filled(release, reference), "blank": nbformat.from_dict(release)}
        students[("reference", assignment)] = "the reference answers"
        students[("blank", assignment)] = "the release unchanged"
        placed = catalogue_for(assignment, catalogue)
        sizes[assignment] = sum(len(v) for v in placed.values())
        for k in range(max((len(v) for v in placed.values()), default=0)):
            student = f"v{assignment[:2]}_{k + 1:02d}"
            answers, holds = dict(reference), []
            for cell_id, cell_variants in placed.items():
                if k < len(cell_variants):
                    answers[cell_id] = variant_source(cell_variants[k], defined)
                    holds.append(cell_variants[k].id)
            submissions[student] = filled(release, answers)
            students[(student, assignment)] = ", ".join(holds)
        if assignment == "04_relu_dropout":
            tagger = filled(release, {**reference, "ReLU_dropout_gradient": WRONG})
            for cell in tagger.cells:
                if grade_id(cell) == "test_ReLU_dropout_gradient":
                    cell.metadata["tags"] = [TAG]
                elif grade_id(cell) in demos:
                    cell.metadata["tags"] = []               # the demonstrations' tag "removed" (there is none)
            submissions[TAGGER] = tagger
            students[(TAGGER, assignment)] = "a wrong answer, its test tagged demo-only"
            builder = filled(release, reference)
            builder.cells.append(new_code_cell(BUILDER_CELL))
            submissions[BUILDER] = builder
            students[(BUILDER, assignment)] = "the reference answers, then a cell reading cost_exact"
        for student, nb in submissions.items():
            folder = course.path("submitted", student, assignment)
            folder.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, folder / f"{notebook}.ipynb")
    return students, sizes


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class, released and submitted once, then graded twice: with skipping (the course configuration)
    and, in a copy made before either grading, with ``c.GradingExecute.skip_demonstrations = False``."""
    ok, why = bubblewrap.available()
    if not ok:
        pytest.fail(f"grading runs in the sandbox and needs bubblewrap: {why}")
    base = tmp_path_factory.mktemp("demonstrations")
    root = samples.scratch_course(ROOT, base / "skipped")
    course = Course(root)
    for assignment in ASSIGNMENTS:
        course.release(assignment)
    students, sizes = build_class(course)
    full = base / "full"
    shutil.copytree(root, full)
    (full / "nbgrader_config.py").write_text((full / "nbgrader_config.py").read_text() + NO_SKIPPING)
    runs = {}
    for name, folder in [("skipped", root), ("full", full)]:
        run, seconds = grade(folder)
        notebooks = autograded(folder)
        runs[name] = types.SimpleNamespace(root=folder, run=run, seconds=seconds, notebooks=notebooks,
                                           scores=scores(folder))
        print(f"\n[demonstrations] grading with {name} demonstrations: {seconds:.1f} s wall time, "
              f"{len(notebooks)} notebooks graded (--jobs 2)")
    print(f"[demonstrations] variant catalogue per notebook: {sizes}")
    return types.SimpleNamespace(students=students, sizes=sizes, demos={
        a: demonstrations.demonstration_ids(source_notebook(a, root)) for a in ASSIGNMENTS}, **runs)


def events_of(nb, kind=None):
    return [e for e in events.read(nb) if kind is None or e["kind"] == kind]


def is_not_run(cell):
    return (cell.execution_count is None and len(cell.outputs) == 1 and cell.outputs[0].output_type == "stream"
            and cell.outputs[0].text == demonstrations.NOT_RUN)


def test_both_runs_grade_every_submitted_notebook(graded):
    """Do both gradings finish without a traceback and grade every submission of the class?"""
    expected = {(student, assignment, assignment) for student, assignment in graded.students}
    for name in ("skipped", "full"):
        run = getattr(graded, name)
        assert run.run.returncode in (0, 1), f"{name}: exit {run.run.returncode}\n{run.run.stderr[-3000:]}"
        assert "Traceback" not in run.run.stdout + run.run.stderr, f"{name}:\n{run.run.stderr[-3000:]}"
        assert set(run.notebooks) == expected, f"{name}: missing {sorted(expected - set(run.notebooks))}"
        print(f"\n[demonstrations] {name}: {run.seconds:.1f} s, {len(run.notebooks)} notebooks")
    print(f"[demonstrations] catalogue per notebook: {graded.sizes}")


def test_skipping_changes_no_score_on_any_cell(graded):
    """Does every cell of every student get the same score with the demonstrations skipped as with them run?"""
    skipped, full = graded.skipped.scores, graded.full.scores
    assert set(skipped) == set(full), f"cells graded in one run only: {sorted(set(skipped) ^ set(full))[:20]}"
    differences = [f"  {student} {assignment}/{notebook} {cell}: skipped {skipped[key]}, run {full[key]}"
                   for key in sorted(skipped) if skipped[key] != full[key]
                   for student, assignment, notebook, cell in [key]]
    assert not differences, ("skipping the demonstrations changed these grades (auto score, score, max score):\n"
                             + "\n".join(differences))
    assert len(skipped) >= len(graded.students)


def test_the_reference_student_has_full_marks_and_the_catalogue_loses_marks(graded):
    """Does the reference student get full marks on every autograded cell (so the comparison means
    something), while the blank release and some variants lose marks?"""
    for run in (graded.skipped, graded.full):
        with Gradebook(f"sqlite:///{run.root}/gradebook.db", "reludrop") as gb:
            code_cells = {(a.name, nb.name, c.name) for a in gb.assignments for nb in a.notebooks
                          for c in nb.grade_cells if c.cell_type == "code"}
        reference = {(a, n, c): s for (student, a, n, c), s in run.scores.items() if student == "reference"}
        assert code_cells <= set(reference)
        lost = {key: reference[key] for key in code_cells if reference[key][1] != reference[key][2]}
        assert not lost, f"the reference answers lost marks: {lost}"
        blank = {key: s for key, s in run.scores.items() if key[0] == "blank" and key[1:] in code_cells}
        assert blank and all(score == 0 for _, score, _ in blank.values())
        variant_scores = [s for key, s in run.scores.items() if key[0].startswith("v") and key[1:] in code_cells]
        assert any(score < max_score for _, score, max_score in variant_scores)


def test_the_skipped_run_skipped_every_demonstration_and_the_full_run_ran_them(graded):
    """In the skipped run, does every demonstration cell show only NOT_RUN with no execution count (unless the
    notebook was run entirely, with a demonstrations-run event), while the full run gave each a real run?"""
    skipped_cells = 0
    for key, nb in graded.skipped.notebooks.items():
        demos = graded.demos[key[1]]
        cells = [cell for cell in nb.cells if grade_id(cell) in demos]
        assert {grade_id(cell) for cell in cells} == demos, f"{key}: demonstration cells missing"
        ran_all = bool(events_of(nb, "demonstrations-run"))
        for cell in cells:
            if ran_all:
                assert cell.execution_count is not None and not is_not_run(cell), (key, grade_id(cell))
            else:
                assert is_not_run(cell), f"{key} {grade_id(cell)}: {cell.execution_count} {cell.outputs[:1]}"
                skipped_cells += 1
    assert skipped_cells > 0
    for key, nb in graded.full.notebooks.items():
        assert not events_of(nb, "demonstrations-run"), key
        for cell in nb.cells:
            if grade_id(cell) in graded.demos[key[1]]:
                # it ran (an execution count); demo_plotting, an import, prints nothing
                assert cell.execution_count is not None and (cell.outputs or grade_id(cell) == "demo_plotting"), \
                    (key, grade_id(cell))
                assert not any(o.get("text") == demonstrations.NOT_RUN for o in cell.outputs), key


def test_only_a_student_who_reads_a_demonstration_name_has_the_demonstrations_run(graded):
    """Which notebooks had their demonstrations run (a demonstrations-run event)? None of the reference or
    blank students', and the one whose own cell reads cost_exact."""
    ran = sorted(key for key, nb in graded.skipped.notebooks.items() if events_of(nb, "demonstrations-run"))
    print(f"\n[demonstrations] notebooks with a demonstrations-run event: {len(ran)} of "
          f"{len(graded.skipped.notebooks)}: {ran}")
    assert not [key for key in ran if key[0] in ("reference", "blank")]
    assert (BUILDER, "04_relu_dropout", "04_relu_dropout") in ran


def test_a_student_who_builds_on_a_demonstration_keeps_the_score_of_a_full_run(graded):
    """Does a student's cell that reads cost_exact (bound only by demo_train) get the demonstrations run,
    its own cell work, and full marks, as without skipping?"""
    key = (BUILDER, "04_relu_dropout", "04_relu_dropout")
    nb = graded.skipped.notebooks[key]
    [event] = events_of(nb, "demonstrations-run")
    assert "cost_exact" in event["detail"] and "demo_train" in event["detail"]
    assert not events.needs_attention("demonstrations-run")
    last = nb.cells[-1]
    assert last.source.strip() == BUILDER_CELL.strip()
    assert last.execution_count is not None
    assert not [o for o in last.outputs if o.output_type == "error"], last.outputs
    assert "final loss of the demonstration run" in "".join(o.get("text", "") for o in last.outputs)
    mine = {k: v for k, v in graded.skipped.scores.items() if k[:3] == key}
    assert mine == {k: v for k, v in graded.full.scores.items() if k[:3] == key}
    assert all(score == max_score for auto, score, max_score in mine.values() if auto is not None)


def test_a_tag_a_student_adds_to_a_test_cell_is_ignored(graded):
    """Does a student who tags the test cell demo-only (and a wrong answer) still have the test run and score 0,
    while the demonstrations, whose tags the student "removed" (there were none), are still skipped?"""
    key = (TAGGER, "04_relu_dropout", "04_relu_dropout")
    nb = graded.skipped.notebooks[key]
    test = cell_with_id(nb, "test_ReLU_dropout_gradient")
    assert test.execution_count is not None and not is_not_run(test)
    assert [o.ename for o in test.outputs if o.output_type == "error"] == ["AssertionError"]
    score = graded.skipped.scores[(*key, "test_ReLU_dropout_gradient")]
    assert score[0] == 0 and score[1] == 0 and score[2] > 0
    assert score == graded.full.scores[(*key, "test_ReLU_dropout_gradient")]
    assert not events_of(nb, "demonstrations-run")
    demos = [cell for cell in nb.cells if grade_id(cell) in graded.demos["04_relu_dropout"]]
    assert demos and all(is_not_run(cell) for cell in demos)
    assert not [grade_id(cell) for cell in nb.cells if TAG in cell.metadata.get("tags", [])]
