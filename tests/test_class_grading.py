"""Grading a whole class at once: can the instructor trust parallel and sharded grading as much as serial?

The bundled demo class (``autograder.batch.samples``: a correct student, typical mistakes, a blank, broken
files, edited and deleted tests) is graded once by stock serial ``nbgrader autograde`` (one command
per assignment, run from the course folder), and that gradebook is the reference every other run is
compared with, cell by cell:

* ``python -m autograder autograde --all --jobs N`` with the default sqlite gradebook, several times,
  with more jobs than cores, from scratch and over existing grades;
* two shards at once (``--shard 1/2``, ``--shard 2/2``) sharing one real PostgreSQL gradebook
  (Debian's server, started here in a temporary directory on a loopback port, stopped by PID);
* a shard killed mid-run (its whole process group, SIGKILL) and simply rerun.
"""

import csv
import io
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import time
import types

import psutil
import pytest
from sqlalchemy import create_engine, text

sys.path.insert(0, os.path.dirname(__file__))

from postgres_server import server_or_skip  # noqa: E402

from autograder.batch import progress as batch_progress  # noqa: E402
from autograder.batch import samples, shards, workflow  # noqa: E402
from autograder.grading import gradebook  # noqa: E402
from autograder.grading.course import Course  # noqa: E402
from nbgrader.api import Gradebook  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
BIN = pathlib.Path(sys.executable).parent
ENV = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
ENV.pop("RELUDROP_DB_URL", None)


def autograder(course, *args, db_url=None, timeout=600, **popen):
    """``python -m autograder --course COURSE [--db-url URL] ARGS`` in a new process (its own session)."""
    command = [sys.executable, "-m", "autograder", "--course", str(course)]
    command += ["--db-url", db_url] if db_url else []
    return subprocess.run(command + list(args), cwd=course, env=ENV, capture_output=True, text=True,
                          timeout=timeout, **popen)


def scores(db_url):
    """{(student, assignment, notebook, cell): (score, max_score)} for every grade in a gradebook."""
    out = {}
    with Gradebook(db_url, "reludrop") as gb:
        for assignment in gb.assignments:
            for submission in assignment.submissions:
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        key = (submission.student.id, assignment.name, notebook.name, grade.name)
                        out[key] = (float(grade.score), float(grade.max_score))
    return out


def duplicates(db_url):
    """Rows that exist more than once where one is expected: submissions, submitted notebooks, grades."""
    engine = create_engine(db_url)
    queries = {
        "submission": "SELECT assignment_id, student_id FROM submitted_assignment GROUP BY 1, 2 HAVING count(*) > 1",
        "notebook": "SELECT assignment_id, notebook_id FROM submitted_notebook GROUP BY 1, 2 HAVING count(*) > 1",
        "grade": "SELECT notebook_id, cell_id FROM grade GROUP BY 1, 2 HAVING count(*) > 1",
    }
    try:
        with engine.connect() as connection:
            return {name: connection.execute(text(q)).fetchall() for name, q in queries.items()
                    if connection.execute(text(q)).fetchall()}
    finally:
        engine.dispose()


def copy_course(template, target):
    shutil.copytree(template, target)
    return target


def submissions(course_root):
    """Every (assignment, student) of the demo class that has a submission folder."""
    base = course_root / "submitted"
    return {(a.name, s.name) for s in base.iterdir() for a in s.iterdir() if a.is_dir()}


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The demo class, released and submitted, never graded: every run below grades a copy of it."""
    root = samples.scratch_course(ROOT, tmp_path_factory.mktemp("template") / "course")
    course = Course(root)
    for assignment in course.source_assignments():
        course.release(assignment)
    samples.place(course)
    return root


@pytest.fixture(scope="module")
def stock(template, tmp_path_factory):
    """Stock serial nbgrader: ``nbgrader autograde <assignment> --force`` per assignment, from the course folder."""
    root = copy_course(template, tmp_path_factory.mktemp("stock") / "course")
    for assignment in sorted(p.name for p in (root / "notebooks").iterdir()):
        run = subprocess.run([str(BIN / "nbgrader"), "autograde", assignment, "--force"], cwd=root, env=ENV,
                             capture_output=True, text=True, timeout=900)
        assert "Traceback" not in run.stdout
    result = scores(f"sqlite:///{root}/gradebook.db")
    assert {(s, a) for s, a, _, _ in result} >= {(s, a) for a, s in submissions(root)}
    return result


@pytest.fixture(scope="module")
def parallel_run(template, tmp_path_factory):
    """The instructor's command with two jobs on a fresh copy."""
    root = copy_course(template, tmp_path_factory.mktemp("jobs2") / "course")
    run = autograder(root, "autograde", "--all", "--jobs", "2")
    return root, run


