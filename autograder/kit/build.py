"""One student kit: what a student receives for one assignment, ready to zip, to put in nbgrader's exchange
or to install (``pip install .``).

``build_kit(assignment, to)`` writes ``to/<assignment>/`` and ``to/<assignment>.zip``::

    <assignment>.ipynb     nbgrader's release notebook (notebooks/<assignment>/)
    reludrop_core/         the student package: data, plots, gradient-check utilities, parameter plumbing,
                           and the functions of earlier assignments whose solutions are released (package.py)
    autograder/checks/     the visible checks: they judge against visible_cases.json (record.py, runtime/)
    start_lab.py           JupyterLab in student mode, Chinese interface by default
    student_mode/          its settings (a copy of the course's student_mode/)
    README.md              for the student, Chinese first
    pyproject.toml, environment.yml    pip install ".[lab]" or conda env create -f environment.yml
    kit.json               what was built: assignment, released solutions, the files

The kit is built in a scratch folder and scanned (scan.py) before it is moved into place: a kit that
would hold an answer, a hidden test, a seed or an instructor file is never written.
"""

import json
import pathlib
import re
import shutil
import string
import tempfile
import zipfile

from . import package, record, rules, scan
from .rules import KitError

HERE = pathlib.Path(__file__).resolve().parent
CHECKS = HERE.parent / "checks"
#: The grader's modules the kit's visible checks use as they are: they need no reference.
SHARED = ("_messages.py", "_compare.py", "_errors.py", "_dropout_masks.py", "_sandbox.py")
RUNTIME = HERE / "runtime"
TEMPLATES = HERE / "templates"
MANIFEST = "kit.json"

_SEED = re.compile(r"\bseed\s*=\s*(\d+)")


def hidden_seeds(assignment, root=rules.ROOT):
    """The seeds written in the hidden parts of the source notebook's test cells (ints)."""
    nb = json.loads(rules.source_notebook(assignment, root).read_text(encoding="utf-8"))
    seeds = set()
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        for hidden in re.findall(r"BEGIN HIDDEN TESTS(.*?)END HIDDEN TESTS", text, flags=re.S):
            seeds.update(int(s) for s in _SEED.findall(hidden))
    return sorted(seeds)


def title(notebook_path):
    """The first heading of the notebook's first markdown cell, for the README."""
    nb = json.loads(pathlib.Path(notebook_path).read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return notebook_path.stem


def _released(released):
    unknown = [a for a in released if a not in rules.ASSIGNMENTS]
    if unknown:
        raise KitError(f"released_solutions 里有未知的作业 {unknown}：可选的有 {', '.join(rules.ASSIGNMENTS)}。\n"
                       f"released_solutions names unknown assignments {unknown}: choose from {', '.join(rules.ASSIGNMENTS)}.")
    return sorted(set(released))


def _write_checks(kit, assignment, root):
    checks = kit / "autograder" / "checks"
    checks.mkdir(parents=True)
    (kit / "autograder" / "__init__.py").write_text(
        '"""The visible checks of the course, for students (``from autograder import checks``).\n\n'
        'Grading runs elsewhere, with the instructor\'s own checks and the hidden tests.\n"""\n', encoding="utf-8")
    for name in SHARED:
        shutil.copyfile(CHECKS / name, checks / name)
    for path in sorted(RUNTIME.glob("*.py")):
        shutil.copyfile(path, checks / ("__init__.py" if path.name == "package_init.py" else path.name))
    shutil.copyfile(HERE / "codec.py", checks / "codec.py")
    data = record.record_assignment(assignment, root)
    (checks / "visible_cases.json").write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")),
                                                encoding="utf-8")
    return record.summary(data)


def _write_templates(kit, assignment, heading):
    values = {"assignment": assignment, "title": heading, "dist_name": "reludrop-kit-" + assignment.replace("_", "-")}
    for path in sorted(TEMPLATES.iterdir()):
        if path.is_file():
            text = string.Template(path.read_text(encoding="utf-8")).substitute(values)
            (kit / path.name).write_text(text, encoding="utf-8")
    shutil.copytree(rules.ROOT / "student_mode", kit / "student_mode",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def _zip(folder, target):
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, pathlib.Path(folder.name) / path.relative_to(folder))


