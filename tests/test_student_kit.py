"""Student kits (autograder/kit/): built for every assignment, scanned, and run where a student runs them.

One module fixture builds the four kits once (01 and 03 released, so that 02-04 can be built). Then:

* every kit and its zip is clean: no solutions, gradebook, hidden test, seed or instructor file, no
  implementation of a function it must not hold (the scan, and a few independent checks beside it);
* the kit's visible checks say, word for word, what the grader's visible checks say, for the reference
  answers and for every implementation of the course's catalogue (``autograder.variants``);
* in a fresh virtual environment with only the kit installed, the release notebook runs with nbclient:
  blank, it stops at the first answer's test saying NotImplementedError; with the reference answers
  pasted in, every visible test passes with the grader's message.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap
import tomllib
import zipfile

import pytest
import yaml

from autograder import checks, variants
from autograder.kit import build, record, rules, scan
from autograder.kit.build import build_kit
from autograder.kit.rules import KitError

ROOT = pathlib.Path(__file__).resolve().parent.parent
RELEASED = ["01_relu_network", "03_sigmoid_dropout"]
FIRST_TEST = {"01_relu_network": "test_ReLU", "02_softmax_comparison": "test_softmax_gradient",
              "03_sigmoid_dropout": "test_Dropout", "04_relu_dropout": "test_ReLU_dropout_gradient"}
QUIET = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")


@pytest.fixture(scope="module")
def kits(tmp_path_factory):
    to = tmp_path_factory.mktemp("kits")
    return {a: build_kit(a, to, RELEASED) for a in rules.ASSIGNMENTS}


# --- what a kit holds --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("assignment", rules.ASSIGNMENTS)
def test_every_kit_and_its_zip_pass_the_scan(kits, assignment):
    """Does the scan find nothing in the kit folder and in its zip (answers, markers, seeds, instructor files)?"""
    kit = kits[assignment]
    forbidden = rules.forbidden(assignment, RELEASED)
    refs = scan.reference_functions(forbidden, rules.forbidden_core(assignment, RELEASED))
    seeds = build.hidden_seeds(assignment)
    assert len(seeds) == len(rules.graded(assignment))                   # one hidden test per graded function
    assert scan.scan(kit, forbidden, refs, seeds) == []
    assert scan.scan(kit.with_suffix(".zip"), forbidden, refs, seeds) == []


@pytest.mark.parametrize("assignment", rules.ASSIGNMENTS)
def test_a_kit_holds_the_release_and_no_instructor_file(kits, assignment):
    """Independently of the scan: is the notebook nbgrader's release byte for byte, are the files the manifest's,
    and does no file carry a hidden test, a seed, a solution marker or the grader's reference modules?"""
    kit = kits[assignment]
    assert (kit / f"{assignment}.ipynb").read_bytes() == rules.release_notebook(assignment).read_bytes()
    manifest = json.loads((kit / "kit.json").read_text(encoding="utf-8"))
    present = sorted(str(p.relative_to(kit)) for p in kit.rglob("*") if p.is_file())
    assert sorted(manifest["files"]) == present
    names = {pathlib.Path(p).name for p in present}
    assert not names & {"gradebook.db", "nbgrader_config.py", "_trusted.py", "recording.py", "_fingerprints.py"}
    assert not any(part in ("solutions", "source", "submitted", "autograded") for p in present
                   for part in pathlib.Path(p).parts)
    seeds = [str(s) for s in build.hidden_seeds(assignment)]
    for path in kit.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            for marker in ("BEGIN SOLUTION", "HIDDEN TESTS", "hidden=True", "seed=" + (seeds[0] if seeds else "x")):
                assert marker not in text, f"{path}: {marker}"
    with zipfile.ZipFile(kit.with_suffix(".zip")) as archive:
        assert sorted(archive.namelist()) == sorted(f"{assignment}/{p}" for p in present)


def test_the_first_kit_implements_no_graded_function(kits):
    """Does the kit of 01 define none of the course's graded functions, in its package or its checks?"""
    every = {name for names in rules.all_graded().values() for name in names}
    kit = kits["01_relu_network"]
    assert rules.forbidden("01_relu_network", RELEASED) == every
    exported = json.loads((kit / "kit.json").read_text(encoding="utf-8"))["package"]
    assert not set(exported) & every
    for path in list((kit / "reludrop_core").glob("*.py")) + list((kit / "autograder").rglob("*.py")):
        for name in every:
            assert f"def {name}(" not in path.read_text(encoding="utf-8"), f"{path} defines {name}"


