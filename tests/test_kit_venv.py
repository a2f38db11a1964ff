"""A student kit in a fresh virtual environment: only the kit installed, the release notebook run with nbclient.

The environment is made once for the module (``python -m venv``, no site packages of this one), with
ipykernel and nbclient to run notebooks, then each kit is installed into it (``pip install <kit>``). The
notebook is copied alone into an empty folder, so everything it imports comes from the installed kit:

* blank, it stops at the first answer's test, whose message says the answer still raises NotImplementedError;
* with the reference answers pasted into its answer cells, every visible test passes and prints exactly
  what the grader's visible check prints for those answers.
"""

import json
import os
import subprocess
import sys
import textwrap

import nbformat
import pytest

from autograder import checks
from autograder.kit import record, rules
from autograder.kit.build import build_kit

RELEASED = ["01_relu_network", "03_sigmoid_dropout"]
FIRST_TEST = {"01_relu_network": "test_ReLU", "02_softmax_comparison": "test_softmax_gradient",
              "03_sigmoid_dropout": "test_Dropout", "04_relu_dropout": "test_ReLU_dropout_gradient"}
#: Nothing of this repository or of its environment may leak into the fresh one.
CLEAN = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
CLEAN["PYTHONDONTWRITEBYTECODE"] = "1"

RUNNER = textwrap.dedent('''
    """Run a notebook copied alone into an empty folder; print what each graded cell printed or raised."""
    import json, pathlib, shutil, sys
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook, work, allow_errors = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3] == "1"
    work.mkdir(parents=True)
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "import autograder.checks, reludrop_core\\nprint(autograder.checks.__file__)\\nprint(reludrop_core.__file__)"))
    client = NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=allow_errors,
                            resources={"metadata": {"path": str(work)}})
    stopped = None
    try:
        client.execute()
    except CellExecutionError as error:
        stopped = str(error)
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
        errors = [[o["ename"], o["evalue"]] for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        cells.append({"id": cell.metadata.get("nbgrader", {}).get("grade_id"), "ran": cell.get("execution_count") is not None,
                      "text": text, "errors": errors})
    print(json.dumps({"stopped": stopped, "cells": cells}, ensure_ascii=False))
''')


def _pip(python, *args):
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *args],
                          capture_output=True, text=True, env=CLEAN, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """(python of a fresh venv with ipykernel and nbclient, the folder of the four kits)."""
    base = tmp_path_factory.mktemp("fresh")
    subprocess.run([sys.executable, "-m", "venv", str(base / "venv")], check=True, env=CLEAN, timeout=300)
    python = base / "venv" / ("Scripts" if os.name == "nt" else "bin") / "python"
    _pip(python, "ipykernel", "nbclient", "setuptools>=77")
    kits = {a: build_kit(a, base / "kits", RELEASED) for a in rules.ASSIGNMENTS}
    return python, kits, base


def _install(python, kit):
    """``kit`` alone in the fresh environment: any other kit uninstalled first (they share package names)."""
    others = [f"reludrop-kit-{a.replace('_', '-')}" for a in rules.ASSIGNMENTS]
    subprocess.run([str(python), "-m", "pip", "uninstall", "--quiet", "-y", *others], capture_output=True, env=CLEAN)
    _pip(python, "--no-build-isolation", str(kit))


def _run(python, notebook, work, allow_errors):
    """Run ``notebook`` in the fresh environment from the empty folder ``work``."""
    done = subprocess.run([str(python), "-c", RUNNER, str(notebook), str(work), "1" if allow_errors else "0"],
                          capture_output=True, text=True, env=CLEAN, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_the_fresh_environment_has_none_of_this_repository(env):
    """Before any kit is installed, can the fresh environment import neither reludrop_core nor autograder?"""
    python, _, _ = env
    for module in ("reludrop_core", "autograder", "nbgrader"):
        probe = subprocess.run([str(python), "-c", f"import {module}"], capture_output=True, env=CLEAN, cwd="/")
        assert probe.returncode != 0, f"{module} is importable in the fresh environment"


@pytest.fixture(scope="module")
def runs(env):
    """{assignment: (blank run, run with the reference answers)}, each kit installed alone for both."""
    python, kits, base = env
    out = {}
    for assignment in rules.ASSIGNMENTS:
        kit = kits[assignment]
        _install(python, kit)
        filled = _with_reference_answers(assignment, base / f"{assignment}-reference.ipynb")
        out[assignment] = (_run(python, kit / f"{assignment}.ipynb", base / "work" / f"blank-{assignment}", False),
                           _run(python, filled, base / "work" / f"reference-{assignment}", True))
    return out


@pytest.mark.parametrize("assignment", rules.ASSIGNMENTS)
def test_blank_release_stops_at_the_first_answers_test_saying_not_implemented(runs, assignment):
    """Run blank, does the notebook stop at the first answer's test, its message naming NotImplementedError, with
    every cell before it (imports, data, demonstrations) run without error?"""
    result = runs[assignment][0]
    assert result["stopped"] is not None
    ran = [c for c in result["cells"] if c["ran"]]
    assert ran[-1]["id"] == FIRST_TEST[assignment]
    assert all(not c["errors"] for c in ran[:-1])
    [(ename, evalue)] = ran[-1]["errors"]
    assert ename == "AssertionError"
    assert "NotImplementedError" in evalue and "diagnosis code: not_implemented" in evalue


def _with_reference_answers(assignment, target):
    """The release notebook with each answer cell replaced by the solution cell's code (markers dropped)."""
    source = nbformat.read(rules.source_notebook(assignment), as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
               if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"}
    nb = nbformat.read(rules.release_notebook(assignment), as_version=4)
    filled = 0
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and grade_id in answers:
            cell.source = "\n".join(line for line in answers[grade_id].splitlines()
                                    if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line)
            filled += 1
    assert filled == len(answers)
    nbformat.write(nb, target)
    return target


@pytest.mark.parametrize("assignment", rules.ASSIGNMENTS)
def test_reference_answers_pass_every_visible_test_with_the_graders_messages(env, runs, assignment):
    """With the reference answers pasted in, does every cell run, and does each test cell print exactly the grader's
    visible message for those answers, from the installed kit (not this repository)?"""
    python = env[0]
    result = runs[assignment][1]
    assert result["stopped"] is None
    assert all(not c["errors"] for c in result["cells"]), [c for c in result["cells"] if c["errors"]][:1]
    printed = {c["id"]: c["text"] for c in result["cells"] if c["id"] and c["id"].startswith("test_")}
    expected = {}
    for name, options in record.visible_calls(assignment):
        _, fn, ns = record.implementations(assignment, name, options)[0]
        expected[f"test_{name}"] = getattr(checks, f"check_{name}")(fn, ns, **options) + "\n"
    assert printed == expected
    files = result["cells"][-1]["text"].splitlines()
    assert all("site-packages" in f and str(python.parent.parent) in f for f in files), files