# ---------------------------------------------------------------------- sqlite, several jobs

def test_parallel_grading_gives_exactly_the_scores_of_serial_nbgrader(stock, parallel_run):
    root, run = parallel_run
    assert run.returncode == 1, run.stderr            # the demo class has students who need attention
    mine = scores(f"sqlite:///{root}/gradebook.db")
    assert mine == stock
    assert sum(score for score, _ in mine.values()) > 0


def test_the_demo_class_is_graded_as_make_demo_expects(parallel_run):
    """Does every sample student get the grade and the flags ``make demo`` checks for (``samples.EXPECTED``), so
    that the README's main command succeeds?"""
    root, _ = parallel_run
    course = Course(root)
    reports = workflow.reports_for(course, course.source_assignments())
    assert {r.student for r in reports} >= set(samples.STUDENTS)
    assert samples.check(reports) == []


def test_every_submission_is_reported_once_with_progress_and_eta(parallel_run):
    root, run = parallel_run
    units = submissions(root)
    lines = [line for line in run.stdout.splitlines() if re.match(r"\[\d+/\d+", line)]
    assert len(lines) == len(units)
    assert [int(re.match(r"\[(\d+)/", line).group(1)) for line in lines] == list(range(1, len(units) + 1))
    assert all(f"/{len(units)}" in line for line in lines)
    assert all(re.search(r"ETA \d+", line) for line in lines[:-1])
    reported = {tuple(re.match(r"\[[^\]]*\] (\S+) (\S+):", line).groups()) for line in lines}
    assert reported == units
    assert f"graded {len(units)} submission(s)" in run.stdout and "with 2 job(s)" in run.stdout


