"""The course on a real JupyterHub: one round of assignment 01 for an instructor and three students.

One hub for the whole module, started by ``scripts/hub.py`` (what ``make hub`` runs) on a loopback port: JupyterHub
from PyPI, configurable-http-proxy from npm, PAM logins of real Unix users made for the test (``useradd``, random
passwords), one JupyterLab server per user started as that user (LocalProcessSpawner), nbgrader's exchange in a
scratch folder. The hub runs the code under test, wherever it is checked out: a copy of this checkout (its files,
no .venv, build or graded work) in /srv/reludrop-hub-test, every user able to read it, installed in editable mode
in the users' environment /opt/reludrop-hub-test (made the first time, set to the copy when it holds another);
the test checks that the users' Python imports the course from the copy. Chromium (Debian's, through Playwright)
plays each user, one after the other:

1. the instructor releases 01 to the exchange (``python -m autograder release --exchange``, as the instructor);
2. each student logs in, fetches 01 in the Assignments tab (JupyterLab in Chinese, the Assignments tab on, no
   formgrader or course list), types an answer (s1 the reference answers, s2 the same with a typical mistake in
   ``ReLU_gradient``, s3 nothing), saves, clicks Validate and submits;
3. a student's server tries to read a classmate's home, the instructor's course folder and the gradebook: refused;
4. the instructor collects and autogrades (``collect``, ``autograde``: every kernel in the bubblewrap sandbox),
   grades s1's written answer in the formgrader, writes and releases the feedback (``feedback --exchange``);
5. each student fetches the feedback in the Assignments tab and reads their own score and messages, not a
   classmate's, not a hidden test; then ``python -m autograder run --exchange`` does the instructor's round again;
6. the hub is stopped by its PID: the proxy, every user's server and their kernels must be gone with it.

Screenshots of each step go to ``build/hub-artifacts/``. The browser (and whatever outlived the hub) is stopped by
PID at the end, also when a test fails, the users and the copy are removed. After the run pytest prints how long
each step took. Needs root, Chromium, Playwright, JupyterHub, configurable-http-proxy (npm), bubblewrap, useradd,
runuser and venv (``.ci/ensure-debian`` installs them): without one, the tests fail under CI (``CI=true``) and are
skipped elsewhere, with the reason.
"""

import json
import os
import pathlib
import pwd
import re
import shutil
import stat
import subprocess
import sys
import time
import tomllib

import nbformat
import psutil
import pytest

from autograder.hub import settings as hub_settings
from browser_helpers import (
    MENU_BAR, Browser, find_chromium, fresh_profile_dir, free_port, rendered_cells, run_all_cells, save, type_cell,
    validate, wait_menu_bar, wait_run_finished,
)
from hub_helpers import (
    Hub, Users, assignment_row, copy_checkout, log_in, open_assignments, open_notebook_at, reachable_by_all, run_as,
    write_settings,
)
from test_notebooks import is_answer, is_manual, read, solution_path

ROOT = pathlib.Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "build" / "hub-artifacts"
AID = "01_relu_network"
INSTRUCTOR = "reludrop-t-instr"
STUDENTS = ["reludrop-t-s1", "reludrop-t-s2", "reludrop-t-s3"]
#: What each student hands in: the reference answers, the same with np.sign as ReLU's gradient, nothing.
KIND = {"reludrop-t-s1": "correct", "reludrop-t-s2": "mistake", "reludrop-t-s3": "blank"}
MISTAKE = "def ReLU_gradient(z):\n    return np.sign(z)"
WRITTEN = "不同的随机种子给出不同的初始权重，梯度下降停在不同的局部极小值；He 初始化让各层输出的尺度相近。"
#: The points of 01: 15 autograded (nine functions), 3 for the written answer (exercise_13).
AUTO_POINTS = 15.0
MANUAL_SCORE = 2.0
#: What a feedback page must never show, besides every line of the hidden tests (``hidden_lines``).
HIDDEN = ["BEGIN HIDDEN TESTS", "hidden=True", "Traceback", "_trusted"]

TIMINGS = {}  # step -> seconds, printed after the run