def test_a_kit_that_needs_unreleased_solutions_is_refused_and_nothing_is_written(tmp_path):
    """Without 01's solutions released, is the kit of 03 refused with a message naming 01, and nothing written?"""
    with pytest.raises(KitError) as error:
        build_kit("03_sigmoid_dropout", tmp_path, released=[])
    assert "01_relu_network" in str(error.value) and "released_solutions" in str(error.value)
    assert list(tmp_path.iterdir()) == []


def test_the_scan_catches_a_reference_copied_into_a_built_kit(kits, tmp_path):
    """If a kit's package held a copy of the core's forward pass under another name, or a compiled module,
    would the scan see it?"""
    kit = shutil.copytree(kits["01_relu_network"], tmp_path / "01_relu_network")
    source = (ROOT / "reludrop_core" / "network.py").read_text(encoding="utf-8")
    start = source.index("def _propagate(")
    body = source[start:source.index("\ndef ", start + 1)].replace("def _propagate(", "def tools(")
    (kit / "reludrop_core" / "helpers.py").write_text("import numpy as np\n\n\n" + body, encoding="utf-8")
    (kit / "reludrop_core" / "cache.pyc").write_bytes(b"\x00\x01")
    forbidden = rules.forbidden("01_relu_network", RELEASED)
    found = scan.scan(kit, forbidden, scan.reference_functions(forbidden, rules.forbidden_core("01_relu_network", RELEASED)))
    assert any("helpers.py" in p for p in found) and any("cache.pyc" in p for p in found)


def test_student_kit_command_builds_what_it_can_and_says_what_to_release(tmp_path):
    """Does ``python -m autograder student-kit --all`` with nothing released build 01, refuse 02-04 saying which
    solutions to release, and exit 1; and does ``--released 01_relu_network`` let 02 be built?"""
    run = [sys.executable, "-m", "autograder", "--course", str(ROOT), "student-kit", "--all", "--to", str(tmp_path)]
    first = subprocess.run(run, capture_output=True, text=True, env=QUIET, timeout=300)
    assert first.returncode == 1, first.stderr
    assert "01_relu_network: " in first.stdout and "scanned clean" in first.stdout
    for assignment in rules.ASSIGNMENTS[1:]:
        assert f"{assignment}: not built" in first.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["01_relu_network", "01_relu_network.zip"]
    second = subprocess.run(run[:-3] + ["02_softmax_comparison", "--to", str(tmp_path), "--released", "01_relu_network"],
                            capture_output=True, text=True, env=QUIET, timeout=300)
    assert second.returncode == 0, second.stderr
    assert "released solutions counted: 01_relu_network" in second.stdout
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".zip") == ["01_relu_network.zip",
                                                                                "02_softmax_comparison.zip"]


# --- the kit's checks say what the grader says ---------------------------------------------------------------------