def test_more_jobs_than_cores_over_existing_grades_never_lose_duplicate_or_corrupt_one(parallel_run, stock, tmp_path):
    """The two-job run's course graded again, with four jobs on two cores, over the grades already there."""
    root = copy_course(parallel_run[0], tmp_path / "course")
    url = f"sqlite:///{root}/gradebook.db"
    run = autograder(root, "autograde", "--all", "--jobs", "4")
    assert run.returncode == 1, run.stderr
    assert "database is locked" not in run.stdout + run.stderr
    assert scores(url) == stock
    assert duplicates(url) == {}
    engine = create_engine(url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    engine.dispose()


def test_ctrl_c_stops_every_worker_and_kernel_at_once(template, tmp_path):
    root = copy_course(template, tmp_path / "course")
    run = subprocess.Popen([sys.executable, "-m", "autograder", "--course", str(root), "autograde", "--all",
                            "--jobs", "2"], cwd=root, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, start_new_session=True)
    for line in run.stdout:
        if re.match(r"\[1/\d+", line):
            break
    os.killpg(run.pid, signal.SIGINT)                 # what Ctrl-C in the terminal sends: the whole group
    start = time.monotonic()
    output = run.communicate(timeout=60)[0]
    assert time.monotonic() - start < 10
    assert run.returncode == 130
    assert "interrupted" in output and "run the same command again" in output and "Traceback" not in output
    deadline = time.monotonic() + 20
    while kernels_under(root) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert kernels_under(root) == []


def test_concurrent_gradebook_writers_all_land(tmp_path):
    """Six processes write grades through nbgrader's Gradebook at once: every grade lands, once."""
    url = f"sqlite:///{tmp_path}/gradebook.db"
    gradebook.serialize_sqlite()
    with Gradebook(url, "reludrop") as gb:
        gb.add_assignment("a")
        gb.add_notebook("nb", "a")
        for i in range(8):
            gb.add_grade_cell(f"test_{i}", "nb", "a", max_score=1, cell_type="code")
            gb.add_source_cell(f"test_{i}", "nb", "a", cell_type="code", source="", checksum=str(i))
    writer = (
        "import sys, warnings; warnings.filterwarnings('ignore')\n"
        "from autograder.grading.gradebook import serialize_sqlite; serialize_sqlite()\n"
        "from nbgrader.api import Gradebook\n"
        "url, w = sys.argv[1], int(sys.argv[2])\n"
        "for k in range(8):\n"
        "    student = f'w{w}_{k}'\n"
        "    with Gradebook(url, 'reludrop') as gb:\n"
        "        gb.update_or_create_student(student)\n"
        "        gb.update_or_create_submission('a', student)\n"
        "    with Gradebook(url, 'reludrop') as gb:\n"
        "        for grade in gb.find_submission_notebook('nb', 'a', student).grades:\n"
        "            grade.auto_score = (w + k) % 2\n"
        "            gb.db.commit()\n")
    procs = [subprocess.Popen([sys.executable, "-c", writer, url, str(w)], env=ENV, stderr=subprocess.PIPE, text=True)
             for w in range(6)]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, errors
    got = scores(url)
    assert len(got) == 6 * 8 * 8
    assert all(score == (int(s[1]) + int(s.split("_")[1])) % 2 for (s, _, _, _), (score, _) in got.items())
    assert duplicates(url) == {}


# ---------------------------------------------------------------------- shards and their options

def test_shards_split_any_class_into_disjoint_parts_that_cover_it():
    students = [f"s{i:03d}" for i in range(300)] + ["张伟", "王芳", "li_na", "a b", "ñ"]
    for n in range(1, 6):
        parts = [{s for s in students if shards.in_shard(s, (i, n))} for i in range(1, n + 1)]
        assert set().union(*parts) == set(students)
        assert sum(len(p) for p in parts) == len(students)
        assert all(len(p) >= len(students) / n * 0.7 for p in parts)       # roughly even
    # the shard of a student depends on its id only, not on who else is in the class
    assert [shards.shard_of(s, 3) for s in students[:50]] == [shards.shard_of(s, 3) for s in students[:50][::-1]][::-1]
    assert shards.shard_of("张伟", 4) == shards.shard_of("张伟", 4)


@pytest.mark.parametrize("text, message", [("3", "i/n"), ("0/2", "between 1 and n"), ("3/2", "between 1 and n"),
                                           ("a/b", "i/n")])
def test_a_bad_shard_says_how_to_write_one(text, message):
    with pytest.raises(ValueError, match=message):
        shards.parse_shard(text)


def test_shards_need_a_shared_gradebook_and_jobs_must_be_positive(template, tmp_path):
    root = copy_course(template, tmp_path / "course")
    run = autograder(root, "autograde", "--all", "--shard", "1/2")
    assert run.returncode == 2 and "PostgreSQL" in run.stderr and "--jobs" in run.stderr
    run = autograder(root, "autograde", "--all", "--jobs", "0")
    assert run.returncode == 2 and "--jobs 0" in run.stderr
    run = autograder(root, "autograde", "--all", "--shard", "2/1", db_url="postgresql+psycopg2://nobody@127.0.0.1:1/x")
    assert run.returncode == 2 and "--shard 2/1: i must be between 1 and n" in run.stderr
    assert not (root / "autograded").exists()


def test_eta_comes_from_the_pace_so_far():
    now = [0.0]
    lines = []
    progress = batch_progress.Progress(4, 2, out=lines.append, stream=open(os.devnull, "w"), clock=lambda: now[0])
    assert progress.eta() is None
    report = samples_report()
    now[0] = 10.0
    progress.finished(report)                  # 1 done in 10 s: 3 left at 10 s each
    assert "ETA 30 s" in lines[-1] and lines[-1].startswith("[1/4")
    now[0] = 30.0
    progress.finished(report)                  # 2 done in 30 s: 2 left at 15 s each
    assert "ETA 30 s" in lines[-1] and "[2/4" in lines[-1]
    assert batch_progress.duration(3725) == "1 h 02 min" and batch_progress.duration(245) == "4 min 05 s"


def test_on_a_terminal_a_bar_with_the_eta_is_redrawn_under_the_lines():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    now, lines, terminal = [0.0], [], Terminal()
    progress = batch_progress.Progress(4, 2, out=lines.append, stream=terminal, clock=lambda: now[0])
    progress.draw()
    now[0] = 12.0
    progress.finished(samples_report())
    drawn = terminal.getvalue().split("\r")[-1]
    assert drawn.startswith("[#######" + "." * 21 + "] 1/4  25%") and "ETA 36 s" in drawn
    progress.close()
    assert terminal.getvalue().endswith("\r\033[K") and lines[-1].startswith("graded 1 submission(s)")


def samples_report():
    from autograder.grading.report import SubmissionReport
    return SubmissionReport("张伟", "01_relu_network")


# ---------------------------------------------------------------------- PostgreSQL, several machines

@pytest.fixture(scope="module")
def pg():
    with server_or_skip() as server:
        yield server


def released_on(pg, template, target, database):
    """A copy of the course whose gradebook is a new PostgreSQL database, released into it."""
    root = copy_course(template, target)
    (root / "gradebook.db").unlink()
    url = pg.create_database(database)
    run = autograder(root, "release", db_url=url)
    assert run.returncode == 0, run.stderr
    return root, url


def start_shard(root, url, shard):
    return subprocess.Popen([sys.executable, "-m", "autograder", "--course", str(root), "--db-url", url,
                             "autograde", "--all", "--shard", shard, "--jobs", "1"],
                            cwd=root, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def graded_students(output):
    return {tuple(m.groups()) for m in re.finditer(r"^\[\d+/\d+[^\]]*\] (\S+) (\S+):", output, re.M)}


def kernels_under(root):
    """Live kernel processes started for notebooks of this course (their working directory is inside it)."""
    found = []
    for process in psutil.process_iter(["cmdline", "cwd"]):
        try:
            if "ipykernel" in " ".join(process.info["cmdline"] or []) and str(root) in (process.info["cwd"] or ""):
                found.append(process)
        except (psutil.Error, TypeError):
            continue
    return found


@pytest.fixture(scope="module")
def sharded(pg, template, tmp_path_factory):
    """Two shards started at once on one PostgreSQL gradebook; shard 1 is killed after its first submission,
    shard 2 finishes, then shard 1 is run again with the same command."""
    root, url = released_on(pg, template, tmp_path_factory.mktemp("shards") / "course", "shards")
    victim, other = start_shard(root, url, "1/2"), start_shard(root, url, "2/2")
    killed_after = ""
    for line in victim.stdout:                      # kill it once it has graded its first submission
        killed_after += line
        if re.match(r"\[1/\d+", line):
            break
    os.killpg(victim.pid, signal.SIGKILL)           # the shard and its workers; kernels are in sessions of their own
    victim.wait(timeout=30)
    other_output = other.communicate(timeout=900)[0]
    deadline = time.monotonic() + 20                # its kernels notice their parent is gone and exit
    while kernels_under(root) and time.monotonic() < deadline:
        time.sleep(0.5)
    state = types.SimpleNamespace(root=root, url=url, killed_after=killed_after, other=other, other_output=other_output,
                                  orphans=kernels_under(root), scores_before_rerun=scores(url),
                                  autograded_before_rerun=autograded(root))
    state.rerun = autograder(root, "autograde", "--all", "--shard", "1/2", "--jobs", "2", db_url=url)
    return state


def autograded(root):
    """(assignment, student) of every notebook nbgrader finished grading here."""
    return {(p.parent.name, p.parent.parent.name) for p in (root / "autograded").glob("*/*/*.ipynb")}


def shard_units(root, i):
    return {(a, s) for a, s in submissions(root) if shards.in_shard(s, (i, 2))}


def test_the_demo_class_needs_both_shards(sharded):
    """Each shard has work (else the test below proves little), and only both together cover the class."""
    one, two = shard_units(sharded.root, 1), shard_units(sharded.root, 2)
    assert len(one) >= 2 and len(two) >= 2 and not one & two and one | two == submissions(sharded.root)


def test_a_shard_grades_its_students_while_another_runs(sharded, stock):
    assert sharded.other.returncode in (0, 1), sharded.other_output
    two = shard_units(sharded.root, 2)
    assert graded_students(sharded.other_output) == two
    got = {k: v for k, v in sharded.scores_before_rerun.items() if (k[1], k[0]) in two}
    assert got == {k: v for k, v in stock.items() if (k[1], k[0]) in two}


def test_a_shard_killed_mid_run_left_work_and_no_kernel(sharded):
    one = shard_units(sharded.root, 1)
    assert len(graded_students(sharded.killed_after)) == 1 < len(one)
    assert not one <= sharded.autograded_before_rerun
    assert sharded.orphans == []


def test_rerunning_the_killed_shard_completes_the_gradebook_exactly_once(sharded, stock):
    assert sharded.rerun.returncode in (0, 1), sharded.rerun.stdout + sharded.rerun.stderr
    assert graded_students(sharded.rerun.stdout) == shard_units(sharded.root, 1)
    assert scores(sharded.url) == stock
    assert duplicates(sharded.url) == {}
    assert autograded(sharded.root) == submissions(sharded.root) - {("01_relu_network", "chen_jing"),
                                                                     ("02_softmax_comparison", "chen_jing")}


def test_anyone_reads_the_whole_class_back_from_postgresql(sharded, stock, tmp_path):
    report = autograder(sharded.root, "report", "--all", db_url=sharded.url)
    assert report.returncode == 1
    assert "NEEDS ATTENTION" in report.stdout
    assert all(student in report.stdout for _, student, _, _ in stock)
    # another machine: the same submissions, none of the graded notebooks (they stay where they were graded)
    elsewhere = copy_course(sharded.root, tmp_path / "elsewhere")
    shutil.rmtree(elsewhere / "autograded")
    report = autograder(elsewhere, "report", "--all", "--json", str(tmp_path / "r.json"), db_url=sharded.url)
    notebooks = [(r["student"], r["assignment"], nb) for r in json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
                 for nb in r["notebooks"]]
    graded_here = autograded(sharded.root)
    for student, assignment, nb in notebooks:
        if (assignment, student) in graded_here:
            assert nb["status"] == "graded", (student, assignment, nb["status"])
            assert nb["score"] == sum(v[0] for k, v in stock.items() if k[:3] == (student, assignment, nb["name"]))
    assert not [nb["name"] for _, _, nb in notebooks if nb["status"] == "not graded"]
    assert "graded on another machine" in report.stdout          # where the reasons for lost points are
    export = autograder(sharded.root, "export", "--to", "grades.csv", db_url=sharded.url)
    assert export.returncode == 0
    rows = list(csv.DictReader(io.StringIO((sharded.root / "grades.csv").read_text(encoding="utf-8"))))
    students, assignments = {s for s, _, _, _ in stock}, {a for _, a, _, _ in stock}
    assert len(rows) == len(students) * len(assignments)            # one row per student and assignment
    totals = {}
    for (student, assignment, _, _), (score, _) in stock.items():
        totals[(student, assignment)] = totals.get((student, assignment), 0.0) + score
    assert {(r["student_id"], r["assignment"]): float(r["raw_score"]) for r in rows if r["timestamp"] or
            (r["student_id"], r["assignment"]) in totals} == totals