def missing_prerequisites():
    """Why the hub test cannot run here, or None."""
    if os.geteuid() != 0:
        return "the hub test makes Unix users and runs JupyterHub as root: run it as root"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install playwright; it drives Debian's chromium, no download)"
    try:
        import jupyterhub  # noqa: F401
    except ImportError:
        return "JupyterHub is not installed (pip install -e '.[test]' brings it)"
    for tool, install in [("configurable-http-proxy", "apt-get install -y nodejs npm && npm install -g "
                                                      "configurable-http-proxy"),
                          ("bwrap", "apt-get install -y bubblewrap"), ("useradd", "apt-get install -y passwd"),
                          ("userdel", "apt-get install -y passwd"), ("chpasswd", "apt-get install -y passwd"),
                          ("runuser", "apt-get install -y util-linux")]:
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
            return f"{tool} is missing ({install}; .ci/ensure-debian installs it)"
    if find_chromium() is None:
        return "Chromium is not installed (apt-get install chromium)"
    if not TEST_PYTHON.exists():
        # scripts/hub.py --install makes it with a Python every user can run (this one, else Debian's python3).
        base = next((p for p in (getattr(sys, "_base_executable", None), "/usr/bin/python3")
                     if p and os.path.exists(p) and reachable_by_all(pathlib.Path(p).parent)), None)
        if base is None or subprocess.run([base, "-c", "import ensurepip, venv"], capture_output=True).returncode:
            return (f"no Python every user can run that can make {TEST_ENV} (apt-get install -y python3 python3-venv; "
                    f".ci/ensure-debian installs it)")
    return None


class _Summary:
    def __init__(self):
        self.lines = []

    def pytest_terminal_summary(self, terminalreporter):
        if self.lines:
            terminalreporter.section("hub test (JupyterHub, an instructor and three students, in Chromium)")
            for line in self.lines:
                terminalreporter.write_line(line)


class Clock:
    """Times the steps of the round: ``with clock("step"):``."""

    def __init__(self):
        self.step = None

    def __call__(self, step):
        self.step = step
        return self

    def __enter__(self):
        self.started = time.monotonic()

    def __exit__(self, *exc):
        TIMINGS[self.step] = TIMINGS.get(self.step, 0.0) + time.monotonic() - self.started


#: Where the test runs the course from: a copy of this checkout (``CHECKOUT``) that every user can read, the exchange,
#: the hub's state and settings; made anew, removed at the end. The checkout itself may sit where the course's users
#: cannot read it (CI clones it into a folder of its own), and its solutions/ and build/ keep their modes.
TEST_ROOT = pathlib.Path("/srv/reludrop-hub-test")
CHECKOUT = TEST_ROOT / "reludrop"
#: The users' environment of the test (``[hub] python``): the course installed in editable mode from ``CHECKOUT``,
#: JupyterHub and the course's tools; made by ``scripts/hub.py --install`` the first time, kept for the next run.
#: Not the deployment's /opt/reludrop-hub (hub/course.toml), which a `make hub` of this machine may be using.
TEST_ENV = pathlib.Path("/opt/reludrop-hub-test")
TEST_PYTHON = TEST_ENV / "bin" / "python"


def _course_python(settings_path):
    """``TEST_PYTHON``, running the course of ``CHECKOUT``: ``CHECKOUT``'s own ``scripts/hub.py --install
    --prepare-only`` creates the environment if it is missing, installs ``CHECKOUT`` into it if it holds another
    checkout, prepares the machine and checks what the users can run and read."""
    env = {**os.environ, "PYTHONPATH": str(CHECKOUT)}      # the copy's autograder, not this checkout's
    result = subprocess.run([sys.executable, str(CHECKOUT / "scripts" / "hub.py"), "--settings", str(settings_path),
                             "--install", "--prepare-only"], env=env, capture_output=True, text=True)
    (ARTIFACTS / "prepare.log").write_text(result.stdout + result.stderr, encoding="utf-8")
    assert result.returncode == 0, f"scripts/hub.py --install --prepare-only failed:\n{result.stdout}\n{result.stderr}"
    return TEST_PYTHON


