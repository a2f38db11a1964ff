"""Tests for autograder.kit.package: the student package, reludrop_core cut down to what a notebook imports."""

import ast
import json
import subprocess
import sys

import pytest

from autograder.kit import package, rules

A01, A02, A03, A04 = rules.ASSIGNMENTS

#: Run (without writing bytecode) in a child with only the kit folder, the standard library and site-packages
#: on sys.path, and the repository's editable install switched off: the kit's reludrop_core is the only one.
CHILD = r"""
import importlib, json, site, sys
kit, names = sys.argv[1], json.loads(sys.argv[2])
stdlib = [p for p in sys.path if p.startswith(sys.base_prefix) and "site-packages" not in p]
sys.path[:] = [kit] + stdlib + site.getsitepackages()
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in getattr(f, "__module__", "")]
core = importlib.import_module("reludrop_core")
missing = [n for n in names if not hasattr(core, n)]
X, Y, labels = core.load_digits()
loaded = {m: getattr(mod, "__file__", None) for m, mod in sys.modules.items() if m.split(".")[0] == "reludrop_core"}
print(json.dumps({"file": core.__file__, "all": core.__all__, "missing": missing, "loaded": loaded,
                  "X": list(X.shape), "labels": labels.tolist()}))
"""


def notebook(tmp_path, *sources):
    """Write a notebook with these code cells (and one markdown cell) and return its path."""
    cells = [{"cell_type": "markdown", "metadata": {}, "source": "from reludrop_core import not_code"}]
    cells += [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": s}
              for s in sources]
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def defined_names(folder):
    """Every function and class name defined anywhere in the .py files under ``folder``."""
    names = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
    return names


def kit_names(assignment):
    """The names the release notebook imports, less handout_cost: notebook 01 stops importing it (a forward pass)."""
    return [n for n in package.imported_names(rules.release_notebook(assignment)) if n != "handout_cost"]