def _kit_messages(kit, calls):
    """{(name, options json, label): message} of the kit's checks, run in the kit folder (a child process)."""
    child = textwrap.dedent('''
        import builtins, json, sys
        import autograder.checks as kit_checks
        import autograder
        autograder.__path__.append(sys.argv[1] + "/autograder")
        sys.path.insert(0, sys.argv[1])
        from autograder import variants
        assignment, calls = sys.argv[2], json.loads(sys.argv[3])

        def reference():
            nb = json.load(open(f"{sys.argv[1]}/solutions/{assignment}/{assignment}.ipynb", encoding="utf-8"))
            ns = {"__name__": "__main__", "__builtins__": builtins}
            for cell in nb["cells"]:
                meta = cell.get("metadata", {}).get("nbgrader", {})
                source = "\\n".join(l for l in "".join(cell["source"]).splitlines() if not l.lstrip().startswith(("%", "!")))
                if cell["cell_type"] != "code" or meta.get("grade") or "demo-only" in cell["metadata"].get("tags", []):
                    continue
                if meta.get("grade_id") == "imports" or meta.get("solution") or (meta.get("locked") and "def " in source):
                    exec(source, ns)
            return ns

        by_id = {v.id: v for v in variants.load()}
        out = []
        for name, options, labels in calls:
            for label in labels:
                if label == "reference":
                    ns = reference()
                    fn = ns[name]
                else:
                    ns, fn = by_id[label].notebook()
                try:
                    message = getattr(kit_checks, "check_" + name)(fn, ns, **options)
                except AssertionError as error:
                    message = str(error)
                out.append([name, json.dumps(options), label, message, kit_checks.__file__])
        print(json.dumps(out, ensure_ascii=False))
    ''')
    done = subprocess.run([sys.executable, "-c", child, str(ROOT), kit.name, json.dumps(calls)], cwd=kit,
                          capture_output=True, text=True, env=QUIET, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


#: Variants the kit cannot meet: it holds no reference to delegate to, and no grader to tamper with.
_NOT_IN_A_KIT = ("delegation", "tampering")


@pytest.mark.parametrize("assignment", rules.ASSIGNMENTS)
def test_the_kits_checks_give_the_graders_visible_messages_over_the_catalogue(kits, assignment):
    """For the reference answers and every catalogued implementation, does the kit's visible check return or raise
    the same message as the grader's visible check?"""
    skip = {v.id for v in variants.load() if v.expect in _NOT_IN_A_KIT}
    calls, expected = [], {}
    for name, options in record.visible_calls(assignment):
        labels = []
        for label, fn, ns in record.implementations(assignment, name, options):
            if label in skip:
                continue
            labels.append(label)
            try:
                expected[(name, json.dumps(options), label)] = getattr(checks, f"check_{name}")(fn, ns, **options)
            except AssertionError as error:
                expected[(name, json.dumps(options), label)] = str(error)
        calls.append([name, options, labels])
    got = _kit_messages(kits[assignment], calls)
    assert {pathlib.Path(f).resolve().parent for *_, f in got} == {(kits[assignment] / "autograder" / "checks").resolve()}
    messages = {(name, options, label): message for name, options, label, message, _ in got}
    assert messages.keys() == expected.keys()
    differ = [(key, expected[key], messages[key]) for key in expected if messages[key] != expected[key]]
    assert not differ, differ[:3]
    failing = sum(not m.startswith("✓") for m in messages.values())
    assert failing >= 3       # the catalogue's mistakes are there, not only passes


def test_the_kit_says_what_it_cannot_judge_and_sends_the_rest_to_grading(kits):
    """For mistakes no catalogued implementation makes, does the kit show the case and say that grading checks more
    (an unknown wrong value), or that its stand-ins know only the correct computation (a wrong intermediate value);
    and does it refuse the hidden flavour and options no visible test uses?"""
    child = textwrap.dedent('''
        import json
        import numpy as np
        from autograder import checks
        out = {}
        def ReLU(z):
            return np.where(z > 0, 2 * z, 0.0)
        def forward_propagate(X, thetas, activate_fcn):
            z_out, a_out = [X], [X]
            for theta in thetas:
                z_out.append(a_out[-1] @ theta.T)
                a_out.append(activate_fcn(1.5 * z_out[-1]))
            return z_out, a_out
        for key, call in [("relu", lambda: checks.check_ReLU(ReLU)),
                          ("forward", lambda: checks.check_forward_propagate(forward_propagate, {})),
                          ("hidden", lambda: checks.check_ReLU(ReLU, globals(), hidden=True, seed=1)),
                          ("options", lambda: checks.check_backprop(ReLU, globals(), ratio=0.5))]:
            try:
                out[key] = ["returned", call()]
            except (AssertionError, ValueError) as error:
                out[key] = [type(error).__name__, str(error)]
        print(json.dumps(out, ensure_ascii=False))
    ''')
    done = subprocess.run([sys.executable, "-c", child], cwd=kits["01_relu_network"], capture_output=True, text=True,
                          env=QUIET, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.splitlines()[-1])
    kind, text = out["relu"]
    assert kind == "AssertionError" and "diagnosis code: mismatch" in text
    assert "评分时会用参考实现和更多用例检查" in text and "first differing case #1" in text and "expected" in text
    kind, text = out["forward"]
    assert kind == "AssertionError" and "diagnosis code: needs_grading" in text and "ReLU" in text
    assert "no reference implementation" in text
    assert out["hidden"][0] == "ValueError" and "hidden tests" in out["hidden"][1]
    assert out["options"][0] == "ValueError" and "ratio" in out["options"][1]


@pytest.mark.parametrize("assignment", ["01_relu_network", "04_relu_dropout"])
def test_the_kits_conda_environment_matches_its_pyproject(kits, assignment):
    """Does the kit's environment.yml ask conda for the same runtime packages and Python as its pyproject.toml,
    and pip-install the kit with its [lab] extra, from conda-forge?"""
    kit = kits[assignment]
    project = tomllib.loads((kit / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    env = yaml.safe_load((kit / "environment.yml").read_text(encoding="utf-8"))
    assert project["name"] == "reludrop-kit-" + assignment.replace("_", "-")
    conda = sorted(d.replace(" ", "") for d in env["dependencies"] if isinstance(d, str) and d not in ("pip",))
    python = [d for d in conda if d.startswith("python")]
    assert python == ["python=3.11"] and project["requires-python"] == ">=3.11"
    assert sorted(d for d in conda if not d.startswith("python")) == sorted(d.replace(" ", "") for d in project["dependencies"])
    assert env["channels"] == ["conda-forge"]
    assert [d["pip"] for d in env["dependencies"] if isinstance(d, dict)] == [[".[lab]"]]
    assert "$" not in (kit / "pyproject.toml").read_text(encoding="utf-8") + (kit / "README.md").read_text(encoding="utf-8")