@pytest.fixture(scope="module")
def hub(request):
    """The users, the hub (run from a copy of this checkout, its settings in a scratch folder), and one Chromium;
    all stopped or removed at the end."""
    reason = missing_prerequisites()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the hub test must run in CI: {reason}")
        pytest.skip(reason)
    started = time.monotonic()
    summary = _Summary()
    request.config.pluginmanager.register(summary, "reludrop-hub-summary")
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    # The users' servers reach the exchange and the copy in it: not under /tmp/pytest-of-root (0700) nor $TMPDIR.
    if TEST_ROOT.exists():
        shutil.rmtree(TEST_ROOT)                     # left over from an interrupted run
    TEST_ROOT.mkdir(parents=True)
    os.chmod(TEST_ROOT, 0o755)
    assert reachable_by_all(TEST_ROOT), f"{TEST_ROOT}: a folder on the way is not searchable by other users"
    scratch = TEST_ROOT
    users = Users([INSTRUCTOR, *STUDENTS])
    state = {"users": users, "scratch": scratch, "browser": None, "hub": None}

    def stop():
        try:
            if state["browser"] is not None:
                state["browser"].stop()
        finally:
            try:
                if state["hub"] is not None:
                    state["hub"].stop()
            finally:
                users.remove()
                shutil.rmtree(TEST_ROOT, ignore_errors=True)
        summary.lines.append(f"screenshots and the hub's log: {ARTIFACTS}")
        for step, seconds in TIMINGS.items():
            summary.lines.append(f"  {step}: {seconds:.1f} s")
        summary.lines.append(f"  whole module (users, hub, browser, teardown): {time.monotonic() - started:.0f} s")

    request.addfinalizer(stop)
    with Clock()("set-up: copy of the checkout, users, course environment, hub start, browser start"):
        copy_checkout(ROOT, CHECKOUT)
        users.create()
        port = free_port()
        settings_path = write_settings(scratch / "course.toml", port=port, state_dir=scratch / "state",
                                       python=TEST_PYTHON, exchange=scratch / "exchange", instructor=INSTRUCTOR,
                                       students=STUDENTS)
        python = _course_python(settings_path)
        # The hub must run the copy's code and nothing of another checkout: the users' Python imports it from there.
        for user in (INSTRUCTOR, STUDENTS[0]):
            where = run_as(user, ["-c", "import autograder; print(autograder.__file__)"], python)
            assert where.returncode == 0 and where.stdout.strip() == str(CHECKOUT / "autograder" / "__init__.py"), \
                f"{user}'s {python} imports the course from {where.stdout.strip() or where.stderr}, not {CHECKOUT}"
        settings = hub_settings.load(settings_path)
        state["hub"] = Hub(python, CHECKOUT / "scripts" / "hub.py", settings_path, port,
                           ARTIFACTS / "jupyterhub.log").start()
        state["browser"] = Browser(find_chromium(), fresh_profile_dir(scratch)).start()
    return {"hub": state["hub"], "page": state["browser"].page, "users": users, "settings": settings,
            "python": python, "shots": iter(range(1, 100))}


def shot(hub, name):
    """A screenshot of the browser's page, numbered in the order of the round."""
    path = ARTIFACTS / f"{next(hub['shots']):02d}-{name}.png"
    hub["page"].screenshot(path=str(path), timeout=30_000)
    return path


def instructor(hub, *args):
    """``python -m autograder --course ~instructor/reludrop ARGS`` as the instructor; its output on failure."""
    course = hub["settings"].course_root
    result = run_as(INSTRUCTOR, ["-m", "autograder", "--course", str(course), *args], hub["python"])
    (ARTIFACTS / "instructor.log").open("a", encoding="utf-8").write(
        f"$ python -m autograder {' '.join(args)}\n{result.stdout}{result.stderr}\n")
    return result