@pytest.mark.parametrize("assignment", rules.ASSIGNMENTS)
def test_each_assignments_package_imports_on_its_own(tmp_path, assignment):
    """With every earlier assignment released, does the package import alone, export every name and hold
    none of the forbidden core functions?"""
    released = rules.ASSIGNMENTS[:rules.ASSIGNMENTS.index(assignment)]
    forbidden_core = rules.forbidden_core(assignment, released)
    names = kit_names(assignment)
    written = package.write_package(tmp_path, names, forbidden_core)
    assert written == sorted(set(names))

    run = subprocess.run([sys.executable, "-I", "-B", "-c", CHILD, str(tmp_path), json.dumps(names)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    child = json.loads(run.stdout)
    assert child["file"] == str(tmp_path / "reludrop_core" / "__init__.py")
    assert all(f.startswith(str(tmp_path)) for f in child["loaded"].values()), child["loaded"]
    assert child["missing"] == [] and child["all"] == written
    assert child["X"] == [5, 25] and child["labels"] == [1, 2, 3, 4, 5]
    assert not defined_names(tmp_path) & forbidden_core
    assert {p.name for p in (tmp_path / "reludrop_core").iterdir()} <= {f"{m}.py" for m in package.MODULES} | {
        "__init__.py"}


def test_a_graded_name_names_its_assignment(tmp_path):
    """Is asking for forward_propagate with 01 unreleased a KitError that names 01_relu_network, and is
    nothing written?"""
    with pytest.raises(rules.KitError) as excinfo:
        package.write_package(tmp_path, ["forward_propagate", "load_digits"], rules.forbidden_core(A01, []))
    assert "forward_propagate" in str(excinfo.value) and A01 in str(excinfo.value)
    assert "released_solutions" in str(excinfo.value) and "--released" in str(excinfo.value)
    assert not (tmp_path / "reludrop_core").exists()


def test_handout_cost_needs_the_forward_pass(tmp_path):
    """Is handout_cost refused in 01's kit, the message naming _propagate, 01 and the path between them?"""
    with pytest.raises(rules.KitError) as excinfo:
        package.write_package(tmp_path, kit_names(A01) + ["handout_cost"], rules.forbidden_core(A01, []))
    text = str(excinfo.value)
    assert "handout_cost -> _propagate" in text and A01 in text
    zh, en = text.split("\nA student package")
    assert "学生包" in zh and "需要" in zh and "needs _propagate" in en


#: A small stand-in for reludrop_core, for what the real one does not (or no longer) do.
FAKE_CORE = {
    "__init__.py": "from .network import helper, lazy, plain\n",
    "_checks.py": 'import numpy as np\n\n\ndef message(zh, en):\n    return zh + "\\n" + en\n\n\n'
                  "def unused():\n    return np.zeros(1)\n",
    "network.py": "from . import _checks\nfrom ._checks import message\n\n\ndef plain(x):\n    return x\n\n\n"
                  'def helper(x):\n    return _checks.message("a", "b")\n\n\n'
                  "def lazy(x, ratio):\n    if ratio > 0:\n        from .dropout import _dropout\n\n"
                  "        return _dropout(x)\n    return message(x, x)\n",
    "dropout.py": "def _dropout(x):\n    # the answer\n    return x * 0\n",
}


@pytest.fixture
def fake_core(tmp_path, monkeypatch):
    core = tmp_path / "core"
    core.mkdir()
    for name in package.MODULES:
        (core / f"{name}.py").write_text(FAKE_CORE.get(f"{name}.py", f'"""{name}."""\n'))
    (core / "__init__.py").write_text(FAKE_CORE["__init__.py"])
    monkeypatch.setattr(package, "CORE", core)
    return tmp_path / "kit"


def test_an_import_inside_a_function_counts(fake_core):
    """Does a function that imports a forbidden function inside its body (for one branch) need it too?"""
    with pytest.raises(rules.KitError) as excinfo:
        package.write_package(fake_core, ["lazy"], {"_dropout"})
    assert "lazy -> _dropout" in str(excinfo.value) and A03 in str(excinfo.value)
    package.write_package(fake_core, ["lazy"], set())
    assert "# the answer" in (fake_core / "reludrop_core" / "dropout.py").read_text()


def test_a_module_attribute_needs_only_that_function(fake_core):
    """Does _checks.message keep message and not the rest of _checks, and is an import nothing uses dropped?"""
    assert package.write_package(fake_core, ["helper"], {"_dropout", "unused"}) == ["helper"]
    folder = fake_core / "reludrop_core"
    assert sorted(p.name for p in folder.iterdir()) == ["__init__.py", "_checks.py", "network.py"]
    assert "def unused" not in (folder / "_checks.py").read_text()
    network = (folder / "network.py").read_text()
    assert network == 'from . import _checks\n\n\ndef helper(x):\n    return _checks.message("a", "b")\n'


def test_kept_code_is_verbatim_and_imports_are_pruned(tmp_path):
    """For load_digits alone: are data.py's comments kept, noisy_digits cut, the sibling import pruned, and
    only _checks, data and __init__ written?"""
    assert package.write_package(tmp_path, ["load_digits"], set()) == ["load_digits"]
    folder = tmp_path / "reludrop_core"
    assert sorted(p.name for p in folder.iterdir()) == ["__init__.py", "_checks.py", "data.py"]
    data = (folder / "data.py").read_text(encoding="utf-8")
    original = (package.CORE / "data.py").read_text(encoding="utf-8")
    load = original[original.index("def load_digits"):original.index("def noisy_digits")].rstrip()
    assert load in data and "# The digits 1-5, row by row (1 = ink)." in data
    assert "noisy_digits" not in data and "from ._checks import as_float, message\n" in data
    assert "\n\n\n\n" not in data
    checks = (folder / "_checks.py").read_text(encoding="utf-8")
    assert "def as_float" in checks and "def message" in checks and "def as_thetas" not in checks
    init = ast.parse((folder / "__init__.py").read_text(encoding="utf-8"))
    assert "学生包" in ast.get_docstring(init) and "load_digits" in ast.get_docstring(init)
    assert ast.literal_eval(init.body[-1].value) == ["load_digits"]


def test_imported_names_reads_code_cells_only(tmp_path):
    """Are the names of from reludrop_core import ... collected once each, in order, IPython lines skipped
    and markdown ignored?"""
    path = notebook(tmp_path, "%matplotlib inline\nimport numpy as np\nfrom reludrop_core import (\n    b, a,\n)",
                    "!ls\nfrom reludrop_core import a, c as d\nfrom os import path")
    assert package.imported_names(path) == ["b", "a", "c"]


@pytest.mark.parametrize("source", ["from reludrop_core import *", "import reludrop_core",
                                    "from reludrop_core.network import backprop", "def broken(:"])
def test_imports_a_package_cannot_serve_are_refused(tmp_path, source):
    """Is a star import, a plain or submodule import, or a cell that does not parse a bilingual KitError?"""
    with pytest.raises(rules.KitError) as excinfo:
        package.imported_names(notebook(tmp_path, source))
    assert "单元格" in str(excinfo.value) and "cell 1" in str(excinfo.value)


def test_unknown_names_and_existing_folders_are_refused(tmp_path):
    """Is a name reludrop_core does not export refused, and so is writing over an existing package?"""
    with pytest.raises(rules.KitError, match="_propagate"):
        package.write_package(tmp_path, ["_propagate"], set())
    (tmp_path / "reludrop_core").mkdir()
    with pytest.raises(rules.KitError, match="already exists"):
        package.write_package(tmp_path, ["load_digits"], set())
