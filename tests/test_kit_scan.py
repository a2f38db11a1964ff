"""Tests for autograder.kit.scan: the scan that every kit passes, on small kits built in tmp_path."""

import inspect
import io
import json
import shutil
import tarfile
import zipfile

import pytest

import reludrop_core.activations
from autograder.kit import package, rules, scan

A01 = rules.ASSIGNMENTS[0]
FORBIDDEN = rules.forbidden(A01, [])
SEED = 604251                         # the seed of 01's hidden ReLU tests

STUB = 'def ReLU(z):\n    """ReLU 激活函数。"""\n    # YOUR CODE HERE\n    raise NotImplementedError()\n'


@pytest.fixture(scope="module")
def references():
    return scan.reference_functions(FORBIDDEN, rules.forbidden_core(A01, []))


def notebook(*cells):
    """A notebook's JSON text; each cell is ("code" or "markdown", source)."""
    return json.dumps({"cells": [{"cell_type": kind, "metadata": {}, "source": source,
                                  **({"outputs": [], "execution_count": None} if kind == "code" else {})}
                                 for kind, source in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def zipped(files):
    """The bytes of a zip holding {name: str or bytes}."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def clean_kit(folder):
    """A kit with nothing wrong in it: a README, a notebook with a stub, a helper, an image, data, a zip."""
    (folder / "data").mkdir(parents=True)
    (folder / "README.md").write_text("# 学生套件 / student kit\n\nRun `jupyter lab` and open the notebook.\n")
    (folder / "01.ipynb").write_text(notebook(("markdown", "## ReLU"), ("code", STUB),
                                              ("code", "%matplotlib inline\nprint(check_ReLU(ReLU))")))
    (folder / "helpers.py").write_text("import numpy as np\n\n\ndef show(x):\n    return np.round(x, 3)\n")
    (folder / "data" / "cases.json").write_text(json.dumps({"seed": 1, "z": [[1.0, -2.0]]}))
    (folder / "figure.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (folder / "kit.zip").write_bytes(zipped({"kit/README.md": "hello", "kit/stub.py": STUB}))
    return folder


def problems(folder, references, secrets=(SEED,)):
    return scan.scan(folder, FORBIDDEN, references, secrets)


def test_a_clean_kit_passes(tmp_path, references):
    """Does a kit with a stub, an image, data and a zip in it pass with no problem at all?"""
    assert problems(clean_kit(tmp_path), references) == []


def test_a_renamed_copy_of_the_core_is_caught(tmp_path, references):
    """Is my_relu, the core's ReLU code under another name and argument, reported as the core's ReLU?"""
    assert 'return np.maximum(as_float("z", z), 0.0)' in inspect.getsource(reludrop_core.activations.ReLU)
    (tmp_path / "mine.py").write_text('from numpy import *\n\n\ndef my_relu(x):\n    """Mine."""\n'
                                      '    return np.maximum(as_float("z", x), 0.0)\n')
    found = problems(tmp_path, references)
    assert len(found) == 1
    assert found[0].startswith("mine.py: 第 4 行")
    assert "line 4: my_relu implements ReLU (same code as reludrop_core/activations.py:ReLU)" in found[0]


def test_renamed_locals_do_not_hide_a_copy_but_other_constants_differ(tmp_path, references):
    """Is the core's _softmax with its variables renamed caught, and the same code over axis 0 not?"""
    copy = "def f(scores):\n    t = scores - scores.max(axis=1, keepdims=True)\n    np.exp(t, out=t)\n" \
           "    t /= t.sum(axis=1, keepdims=True)\n    return t\n"
    (tmp_path / "a.py").write_text(copy)
    (tmp_path / "b.py").write_text(copy.replace("axis=1", "axis=0"))
    assert [p.split(" / ")[-1] for p in problems(tmp_path, references)] == [
        "line 1: f implements _softmax (same code as reludrop_core/activations.py:_softmax)"]


def test_a_forbidden_function_in_a_notebook_is_caught(tmp_path, references):
    """Is a code cell that defines the forbidden ReLU with a body of its own reported, with its cell and line?"""
    (tmp_path / "nb.ipynb").write_text(notebook(("markdown", "# x"), ("code", "import numpy as np\n\n"
                                                                     "def ReLU(z):\n    return np.where(z > 0, z, 0)\n")))
    assert problems(tmp_path, references) == [
        "nb.ipynb: 第 1 个单元格第 3 行：定义了 ReLU，而本套件中它只能是空壳（文档字符串、pass、... 或 "
        "raise NotImplementedError()） / cell 1, line 3: defines ReLU with a body, where this kit may only hold "
        "a stub (docstring, pass, ... or raise NotImplementedError())"]


@pytest.mark.parametrize("body", ["raise NotImplementedError()", "raise NotImplementedError", "pass", "...",
                                  'raise NotImplementedError("写你的代码 / your code here")'])
def test_stubs_pass(tmp_path, references, body):
    """Does a stub of a forbidden function (docstring, comment and pass, ... or raise) pass, in .py and notebook?"""
    source = f'def ReLU(z):\n    """doc"""\n    # YOUR CODE HERE\n    {body}\n'
    (tmp_path / "stub.py").write_text(source)
    (tmp_path / "stub.ipynb").write_text(notebook(("code", source)))
    assert problems(tmp_path, references) == []


def test_a_lambda_counts_as_a_definition(tmp_path, references):
    """Is ReLU = lambda z: ... reported like a def of ReLU?"""
    (tmp_path / "l.py").write_text("import numpy as np\nReLU = lambda z: np.maximum(z, 0)\n")
    assert ["defines ReLU with a body" in p for p in problems(tmp_path, references)] == [True]


@pytest.mark.parametrize("name", ["x.pyc", "ext.so", "lib.dll", "__pycache__/x.cpython-311.pyc"])
def test_compiled_files_are_caught(tmp_path, references, name):
    """Is a compiled module or binary library (or a __pycache__ folder) reported, whatever it holds?"""
    (tmp_path / name).parent.mkdir(exist_ok=True)
    (tmp_path / name).write_bytes(b"\x00\x01compiled")
    assert [p.split(":")[0] for p in problems(tmp_path, references)] == [name.split("/")[0]]
    assert "compiled module" in problems(tmp_path, references)[0]


def test_other_binaries_and_fake_images_are_caught(tmp_path, references):
    """Is a file that is not UTF-8 text reported, and so is a .png that is not a PNG?"""
    (tmp_path / "blob.dat").write_bytes(b"\xff\xfe\x00\x81")
    (tmp_path / "fake.png").write_text("def ReLU(z): return z")
    assert [p.split(" / ")[-1] for p in problems(tmp_path, references)] == [
        "not UTF-8 text, an image or an archive, so it cannot be verified", "named .png but not an image of that kind"]


def test_a_solution_marker_inside_a_zip_is_caught(tmp_path, references):
    """Is ### BEGIN SOLUTION in a file inside a zip reported with the path inside the zip?"""
    (tmp_path / "kit.zip").write_bytes(zipped({"kit/notes.py": "x = 1\n### BEGIN SOLUTION\n### END SOLUTION\n"}))
    found = problems(tmp_path, references)
    assert [p.split(": ")[0] for p in found] == ["kit.zip!kit/notes.py"] * 2
    assert "'BEGIN SOLUTION'" in found[0] and "'END SOLUTION'" in found[1]


def test_nested_archives_are_opened(tmp_path, references):
    """Are a zip inside a zip and a solutions/ folder inside a .tar.gz looked into, each area reported once?"""
    inner = zipped({"deep/answer.py": "def my_relu(x):\n    return np.maximum(as_float('z', x), 0.0)\n"})
    (tmp_path / "outer.zip").write_bytes(zipped({"inner.zip": inner}))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name in ("solutions/01/01.ipynb", "solutions/01/other.txt"):
            info = tarfile.TarInfo(name)
            info.size = 2
            archive.addfile(info, io.BytesIO(b"{}"))
    (tmp_path / "old.tar.gz").write_bytes(buffer.getvalue())
    found = problems(tmp_path, references)
    assert [p.split(": ")[0] for p in found] == ["old.tar.gz!solutions", "outer.zip!inner.zip!deep/answer.py"]
    assert "my_relu implements ReLU" in found[1]


def test_a_broken_archive_is_caught(tmp_path, references):
    """Is a .zip that is not a zip reported as unreadable rather than skipped?"""
    (tmp_path / "kit.zip").write_bytes(b"PK\x03\x04 not really")
    assert "cannot be read as an archive" in problems(tmp_path, references)[0]


@pytest.mark.parametrize("name", ["gradebook.db", "marks.sqlite", "nbgrader_config.py"])
def test_instructor_files_are_caught(tmp_path, references, name):
    """Is a gradebook, any database or nbgrader's settings file reported?"""
    (tmp_path / name).write_text("c = get_config()\n")
    assert [p.split(": ")[0] for p in problems(tmp_path, references)] == [name]
    assert "instructor's file" in problems(tmp_path, references)[0]


@pytest.mark.parametrize("area", ["solutions", "source", "autograded", "submitted", "feedback"])
def test_instructor_folders_are_caught_once(tmp_path, references, area):
    """Is an instructor area reported once as a folder, without a line for each file in it?"""
    (tmp_path / "course" / area / "01").mkdir(parents=True)
    (tmp_path / "course" / area / "01" / "01.ipynb").write_text(notebook(("code", STUB)))
    assert problems(tmp_path, references) == [
        f"course/{area}: 教师区（{area}） / the instructor's area ({area})"]


def test_hidden_seeds_are_caught(tmp_path, references):
    """Are seed=604251 in any text and the literal 604251 in code reported, and other numbers not?"""
    (tmp_path / "notes.md").write_text("the hidden tests use seed = 604251\n")
    (tmp_path / "cases.json").write_text(json.dumps({"seed": SEED}))
    (tmp_path / "run.py").write_text("SEEDS = [604251, 6042510, 1]\n")
    found = problems(tmp_path, references)
    assert [p.split(": ")[0] for p in found] == ["cases.json", "notes.md", "run.py"]
    assert "seed=604251" in found[0] and "line 1: holds the hidden tests' seed 604251" in found[2]
    assert problems(tmp_path, references, secrets=()) == []


def test_a_file_that_does_not_parse_is_caught(tmp_path, references):
    """Is a .py file (or a notebook cell) that does not parse reported, since it cannot be verified?"""
    (tmp_path / "broken.py").write_text("def ReLU(z:\n    return z\n")
    (tmp_path / "broken.ipynb").write_text(notebook(("code", "for\n")))
    (tmp_path / "nul.ipynb").write_text(notebook(("code", "x = 1\x00")))
    (tmp_path / "not_a_notebook.ipynb").write_text("{")
    found = {p.split(": ")[0]: p.split(" / ")[-1] for p in problems(tmp_path, references)}
    assert sorted(found) == ["broken.ipynb", "broken.py", "not_a_notebook.ipynb", "nul.ipynb"]
    assert found["broken.ipynb"].startswith("cell 0: cannot be parsed as Python")
    assert found["broken.py"].startswith("cannot be parsed as Python") and "(line 1)" in found["broken.py"]
    assert found["nul.ipynb"].startswith("cell 0: cannot be parsed as Python")
    assert found["not_a_notebook.ipynb"].startswith("cannot be read as a notebook")


def test_markers_hidden_by_json_escapes_are_caught(tmp_path, references):
    """Is a marker written as a JSON escape (\\u0042EGIN SOLUTION) in a notebook still found?"""
    (tmp_path / "nb.ipynb").write_text(notebook(("markdown", "x")).replace('"x"', '"\\u0042EGIN SOLUTION"'))
    assert "BEGIN SOLUTION" not in (tmp_path / "nb.ipynb").read_text()
    assert ["'BEGIN SOLUTION'" in p for p in problems(tmp_path, references)] == [True]


def test_solutions_and_trusted_are_not_referred_to(tmp_path, references):
    """Is code that imports from solutions or names the grader's _trusted reported?"""
    (tmp_path / "a.py").write_text("from solutions.x import ReLU\n")
    (tmp_path / "b.py").write_text("import importlib\nt = importlib.import_module('autograder.checks._trusted')\n")
    (tmp_path / "c.ipynb").write_text(notebook(("code", "from autograder.checks import _trusted")))
    assert [p.split(" / ")[-1] for p in problems(tmp_path, references)] == [
        "line 1: imports from solutions", "line 2: refers to the grader's _trusted",
        "cell 0, line 1: refers to the grader's _trusted"]


def test_a_symbolic_link_is_caught(tmp_path, references):
    """Is a link (which a zip of the kit would follow) reported instead of read?"""
    (tmp_path / "kit").mkdir()
    (tmp_path / "kit" / "answers.ipynb").symlink_to(rules.source_notebook(A01))
    assert problems(tmp_path / "kit", references) == [
        "answers.ipynb: 符号链接 / a symbolic link: a kit holds real files only"]


def test_references_cover_core_trusted_and_solutions(references):
    """Do the references hold the forbidden core functions, all of _trusted and the solutions' own defs?"""
    labels = [label for label, _ in references]
    assert "reludrop_core/activations.py:ReLU" in labels and "reludrop_core/network.py:_propagate" in labels
    assert "autograder/checks/_trusted.py:FrozenDropout" in labels
    assert f"solutions/{A01}/{A01}.ipynb cell 7:ReLU" in labels
    assert not any(label.endswith(":layer_index") for label in labels)
    solution = dict(references)[f"solutions/{A01}/{A01}.ipynb cell 7:ReLU"]
    assert solution.startswith("def ReLU(z):") and "np.maximum" in solution


@pytest.mark.parametrize("assignment", rules.ASSIGNMENTS)
def test_a_written_package_and_its_notebook_pass(tmp_path, assignment):
    """Do a release notebook and its student package (every earlier assignment released) pass the scan?"""
    released = rules.ASSIGNMENTS[:rules.ASSIGNMENTS.index(assignment)]
    names = [n for n in package.imported_names(rules.release_notebook(assignment)) if n != "handout_cost"]
    package.write_package(tmp_path, names, rules.forbidden_core(assignment, released))
    shutil.copy(rules.release_notebook(assignment), tmp_path)
    forbidden = rules.forbidden(assignment, released)
    references = scan.reference_functions(forbidden, rules.forbidden_core(assignment, released))
    assert scan.scan(tmp_path, forbidden, references) == []