def test_settings_name_what_to_fix(tmp_path):
    """Does a wrong hub settings file (no instructor, an unknown user, an unknown authenticator) say what to fix?"""
    path = tmp_path / "course.toml"
    path.write_text('[course]\nstudents = ["root"]\n', encoding="utf-8")
    with pytest.raises(hub_settings.SettingsError, match=r"\[course\] needs instructor"):
        hub_settings.load(path)
    path.write_text('[course]\ninstructor = "root"\nstudents = ["reludrop-no-such-user"]\n', encoding="utf-8")
    with pytest.raises(hub_settings.SettingsError, match=r"not a user of this machine: create it first"):
        hub_settings.load(path)
    path.write_text('[hub]\nauthenticator = "ldap"\n[course]\ninstructor = "root"\n', encoding="utf-8")
    with pytest.raises(hub_settings.SettingsError, match=r"use one of \('pam', 'dummy'\)"):
        hub_settings.load(path)


def test_shipped_settings_are_pam_on_loopback():
    """Do the shipped settings (hub/course.toml) listen on loopback only, with the machine's own logins (PAM)?"""
    shipped = tomllib.loads((ROOT / "hub" / "course.toml").read_text(encoding="utf-8"))
    assert shipped["hub"]["ip"] == "127.0.0.1" and shipped["hub"]["authenticator"] == "pam", shipped["hub"]
    assert shipped["course"]["exchange"] == "/srv/nbgrader/exchange", shipped["course"]


def test_instructor_releases_to_the_exchange(hub):
    """Does ``release --exchange`` (as the instructor) put 01's student kit in nbgrader's exchange, with the
    permissions nbgrader documents, while the course folder stays private to the instructor?"""
    settings = hub["settings"]
    with Clock()("instructor: release --exchange 01"):
        result = instructor(hub, "release", "--exchange", AID)
    assert result.returncode == 0, f"release --exchange failed:\n{result.stdout}\n{result.stderr}"
    exchange = settings.exchange
    course = exchange / settings.course_id
    mode = lambda p: stat.S_IMODE(os.stat(p).st_mode)  # noqa: E731
    assert mode(exchange) == 0o1777 and os.stat(exchange).st_uid == 0, oct(mode(exchange))
    assert mode(course / "outbound") == 0o755 and mode(course / "inbound") == 0o2733, \
        (oct(mode(course / "outbound")), oct(mode(course / "inbound")))
    released = course / "outbound" / AID
    assert {f"{AID}.ipynb", "reludrop_core", "autograder", "start_lab.py", "README.md"} <= \
        {p.name for p in released.iterdir()}, sorted(p.name for p in released.iterdir())
    notebook = json.dumps(json.loads((released / f"{AID}.ipynb").read_text(encoding="utf-8")))
    assert "BEGIN SOLUTION" not in notebook and "HIDDEN TESTS" not in notebook
    assert not (released / "gradebook.db").exists() and not (released / "solutions").exists()
    assert mode(settings.course_root) == 0o700
    assert os.stat(settings.course_root).st_uid == hub["users"].home(INSTRUCTOR).stat().st_uid


def _answers(kind):
    """{cell index: text} a student of ``kind`` types into the released notebook's cells."""
    if kind == "blank":
        return {}
    solution = read(solution_path(AID))
    answers = {}
    for i, cell in enumerate(solution.cells):
        if is_answer(cell):
            # The function's first line and the reference body (no docstring: less to type, the same code).
            lines = cell.source.split("\n")
            begin = next(k for k, line in enumerate(lines) if "### BEGIN SOLUTION" in line)
            end = next(k for k, line in enumerate(lines) if "### END SOLUTION" in line)
            answers[i] = "\n".join([lines[0], *lines[begin + 1:end]])
            if kind == "mistake" and cell.metadata["nbgrader"]["grade_id"] == "ReLU_gradient":
                answers[i] = MISTAKE
        elif is_manual(cell):
            answers[i] = WRITTEN
    return answers


@pytest.fixture
def failure_shot(hub, request):
    """A screenshot of the browser when the test fails (build/hub-artifacts/<test>-failed.png)."""
    failed = request.session.testsfailed
    yield
    if request.session.testsfailed > failed:      # this test's call failed (pytest counts it before teardown)
        try:
            hub["page"].screenshot(path=str(ARTIFACTS / f"{request.node.name}-failed.png"), timeout=10_000)
        except Exception:  # noqa: BLE001 (a screenshot must not hide the real failure)
            pass


