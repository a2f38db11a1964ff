"""Grading in the sandbox: can one hostile student in a batch touch anything but their own grade?

Each attack of ``tests/sandbox_attacks.py`` (the gradebook, the answers, classmates' files, the
grader's code, files outside the scratch, the environment, the network, leftover processes, signals,
fork and disk floods) is one student's submission of notebook 01. They are graded in one batch with
honest classmates by ``python -m autograder autograde --jobs 2``, on a sqlite gradebook and on a real
PostgreSQL server. Each batch is compared with a clean batch of the honest students alone: their
scores, the gradebook, every course file on disk, what the hostile students' feedback shows, and
what is left running.
"""

import hashlib
import os
import pathlib
import re
import shutil
import socket
import sqlite3
import sys
import threading
import time
import types

import nbformat
import numpy as np
import psutil
import pytest

sys.path.insert(0, os.path.dirname(__file__))

import pipeline_fixtures as faults  # noqa: E402
from postgres_server import server_or_skip  # noqa: E402
from sandbox_attacks import ATTACKS, LATE_ATTACKS  # noqa: E402

import autograder  # noqa: E402
import reludrop_core  # noqa: E402
from cli_run import run_cli  # noqa: E402
from autograder.batch import pool  # noqa: E402
from autograder.grading import gradebook  # noqa: E402
from autograder.grading.course import Course  # noqa: E402
from autograder.sandbox import bubblewrap  # noqa: E402
from autograder.sandbox.execute import GradingExecute  # noqa: E402
from nbgrader.api import Gradebook  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
A = faults.ASSIGNMENT
HOSTILE = sorted({**ATTACKS, **LATE_ATTACKS})
HONEST = {"honest_a": faults.CASES["correct"], "honest_b": faults.CASES["李雷"],
          "honest_mistake": faults.CASES["edited_test"]}
SECRETS = {"RELUDROP_TEST_TOKEN": "tok-3b1f9c-not-for-students", "PGPASSWORD": "pw-8d2e41-not-for-students"}
MARKER = "CLASSMATE-ONLY-TEXT-7f3a"     # in every honest student's written answer


def require_bwrap():
    ok, why = bubblewrap.available()
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs bubblewrap: {why}")
        pytest.skip(why)


def file_hashes(*folders, skip=()):
    """{path: sha256} of every file below the folders, except those under a name in ``skip``."""
    out = {}
    for folder in folders:
        for path in pathlib.Path(folder).rglob("*"):
            if path.is_file() and not any(part in skip for part in path.parts) and "__pycache__" not in path.parts:
                out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def grades(db_url, students=None):
    out = {}
    with Gradebook(db_url, "reludrop") as gb:
        for submission in gb.find_assignment(A).submissions:
            if students is None or submission.student.id in students:
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        out[(submission.student.id, grade.name)] = (float(grade.score), float(grade.max_score))
    return out


def hidden_lines():
    """The hidden tests' lines of the source notebook that say something (the calls, the seeds)."""
    nb = nbformat.read(ROOT / "solutions" / A / f"{A}.ipynb", as_version=4)
    lines = []
    for cell in nb.cells:
        inside = False
        for line in cell.source.splitlines():
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif inside and len(line.strip()) > 20:
                lines.append(line.strip())
    assert lines, "notebook 01 has no hidden tests to look for"
    return lines