def build_kit(assignment, to, released=(), root=rules.ROOT):
    """Write the kit of ``assignment`` to ``to/<assignment>/`` (replacing an earlier kit there) and its zip.

    Parameters
    ----------
    assignment : str, e.g. "01_relu_network"
    to : path of the folder that receives the kits (created if missing)
    released : assignments whose solutions are released (``c.StudentKit.released_solutions``)
    root : the course folder (solutions/ and notebooks/)

    Returns
    -------
    pathlib.Path of the kit folder. Raises KitError, writing nothing, when the kit cannot be built
    (unknown assignment, no release, solutions it needs not released) or its scan finds a problem.
    """
    rules.check_assignment(assignment)
    released = _released(released)
    root = pathlib.Path(root)
    notebook = rules.release_notebook(assignment, root)
    if not notebook.is_file():
        raise KitError(f"没有 {assignment} 的学生版 {notebook}：请先运行 python -m autograder release {assignment}。\n"
                       f"there is no release of {assignment} at {notebook}: run python -m autograder release {assignment} first.")
    to = pathlib.Path(to)
    to.mkdir(parents=True, exist_ok=True)
    dest = to / assignment
    if dest.exists() and not (dest / MANIFEST).is_file():
        raise KitError(f"{dest} 已存在但不是学生包（没有 {MANIFEST}）：请换一个 --to 文件夹。\n"
                       f"{dest} exists and is not a kit (no {MANIFEST}): choose another --to folder.")
    forbidden = rules.forbidden(assignment, released, root)
    forbidden_core = rules.forbidden_core(assignment, released, root)
    with tempfile.TemporaryDirectory(dir=to, prefix=f".{assignment}-") as scratch:
        kit = pathlib.Path(scratch) / assignment
        kit.mkdir()
        shutil.copyfile(notebook, kit / notebook.name)
        exported = package.write_package(kit, package.imported_names(notebook), forbidden_core)
        recorded = _write_checks(kit, assignment, root)
        _write_templates(kit, assignment, title(notebook))
        files = sorted(str(p.relative_to(kit)) for p in kit.rglob("*") if p.is_file())
        (kit / MANIFEST).write_text(json.dumps({
            "assignment": assignment, "released_solutions": released, "package": exported,
            "visible_checks": {name: {"cases": c, "recorded_mistakes": m} for name, (c, m) in recorded.items()},
            "files": files + [MANIFEST]}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        problems = scan.scan(kit, forbidden, scan.reference_functions(forbidden, forbidden_core, root),
                             hidden_seeds(assignment, root))
        if problems:
            raise KitError(f"{assignment} 的学生包没有通过检查，没有写出：\n"
                           f"the kit of {assignment} fails its scan and was not written:\n  " + "\n  ".join(problems))
        if dest.exists():
            shutil.rmtree(dest)
        shutil.move(str(kit), str(dest))
    archive = to / f"{assignment}.zip"
    _zip(dest, archive)
    return dest


def describe(kit):
    """One line per kit for the instructor: where it is, what its package holds, its visible checks."""
    manifest = json.loads((pathlib.Path(kit) / MANIFEST).read_text(encoding="utf-8"))
    checks = ", ".join(f"{name} ({v['cases']} cases, {v['recorded_mistakes']} mistakes named)"
                       for name, v in manifest["visible_checks"].items())
    released = ", ".join(manifest["released_solutions"]) or "none"
    return (f"{manifest['assignment']}: {kit} and {pathlib.Path(kit).with_suffix('.zip').name}; "
            f"{len(manifest['files'])} files, scanned clean\n"
            f"  student package: {', '.join(manifest['package'])}\n"
            f"  visible checks: {checks}\n"
            f"  released solutions counted: {released}")