@pytest.mark.parametrize("student", STUDENTS)
def test_student_fetches_validates_and_submits(student, hub, failure_shot):
    """In the Assignments tab of a Chinese JupyterLab without instructor tools, can a student fetch 01, type an
    answer, save, Validate (success only for the correct answer) and submit it?"""
    page, settings = hub["page"], hub["settings"]
    kind = KIND[student]
    with Clock()(f"{student} ({kind}): log in, server start"):
        log_in(page, hub["hub"], student, hub["users"].passwords[student])
        menus = wait_menu_bar(page, "zh_CN")
    assert menus[:5] == MENU_BAR["zh_CN"][:5], f"the student's JupyterLab is not in Chinese: {menus}"
    config = page.evaluate("() => JSON.parse(document.getElementById('jupyter-config-data').textContent)")
    assert "Nbgrader" not in menus, f"nbgrader's own menu (formgrader, course list) is on: {menus}"
    for plugin in ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:course-list",
                   "@jupyter/nbgrader:create-assignment", "@jupyter/nbgrader:menu"):
        assert plugin in config["disabledExtensions"] and plugin in config["lockedExtensions"], plugin
    assert "@jupyter/nbgrader:assignment-list" not in config["disabledExtensions"]
    assert "@jupyter/nbgrader:assignment-list" in config["lockedExtensions"]
    # Server side: the formgrader and the course list are off, the assignment list and Validate on.
    base = f"{hub['hub'].url}/user/{student}"
    statuses = {path: _get(page, base + path)[0] for path in
                ("/formgrader/api/status", "/formgraders", "/assignments?course_id=reludrop", "/nbgrader_version?version=0.9.6")}
    assert statuses == {"/formgrader/api/status": 404, "/formgraders": 404, "/assignments?course_id=reludrop": 200,
                        "/nbgrader_version?version=0.9.6": 200}, statuses

    with Clock()(f"{student} ({kind}): fetch in the Assignments tab"):
        menu = open_assignments(page)
        shot(hub, f"{student}-assignments")
        assignment_row(page, "released", AID).locator("button", has_text="Fetch").click()
        assignment_row(page, "fetched", AID).wait_for(state="visible", timeout=60_000)
    assert menu == ["Assignment List"], f"the students' Assignments menu: {menu}"
    home = hub["users"].home(student)
    fetched = home / AID / f"{AID}.ipynb"
    assert fetched.is_file() and os.stat(fetched).st_uid == pwd_uid(student)
    shot(hub, f"{student}-fetched")

    n_cells = len(read(fetched).cells)
    url = f"{hub['hub'].url}/user/{student}/lab/tree/{AID}/{AID}.ipynb"
    answers = _answers(kind)
    with Clock()(f"{student} ({kind}): open, type and save"):
        panel = open_notebook_at(page, url, n_cells)
        for index, text in answers.items():
            type_cell(page, panel, index, text)
        save(page)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (_unsaved(fetched, answers) or not _settled(fetched)):
            time.sleep(0.3)
    assert not _unsaved(fetched, answers), f"typed answers not saved in cells {_unsaved(fetched, answers)}"

    with Clock()(f"{student} ({kind}): Validate"):
        classes, message = validate(page, before_closing=lambda: shot(hub, f"{student}-validated"))
    if kind == "correct":
        assert "validation-success" in classes.split(), f"Validate did not pass the correct answers:\n{message[:2000]}"
    else:
        assert "validation-success" not in classes.split(), f"Validate passed a {kind} notebook:\n{message[:2000]}"
        first = "ReLU_gradient" if kind == "mistake" else "ReLU"
        assert first in message, f"Validate does not name {first}:\n{message[:2000]}"

    with Clock()(f"{student} ({kind}): submit"):
        open_assignments(page)
        assignment_row(page, "fetched", AID).locator("button", has_text="Submit").click()
        assignment_row(page, "submitted", AID).wait_for(state="visible", timeout=60_000)
    shot(hub, f"{student}-submitted")
    inbound = settings.exchange / settings.course_id / "inbound"
    assert [p for p in inbound.iterdir() if p.name.startswith(f"{student}+{AID}+")], "no submission in the exchange"