class Listener:
    """A TCP server on 127.0.0.1 that counts the connections it gets (none may come from a kernel)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port, self.connections, self._stop = self.sock.getsockname()[1], 0, False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self._stop = True
        self.thread.join(5)
        self.sock.close()


def make_course(root, students, listen_port, pg_port):
    shutil.copy(ROOT / "nbgrader_config.py", root)
    shutil.copytree(ROOT / "solutions" / A, root / "solutions" / A)
    course = Course(root)
    course.release(A)
    prelude = f"import os\nROOT = {str(root)!r}\nLISTEN_PORT = {listen_port}\nPG_PORT = {pg_port}\n"
    for student in students:
        if student in HONEST:
            faults.write(course, student, HONEST[student])
            path = course.path("submitted", student, A, A)
            nb = nbformat.read(path, as_version=4)
            for cell in nb.cells:
                if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "markdown":
                    cell.source += f"\n{MARKER} {student}"
            nbformat.write(nb, path)
        else:
            cell = "train" if student in LATE_ATTACKS else "ReLU"
            attack = {**ATTACKS, **LATE_ATTACKS}[student].replace("MARK", student)
            code = (f"{prelude}print('ATTEMPTED {student}')\n{attack}").replace("\n", "\n    ")
            case = faults.Case(student, set(), answers={cell: f"@reference\ntry:\n    {code}\nexcept Exception as _e:\n"
                                                               f"    print('BLOCKED:', type(_e).__name__, _e)\n"})
            faults.write(course, student, case)
    return course


def grade_batch(tmp_path_factory, name, students, db_url=None, pg_port=1):
    """Grade ``students`` in one batch (``--jobs 2``) in a new course; return what a test needs to compare."""
    require_bwrap()
    root = tmp_path_factory.mktemp(name)
    listener = Listener()
    course = make_course(root, students, listener.port, pg_port)
    db_args = ["--db-url", db_url] if db_url else []
    if db_url:
        run_cli("--course", str(root), *db_args, "release", A)
    packages = [os.path.dirname(autograder.__file__), os.path.dirname(reludrop_core.__file__)]
    course_before = file_hashes(root, skip={"autograded", "feedback", "gradebook.db"})
    code_before = file_hashes(*packages)
    saved = {k: os.environ.get(k) for k in SECRETS}
    os.environ.update(SECRETS)
    started = time.monotonic()
    try:
        status, output = run_cli("--course", str(root), *db_args, "--timeout", "30", "autograde", A, "--jobs", "2")
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    seconds = time.monotonic() - started
    feedback_status, _ = run_cli("--course", str(root), *db_args, "feedback", A)
    time.sleep(5)                   # a leftover process of an attack would act after 4 s
    listener.close()
    code_after = file_hashes(*packages)
    return types.SimpleNamespace(
        root=root, course=course, status=status, output=output, seconds=seconds, feedback_status=feedback_status,
        db_url=db_url or f"sqlite:///{root}/gradebook.db", connections=listener.connections,
        course_before=course_before, course_after=file_hashes(root, skip={"autograded", "feedback", "gradebook.db"}),
        code_changed=sorted(k for k in code_before if code_after.get(k) != code_before[k]),
        code_added=sorted(set(code_after) - set(code_before)))


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return grade_batch(tmp_path_factory, "clean", list(HONEST))


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return grade_batch(tmp_path_factory, "hostile", HOSTILE + list(HONEST))


@pytest.fixture(scope="module")
def postgres():
    with server_or_skip() as server:
        yield server


@pytest.fixture(scope="module")
def hostile_pg(tmp_path_factory, postgres):
    url = postgres.create_database("sandbox_hostile")
    return grade_batch(tmp_path_factory, "hostile_pg", HOSTILE + list(HONEST), db_url=url,
                       pg_port=int(re.search(r":(\d+)/", url).group(1)))


BATCHES = ["hostile", "hostile_pg"]


@pytest.fixture(params=BATCHES)
def batch(request):
    return request.getfixturevalue(request.param)


def autograded_text(batch, student):
    """Every output of the student's autograded notebook, as text (what the kernel printed, not the sources)."""
    path = batch.course.path("autograded", student, A, A)
    if not path.exists():
        return ""
    nb = nbformat.read(path, as_version=4)
    return "\n".join(str(o.get("text") or o.get("evalue") or o.get("data", {}))
                     for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def feedback_text(batch, student):
    """The outputs shown in the student's feedback HTML (not the sources, which are their own code)."""
    path = batch.course.path("feedback", student, A, A, ".html")
    html = path.read_text(encoding="utf-8") if path.exists() else ""
    return "\n".join(part.split("</div>")[0] for part in html.split('class="output_subarea')[1:])


# ---------------------------------------------------------------------- the honest classmates

def test_honest_classmates_keep_exactly_the_scores_of_a_clean_batch(batch, clean):
    """Does every honest student score, cell by cell, what they score in a batch without the hostile ones?"""
    expected = grades(clean.db_url)
    assert {s for s, _ in expected} == set(HONEST)
    assert grades(batch.db_url, set(HONEST)) == expected
    assert sum(score for (s, _), (score, _) in expected.items() if s == "honest_a") == sum(faults.POINTS.values())


def test_every_attack_ran_and_the_batch_finished(batch):
    """Did each attack really run in its kernel (ATTEMPTED is in its output), and did the batch end normally?"""
    assert "Traceback" not in batch.output, batch.output[-3000:]
    assert re.search(rf"graded {len(HOSTILE) + len(HONEST)} submission\(s\)", batch.output), batch.output[-2000:]
    for student in HOSTILE:
        assert f"ATTEMPTED {student}" in autograded_text(batch, student), f"{student}'s attack never ran"
    assert batch.feedback_status == 0


def test_the_gradebook_is_intact_and_a_copy_was_made_first(batch):
    """Is the gradebook readable, whole (every student graded once) and, for sqlite, backed up before the batch?"""
    graded = grades(batch.db_url)
    assert {s for s, _ in graded} == set(HOSTILE) | set(HONEST)
    if batch.db_url.startswith("sqlite"):
        path = batch.root / "gradebook.db"
        assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        copies = list(batch.root.glob("gradebook.db.bak-*"))
        assert len(copies) == 1 and f"gradebook copied to {copies[0]}" in batch.output
        with Gradebook(f"sqlite:///{copies[0]}", "reludrop") as gb:
            assert [a.name for a in gb.assignments] == [A]


def test_no_course_file_and_no_grader_file_changed(batch):
    """Are the course's files (solutions, release, config, every submission) and the installed packages unchanged?"""
    changed = {k for k in batch.course_before if batch.course_after.get(k) != batch.course_before[k]}
    added = set(batch.course_after) - set(batch.course_before)
    assert not changed, sorted(changed)
    assert {pathlib.Path(p).name for p in added} <= {pathlib.Path(p).name for p in
                                                      batch.root.glob("gradebook.db.bak-*")}, sorted(added)
    assert batch.code_changed == [] and batch.code_added == []
    for student in HONEST:
        path = batch.course.path("autograded", student, A, A)
        assert MARKER in path.read_text(encoding="utf-8")      # not replaced by {} or the blank release


def test_no_hostile_output_shows_answers_classmates_or_secrets(batch):
    """Does a hostile student's autograded notebook or feedback hold no hidden test, classmate's text or secret?"""
    hidden = hidden_lines()
    forbidden = hidden + [MARKER, *SECRETS.values()]
    if not batch.db_url.startswith("sqlite"):
        forbidden.append(re.search(r"//[^:]+:([^@]+)@", batch.db_url).group(1))        # the gradebook's password
    for student in HOSTILE:
        for where, text in (("autograded", autograded_text(batch, student)), ("feedback", feedback_text(batch, student))):
            own_history = student in LATE_ATTACKS and where == "autograded"   # the instructor's copy: their own kernel
            leaked = [line for line in forbidden if line in text and not (own_history and line in hidden)]
            assert not leaked, f"{student}'s {where} shows {leaked[:2]}"
            if student not in ("prints_environment", "reads_answers", "reads_classmates") and not own_history:
                assert "GOT:" not in text, f"{student} got something: {text[text.index('GOT:'):][:300]}"
    assert "GOT:" in autograded_text(batch, "prints_history")                 # the history was printed...
    assert "quotes the hidden tests" in feedback_text(batch, "prints_history")  # ...and kept out of the feedback


def test_the_network_is_unreachable(batch):
    """Did no kernel reach a server on the grading machine's loopback, nor PostgreSQL?"""
    assert batch.connections == 0
    text = autograded_text(batch, "uses_network")
    assert "GOT: connected" not in text and "GOT: PostgreSQL" not in text
    assert text.count("BLOCKED") >= 4


def test_floods_meet_their_limits(batch):
    """Is a fork flood stopped at the process limit, and a disk flood at the scratch and /tmp sizes?"""
    forks = re.search(r"fork stopped after (\d+)", autograded_text(batch, "fork_flood"))
    assert forks and int(forks.group(1)) < 64
    floods = dict(re.findall(r"disk flood in (\S+) after (\d+) MiB", autograded_text(batch, "disk_flood")))
    assert set(floods) == {".", "/tmp"} and int(floods["."]) <= 512 and int(floods["/tmp"]) <= 256


def test_nothing_is_left_running_or_written_outside(batch):
    """After the batch, is no process of any kernel alive, no cgroup left, and nothing written outside a scratch?"""
    leftovers = [p.info for p in psutil.process_iter(["pid", "cmdline"])
                 if any("reludrop-leftover" in part or "ipykernel_launcher" in part for part in (p.info["cmdline"] or []))
                 or (p.info["cmdline"] or [""])[0].endswith("bwrap")]
    assert leftovers == []
    for root in bubblewrap.ProcessCap.ROOTS:
        assert not list(pathlib.Path(root).glob(f"reludrop-{os.getpid()}-*"))
    assert not list(pathlib.Path("/tmp").glob("reludrop-attack-*"))
    assert not list(batch.root.glob("attack-*"))
    assert not any(pathlib.Path(p).exists() for p in ("/root/attack-writes_outside", "/usr/attack-writes_outside"))


def test_the_kernel_sees_only_its_own_files_and_allowed_variables(hostile):
    """Does the listing of / show only the sandbox's folders, and the environment only the allow-list?"""
    text = autograded_text(hostile, "reads_classmates")
    listing = set(eval(re.search(r"listing /: (\[.*?\])", text).group(1)))      # noqa: S307 - our own output
    bound = bubblewrap.interpreter_dirs() + bubblewrap.package_dirs([*autograder.__path__, *reludrop_core.__path__])
    assert listing <= {"bin", "lib", "lib64", "sbin", "usr", "etc", "var", "proc", "dev", "tmp", "home", "run"} | {
        p.split("/")[1] for p in bound}, listing
    environment = autograded_text(hostile, "prints_environment")
    for name in ("RELUDROP_TEST_TOKEN", "PGPASSWORD", "RELUDROP_DB_URL"):
        assert name not in environment


# ---------------------------------------------------------------------- without bubblewrap

def test_without_bubblewrap_grading_refuses_to_start_and_says_how_to_install(clean):
    """With no bwrap, does autograde stop before grading anyone (exit 2) and name the package to install?"""
    config = clean.root / "nbgrader_config.py"
    text = config.read_text()
    config.write_text(text + "\nc.GradingExecute.bwrap = '/nonexistent/bwrap'\n")
    try:
        before = grades(clean.db_url)
        status, output = run_cli("--course", str(clean.root), "autograde", A)
        assert status == 2
        assert "apt-get install -y bubblewrap" in output and "--no-sandbox" in output
        assert "autograding" not in output and grades(clean.db_url) == before
    finally:
        config.write_text(text)


def test_no_sandbox_grades_with_a_loud_warning_in_the_run_and_the_report(clean, tmp_path):
    """Does --no-sandbox still grade correctly, warn on the run, and flag every notebook in the report?"""
    root = tmp_path / "course"
    shutil.copytree(clean.root, root)
    status, output = run_cli("--course", str(root), "--no-sandbox", "autograde", A, "--student", "honest_a")
    assert output.count("WITHOUT A SANDBOX") >= 1 and "[no-sandbox]" in output
    assert status == 1                                                   # needs attention: it ran unisolated
    assert grades(f"sqlite:///{root}/gradebook.db", {"honest_a"}) == grades(clean.db_url, {"honest_a"})


def test_an_unreadable_gradebook_stops_the_batch_naming_the_copy(clean, tmp_path, monkeypatch):
    """If the gradebook stops being readable mid-batch, does the batch stop at once (exit 2), naming the copy
    made before it, which still holds every grade of before?"""
    root = tmp_path / "course"
    shutil.copytree(clean.root, root)
    before = grades(f"sqlite:///{root}/gradebook.db")
    graded = []

    def grade_then_break(course, assignment, student):
        report = real(course, assignment, student)
        graded.append(student)
        (root / "gradebook.db").write_bytes(b"not a database")
        return report

    real = pool.grade_one
    monkeypatch.setattr(pool, "grade_one", grade_then_break)
    status, output = run_cli("--course", str(root), "autograde", A, "--jobs", "1")
    assert status == 2 and graded == [sorted(HONEST)[0]]
    copy = re.search(r"gradebook copied to (\S+) before grading", output).group(1)
    assert "can no longer be read" in output and f"cp {copy}" in output
    assert grades(f"sqlite:///{copy}") == before


# ---------------------------------------------------------------------- the sandbox's command line

def test_no_bind_is_hidden_by_a_later_tmpfs(tmp_path):
    """Is every tmpfs (/tmp, /home, /run) mounted before the binds, so that a venv or course under /tmp
    or /home stays visible (bubblewrap mounts in order: a later tmpfs hides what was bound below it)?"""
    connection = tmp_path / "kernel.json"
    connection.write_text("{}")
    packages = ["/tmp/ci/autograder", "/home/teacher/course/reludrop_core"]
    launch = bubblewrap.command(["python", "-m", "ipykernel_launcher"], files_from=None, connection_file=connection,
                                limits=bubblewrap.Limits(), packages=packages)
    try:
        args = launch.args
        mounts = [(i, args[i + 1]) for i, a in enumerate(args) if a in ("--tmpfs",)]
        binds = [(i, args[i + 2]) for i, a in enumerate(args) if a in ("--ro-bind", "--bind")]
        for at, target in mounts:
            hidden = [b for j, b in binds if j < at and (b + "/").startswith(target.rstrip("/") + "/")]
            assert not hidden, f"--tmpfs {target} hides {hidden}"
        assert [b for _, b in binds if b in packages] == packages
    finally:
        launch.close_parent_fds()
        os.close(launch.info_fd)


def test_copies_of_the_gradebook_are_kept_ten_at_most(tmp_path):
    """Does every backup make a new, readable copy, keeping only the ten newest?"""
    path = tmp_path / "gradebook.db"
    sqlite3.connect(path).execute("CREATE TABLE assignment (id)").connection.commit()
    made = []
    for i in range(12):
        made.append(gradebook.backup(f"sqlite:///{path}"))
        os.utime(made[-1], (1000 + i, 1000 + i))
    left = sorted(tmp_path.glob("gradebook.db.bak-*"))
    assert len(set(made)) == 12 and left == sorted(made[2:])
    for copy in left:
        gradebook.check_readable(f"sqlite:///{copy}")


def test_numpy_global_random_state_is_seeded_so_a_regrade_gives_the_same_draws(tmp_path):
    """Does every grading kernel start from numpy's global state seeded with ``random_seed``, so a notebook that
    draws unseeded gets the same numbers (and grade) each time, and does -1 leave it unseeded?"""
    require_bwrap()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import numpy as np\nprint(np.random.rand(3))")])

    def drawn(**options):
        copy = nbformat.from_dict(nb)
        GradingExecute(timeout=60, **options).preprocess(copy, {"metadata": {"path": str(tmp_path)}})
        return "".join(o.get("text", "") for o in copy.cells[0].outputs)

    expected = str(np.random.RandomState(0).rand(3))
    assert drawn() == drawn() == expected + "\n"
    assert drawn(random_seed=7) == str(np.random.RandomState(7).rand(3)) + "\n"
    unseeded = {drawn(random_seed=-1) for _ in range(2)}
    assert expected + "\n" not in unseeded and len(unseeded) == 2
