"""A class of students made from the variant catalogue, graded through nbgrader: helpers shared by test modules.

A variant of ``autograder/variants`` becomes the answer cell a student would write (its globals, the helpers and
base functions it calls that the notebook does not define, then the function); ``filled`` puts answers into
the release; ``grade`` runs the course's own pipeline (``python -m autograder autograde --all --jobs 2``, in
the sandbox); ``scores`` and ``autograded`` read back what nbgrader recorded.

Not a test module: ``test_demonstrations`` and ``test_fair_grades`` import it, and so does
``benchmarks/catalogue_grades.py``.
"""

import ast
import collections
import inspect
import os
import pathlib
import subprocess
import sys
import textwrap
import time
import types

import nbformat
import numpy as np

from autograder.batch import samples
from autograder.demonstrations import analyse
from nbgrader.api import Gradebook

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = pathlib.Path(sys.executable).parent
ENV = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
ENV.pop("RELUDROP_DB_URL", None)      # the scratch courses grade into their own sqlite gradebook
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir() if (p / f"{p.name}.ipynb").is_file())


def source_notebook(assignment, root=ROOT):
    return nbformat.read(pathlib.Path(root) / "solutions" / assignment / f"{assignment}.ipynb", as_version=4)


def meta(cell):
    return cell.metadata.get("nbgrader", {})


def grade_id(cell):
    return meta(cell).get("grade_id")


def function_source(fn):
    """A variant's source as a student would write it: no registration decorators, at module level."""
    lines = textwrap.dedent(inspect.getsource(fn)).rstrip().split("\n")
    while lines and lines[0].lstrip().startswith("@"):
        lines.pop(0)
    assert lines and lines[0].startswith("def "), lines[:1]
    return "\n".join(lines) + "\n"


def env_source(name, value):
    """A line of source that binds ``name`` to ``value`` as the variant's namespace has it."""
    if isinstance(value, types.ModuleType):
        return f"import {value.__name__}" if name == value.__name__ else f"import {value.__name__} as {name}"
    if isinstance(value, types.FunctionType) and value.__name__ == name:
        return f"from {value.__module__} import {name}"
    if isinstance(value, np.random.Generator):
        # The Generator itself cannot be written as source: a new one from the same seed (its entropy).
        return f"{name} = np.random.default_rng({value.bit_generator.seed_seq.entropy!r})"
    assert eval(repr(value)) == value, f"{name}: {value!r} cannot be written as source"
    return f"{name} = {value!r}"


def global_names(source):
    """The global names a cell's code loads, its functions' bodies included."""
    names = analyse(source)
    return names.reads.union(*(reads for reads, _ in names.functions.values()))


def defined_names(source_nb, skipped=()):
    """The names the notebook's running cells bind (the cells whose grade ids are in ``skipped`` do not run)."""
    defined = set()
    for cell in source_nb.cells:
        if cell.cell_type == "code" and grade_id(cell) not in skipped:
            defined |= analyse(cell.source).writes
    return defined


def variant_source(variant, defined):
    """The answer cell of a student who wrote ``variant``: its globals, helpers and the base functions it calls
    that the notebook (``defined``) does not define, then the function."""
    provided = set(defined) | set(variant.env) | {f.__name__ for f in variant.helpers} | {variant.fn.__name__}
    base = {f.__name__: f for f in variant.base()}
    needed, todo = [], [function_source(f) for f in (*variant.helpers, variant.fn)]
    while todo:
        for name in sorted(global_names(todo.pop())):
            if name in base and name not in provided and name not in needed:
                needed.append(name)
                todo.append(function_source(base[name]))
    # A global the notebook binds itself (notebook 04 imports ReLU from the core) is the notebook's.
    parts = [env_source(name, value) for name, value in variant.env.items() if name not in defined]
    parts += [function_source(base[name]) for name in needed]
    parts += [function_source(f) for f in variant.helpers] + [function_source(variant.fn)]
    return "\n\n".join(part.rstrip() for part in parts) + "\n"


def answer_cells(nb):
    return [grade_id(cell) for cell in nb.cells if cell.cell_type == "code" and meta(cell).get("solution")]


def catalogue_for(assignment, catalogue, root=ROOT):
    """{answer cell: [variants]} of one notebook: every variant whose function is an answer cell there;
    backprop with a Dropout ratio goes to 03, the others to 01."""
    answers = answer_cells(source_notebook(assignment, root))
    placed = collections.defaultdict(list)
    for variant in catalogue:
        name = variant.fn.__name__
        if name not in answers:
            continue
        if name == "backprop" and assignment != ("03_sigmoid_dropout" if "ratio" in variant.options
                                                 else "01_relu_network"):
            continue
        placed[name].append(variant)
    return dict(placed)


def check_calls(nb):
    """{test cell grade id: (check name, keyword options, seed)} read from each test cell's hidden call,
    e.g. ``checks.check_backprop(backprop, globals(), activation="sigmoid", ratio=0.2, hidden=True, seed=9)``.
    A test cell without a ``checks.check_*`` call is left out."""
    calls = {}
    for cell in nb.cells:
        if cell.cell_type != "code" or not meta(cell).get("grade") or meta(cell).get("solution"):
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr.startswith("check_")
                    and any(k.arg == "hidden" for k in node.keywords)):
                options = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
                seed = options.pop("seed")
                options.pop("hidden")
                calls[grade_id(cell)] = (node.func.attr, options, seed)
    return calls