def _unsaved(path, answers):
    """The cells whose typed answer is not in the file yet (all of them while JupyterLab is writing it)."""
    try:
        cells = read(path).cells
    except (ValueError, OSError):
        return sorted(answers)
    return [i for i, text in answers.items() if cells[i].source != text]


def _settled(path, quiet=1.0):
    """Has ``path`` gone unwritten for ``quiet`` seconds (the save JupyterLab started is over)?"""
    return time.time() - os.stat(path).st_mtime >= quiet


def pwd_uid(user):
    return pwd.getpwnam(user).pw_uid


#: Run in a student's own server: what of the others' files it can reach.
PROBE = """\
import os
for path in {paths!r}:
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            open(path, 'rb').read(1)
        print('READ', path)
    except OSError as error:
        print('DENIED', path, type(error).__name__)
"""


def test_a_students_server_cannot_read_others(hub, failure_shot):
    """Does each user's server run as that Unix user, and can a student's server read neither a classmate's home,
    nor the instructor's course folder or gradebook, nor the list of submissions in the exchange, nor the solutions
    of the checkout the hub runs (the course is installed from it)? Are their settings the copy's? Does the hub
    keep a student out of the instructor's and a classmate's servers?"""
    page, settings, users = hub["page"], hub["settings"], hub["users"]
    by_user, config_of = {}, {}
    for proc in hub["hub"].processes():
        try:
            if "jupyterhub-singleuser" in " ".join(proc.cmdline()):
                environ = proc.environ()
                by_user[environ.get("JUPYTERHUB_USER")] = proc.username()
                config_of[environ.get("JUPYTERHUB_USER")] = environ.get("JUPYTER_CONFIG_PATH")
        except psutil.Error:
            continue
    assert by_user == {s: s for s in STUDENTS}, f"users' servers and the Unix users they run as: {by_user}"
    # Their settings come from the copy under test, not from another checkout.
    assert config_of == {s: str(CHECKOUT / "hub" / "student") for s in STUDENTS}, config_of
    student = STUDENTS[0]
    course = settings.course_root
    paths = [str(users.home(STUDENTS[1])), str(users.home(STUDENTS[1]) / AID / f"{AID}.ipynb"), str(course),
             str(course / "gradebook.db"), str(course / "solutions" / AID / f"{AID}.ipynb"),
             str(settings.exchange / settings.course_id / "inbound"),
             str(CHECKOUT / "solutions"), str(CHECKOUT / "solutions" / AID / f"{AID}.ipynb")]
    probe = users.home(student) / "probe.ipynb"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(PROBE.format(paths=paths))])
    notebook.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nbformat.write(notebook, probe)
    os.chown(probe, pwd_uid(student), pwd_uid(student))
    with Clock()(f"{student}: probe the others' files from the student's server"):
        log_in(page, hub["hub"], student, users.passwords[student])
        open_notebook_at(page, f"{hub['hub'].url}/user/{student}/lab/tree/probe.ipynb", 1)
        run_all_cells(page)
        wait_run_finished(page, timeout=60)
        text = "".join(o["text"] for o in rendered_cells(page)[0]["outputs"])
    shot(hub, f"{student}-probe")
    # Through the hub: a student's login opens neither a classmate's running server (403) nor the instructor's
    # (not started yet at this point: the hub answers 404 and starts nothing).
    for other, refused in ((STUDENTS[1], 403), (INSTRUCTOR, 404)):
        status, answer = _get(page, f"{hub['hub'].url}/user/{other}/api/contents")
        assert status == refused and '"content"' not in answer, \
            f"{student} asked for {other}'s files: {status} {answer[:300]}"
    seen = dict(line.split(" ", 1) for line in text.splitlines() if line.startswith(("READ", "DENIED")))
    assert len(text.splitlines()) == len(paths), text
    assert "READ" not in seen, f"a student's server read: {text}"
    assert text.count("DENIED") == len(paths) and text.count("PermissionError") == len(paths), text
    probe.unlink()