def filled(release, answers, written=samples.WRITTEN):
    """The release with every answer cell set from ``answers`` (code) or ``written`` (markdown)."""
    nb = nbformat.from_dict(release)
    for cell in nb.cells:
        if meta(cell).get("solution") and cell.cell_type == "code":
            cell.source = answers[grade_id(cell)]
        elif meta(cell).get("solution") and cell.cell_type == "markdown":
            cell.source = written
    return nb


def submit(course, student, assignment, nb):
    """Write ``nb`` as ``student``'s submission of ``assignment`` (its one notebook)."""
    [notebook] = course.notebooks(assignment)
    folder = course.path("submitted", student, assignment)
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / f"{notebook}.ipynb")


def scores(root):
    """{(student, assignment, notebook, cell): (auto score, score, max score)} of a course's gradebook."""
    out = {}
    with Gradebook(f"sqlite:///{root}/gradebook.db", "reludrop") as gb:
        for assignment in gb.assignments:
            for submission in assignment.submissions:
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        key = (submission.student.id, assignment.name, notebook.name, grade.name)
                        auto = None if grade.auto_score is None else float(grade.auto_score)
                        out[key] = (auto, float(grade.score), float(grade.max_score))
    return out


def autograded(root):
    """{(student, assignment, notebook): the autograded notebook} of a graded course."""
    out = {}
    for path in sorted((pathlib.Path(root) / "autograded").glob("*/*/*.ipynb")):
        out[(path.parent.parent.name, path.parent.name, path.stem)] = nbformat.read(path, as_version=4)
    return out


def grade(root, jobs=2, timeout=1800):
    """``python -m autograder --course ROOT autograde --all --jobs N`` (the sandbox on): the run and its wall time."""
    start = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "autograder", "--course", str(root), "autograde", "--all",
                          "--jobs", str(jobs)], cwd=root, env=ENV, capture_output=True, text=True, timeout=timeout)
    return run, time.monotonic() - start


#: For a buggy function, the graded functions downstream of it in the same notebook (they call it by name,
#: or its old test cell handed it to them): the pairwise cases pair a buggy one with a correct one of these.
DOWNSTREAM = {
    "ReLU": ("backprop", "train"), "ReLU_gradient": ("backprop", "train"),
    "sigmoid": ("sigmoid_gradient", "backprop"), "sigmoid_gradient": ("backprop", "train"),
    "softmax": ("forward_propagate", "cost_fcn"), "forward_propagate": ("cost_fcn", "backprop", "train"),
    "cost_fcn": ("backprop", "train"), "backprop": ("train",),
    "Dropout": ("forward_propagate_dropout", "backprop"), "forward_propagate_dropout": ("backprop",),
}


class Student:
    """One student of a catalogue class: which variant sits in which answer cell (reference answers elsewhere).

    Attributes
    ----------
    id : str, the nbgrader student id
    assignment : str
    variants : dict answer cell -> Variant (empty for the reference student)
    kind : "reference", "variant" (one variant) or "pair" (a buggy function and a correct one downstream)
    """

    def __init__(self, id, assignment, variants, kind):
        self.id, self.assignment, self.variants, self.kind = id, assignment, dict(variants), kind

    def describe(self):
        return ", ".join(v.id for v in self.variants.values()) or "the reference answers"


def pairs(placed):
    """[(buggy upstream variant, correct downstream variant)]: every buggy variant of a function with a
    downstream function in the notebook, each with a correct variant of one of them, preferring one that
    calls the buggy function by name (rotating through the downstream functions and their variants)."""
    out, turn = [], collections.Counter()
    for name, cell_variants in placed.items():
        downstream = [d for d in DOWNSTREAM.get(name, ()) if any(v.expect is None for v in placed.get(d, ()))]
        for k, variant in enumerate(v for v in cell_variants if v.expect is not None):
            if not downstream:
                continue
            d = downstream[k % len(downstream)]
            correct = [v for v in placed[d] if v.expect is None]
            calling = [v for v in correct if name in global_names(function_source(v.fn))] or correct
            out.append((variant, calling[turn[d] % len(calling)]))
            turn[d] += 1
    return out


def catalogue_class(course, catalogue, pairwise=True, root=ROOT, assignments=ASSIGNMENTS):
    """Submit the catalogue as a class: per assignment a reference student, one student per variant (in its
    answer cell, reference answers everywhere else) and, with ``pairwise``, one per (buggy upstream, correct
    downstream) pair. Returns [Student]."""
    students = []
    for assignment in assignments:
        source = source_notebook(assignment, root)
        defined = defined_names(source)
        [notebook] = course.notebooks(assignment)
        release = samples.release_notebook(course, assignment, notebook)
        reference = samples.solution_answers(course, assignment, notebook)
        placed = catalogue_for(assignment, catalogue, root)
        made = [Student(f"ref{assignment[:2]}", assignment, {}, "reference")]
        made += [Student(f"v{assignment[:2]}_{k:03d}", assignment, {v.fn.__name__: v}, "variant")
                 for k, v in enumerate(v for cell_variants in placed.values() for v in cell_variants)]
        if pairwise:
            made += [Student(f"p{assignment[:2]}_{k:03d}", assignment,
                             {up.fn.__name__: up, down.fn.__name__: down}, "pair")
                     for k, (up, down) in enumerate(pairs(placed))]
        for student in made:
            answers = dict(reference)
            answers.update({cell: variant_source(v, defined) for cell, v in student.variants.items()})
            submit(course, student.id, assignment, filled(release, answers))
        students += made
    return students