def test_instructor_collects_and_autogrades_in_the_sandbox(hub):
    """Do ``collect`` and ``autograde`` (as the instructor, every kernel in bubblewrap) grade the three
    submissions: full marks for the correct one, one point off for ReLU_gradient, nothing for the blank one?"""
    with Clock()("instructor: collect 01"):
        result = instructor(hub, "collect", AID)
    assert result.returncode == 0, f"collect failed:\n{result.stdout}\n{result.stderr}"
    assert "collected 01_relu_network: 3 submission(s)" in result.stdout, result.stdout
    report = hub["settings"].course_root / "report.json"
    with Clock()("instructor: autograde 01 (3 students, sandboxed)"):
        result = instructor(hub, "autograde", AID, "--json", str(report))
    assert result.returncode in (0, 1), f"autograde failed:\n{result.stdout}\n{result.stderr}"
    assert "no-sandbox" not in result.stdout and "WARNING" not in result.stdout, result.stdout
    scores = _auto_scores(report)
    assert scores == {STUDENTS[0]: AUTO_POINTS, STUDENTS[1]: AUTO_POINTS - 1, STUDENTS[2]: 0.0}, \
        f"{scores}\n{result.stdout}"


def _auto_scores(report):
    """{student: points of the autograded cells} from ``--json``'s reports."""
    return {entry["student"]: sum(c["score"] for nb in entry["notebooks"] for c in nb["cells"] if not c["manual"])
            for entry in json.loads(report.read_text(encoding="utf-8"))}


def test_instructor_grades_a_written_answer_in_the_formgrader(hub, failure_shot):
    """Can the instructor log in, open s1's submission in the formgrader and give the written answer its points?"""
    page, users = hub["page"], hub["users"]
    base = f"{hub['hub'].url}/user/{INSTRUCTOR}"
    with Clock()("instructor: log in, formgrader, grade s1's written answer"):
        log_in(page, hub["hub"], INSTRUCTOR, users.passwords[INSTRUCTOR])
        page.goto(f"{base}/formgrader/gradebook/{AID}/{AID}")
        page.wait_for_selector("text=Submission #1", timeout=60_000)
        shot(hub, "instructor-formgrader-submissions")
        listing = _formgrader_api(page, f"{base}/formgrader/api/submitted_notebooks/{AID}/{AID}")
        submission = next(s for s in listing if s["student"] == STUDENTS[0])
        page.goto(f"{base}/formgrader/submissions/{submission['id']}/")
        score = page.locator("input.score#exercise_13")
        score.wait_for(state="visible", timeout=60_000)
        score.fill(str(int(MANUAL_SCORE)))
        score.press("Tab")
        page.wait_for_timeout(1500)
        shot(hub, "instructor-formgrader-graded")
    listing = _formgrader_api(page, f"{base}/formgrader/api/submitted_notebooks/{AID}/{AID}")
    graded = next(s for s in listing if s["student"] == STUDENTS[0])
    assert graded["score"] == AUTO_POINTS + MANUAL_SCORE, graded
    assert not graded["needs_manual_grade"], graded


def hidden_lines():
    """Every line of 01's hidden tests (with its secret seed), from the solutions."""
    lines = []
    for cell in read(solution_path(AID)).cells:
        inside = False
        for line in cell.source.split("\n"):
            if "### END HIDDEN TESTS" in line:
                inside = False
            elif inside and line.strip():
                lines.append(line.strip())
            elif "### BEGIN HIDDEN TESTS" in line:
                inside = True
    assert lines, "no hidden tests found in the solution of 01"
    return lines


def _get(page, url):
    """(status, text) of a GET from the page, as JupyterLab's and the formgrader's scripts send it (the _xsrf
    cookie as a header: without it the user's server does not take the hub's login cookie for an API call)."""
    return page.evaluate("""async (url) => {
        const xsrf = (document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || '';
        const response = await fetch(url, {headers: {'X-XSRFToken': decodeURIComponent(xsrf)}});
        return [response.status, await response.text()];
    }""", url)


def _formgrader_api(page, url):
    status, text = _get(page, url)
    assert status == 200, f"GET {url}: {status}\n{text[:500]}"
    return json.loads(text)


def test_students_fetch_their_own_feedback(hub, failure_shot):
    """After ``feedback --exchange``, does each student fetch feedback in the Assignments tab and read their own
    score and messages, never a classmate's and never a hidden test?"""
    with Clock()("instructor: feedback --exchange 01"):
        result = instructor(hub, "feedback", "--exchange", AID)
    assert result.returncode == 0, f"feedback --exchange failed:\n{result.stdout}\n{result.stderr}"
    page, users = hub["page"], hub["users"]
    pages = {}
    for student in STUDENTS:
        with Clock()(f"{student}: log in, fetch feedback"):
            log_in(page, hub["hub"], student, users.passwords[student])
            open_assignments(page)
            row = assignment_row(page, "submitted", AID)
            row.locator("button", has_text="Fetch Feedback").click()
            row.locator("text=(view feedback)").wait_for(state="visible", timeout=60_000)
            shot(hub, f"{student}-feedback-fetched")
            folder = users.home(student) / AID / "feedback"
            html = sorted(folder.glob(f"*/{AID}.html"))
            assert len(html) == 1, f"{student}: feedback files {html}"
            relative = html[0].relative_to(users.home(student)).as_posix()
            page.goto(f"{hub['hub'].url}/user/{student}/files/{relative}")
            page.wait_for_load_state("load")
            shot(hub, f"{student}-feedback")
            pages[student] = page.locator("body").inner_text()
    for student, text in pages.items():
        for other in STUDENTS:
            if other != student:
                assert other not in text, f"{student}'s feedback names {other}"
        for word in HIDDEN + hidden_lines():
            assert word not in text, f"{student}'s feedback shows {word!r}"
    assert re.search(rf"{AUTO_POINTS + MANUAL_SCORE:g}\s*/\s*18", pages[STUDENTS[0]]), pages[STUDENTS[0]][:1500]
    assert "ReLU_gradient" in pages[STUDENTS[1]] and "未通过" in pages[STUDENTS[1]], pages[STUDENTS[1]][:1500]
    assert re.search(r"\b0(\.0)?\s*/\s*18", pages[STUDENTS[2]]), pages[STUDENTS[2]][:1500]


def test_run_does_the_instructors_round(hub):
    """Does ``python -m autograder run --exchange`` (collect, autograde, feedback and release_feedback, export,
    report, the class insight page) do the instructor's round again, with the same scores?"""
    report = hub["settings"].course_root / "report-run.json"
    page = hub["settings"].course_root / "insight.html"
    with Clock()("instructor: run --exchange 01 (the whole round again)"):
        result = instructor(hub, "run", "--exchange", AID, "--json", str(report), "--insight", str(page))
    assert result.returncode in (0, 1), f"run --exchange failed:\n{result.stdout}\n{result.stderr}"
    for line in ("collected 01_relu_network: 3 submission(s)", "autograding 3 submission(s)",
                 "feedback released to 3 student submission(s)", "grades: ", f"insight:  {page}"):
        assert line in result.stdout, f"{line!r} not in:\n{result.stdout}"
    assert page.is_file() and "<html" in page.read_text(encoding="utf-8").lower(), page
    assert _auto_scores(report) == {STUDENTS[0]: AUTO_POINTS, STUDENTS[1]: AUTO_POINTS - 1, STUDENTS[2]: 0.0}


def test_stopping_the_hub_by_pid_stops_the_proxy_and_every_server(hub):
    """Stopped by its PID (SIGTERM), does the hub take the proxy, every user's server and their kernels with it?"""
    procs = hub["hub"].processes()
    commands = [" ".join(p.cmdline()) for p in procs if p.is_running()]
    assert any("configurable-http-proxy" in c for c in commands), commands
    assert sum("jupyterhub-singleuser" in c for c in commands) == 1 + len(STUDENTS), commands
    with Clock()("stop the hub by PID (proxy, 4 servers, kernels)"):
        survivors = hub["hub"].stop()
    assert not survivors, f"left running after the hub stopped: {[' '.join(p.cmdline()) for p in survivors]}"
    uids = {pwd_uid(user) for user in [INSTRUCTOR, *STUDENTS]}
    left = [p for p in psutil.process_iter(["uids", "cmdline"]) if p.info["uids"] and p.info["uids"].real in uids]
    assert not left, f"processes of the course's users still running: {[p.info['cmdline'] for p in left]}"

