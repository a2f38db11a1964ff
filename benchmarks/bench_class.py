"""Grading a whole synthetic class: plain nbgrader against ``python -m autograder autograde --jobs N``.

    python benchmarks/bench_class.py                      # 100 students x 4 notebooks: stock, jobs1, jobs2, shards2
    python benchmarks/bench_class.py --students 5         # a quick look (each kind of student once)
    python benchmarks/bench_class.py --configs jobs1,jobs2 --json build/bench_class.json

The class (``--students N``, ``--seed S``; the same class for the same N and S) is made from the course's
own release and solutions, like ``autograder.batch.samples``: about 55 % correct (the reference answers, some
with harmless variations), 25 % typical mistakes (1-3 per notebook, from ``samples.MISTAKES`` and the
pool below), 8 % blank or half done, 7 % broken files (not JSON, empty, a syntax error, saved under
another name, missing) and 5 % hostile (one notebook from ``tests/pipeline_fixtures``: os._exit, a
memory blow-up, rebinding numpy or the checks, stderr, edited or deleted test cells... and, about 1.5
students per 100, a loop that costs the 60 s cell timeout: ``--timeouts K`` to choose).

Every configuration grades an identical copy of the class in a fresh scratch course (released before the
clock starts; the repository is not touched):

* ``stock``: ``nbgrader autograde <assignment> --force``, one command per assignment, run from the course
  folder, serially, with nbgrader's *default* configuration (``STOCK_CONFIG``: only where the course keeps its
  files): what an instructor has without this kit. No sandbox, no course preprocessors, every cell run
  (demonstrations included), nbgrader's 30 s cell timeout;
* ``stock-course``: the same commands with the course's ``nbgrader_config.py`` (its preprocessors, the sandbox,
  demonstration cells skipped);
* ``jobsN``: ``python -m autograder --course DIR autograde --all --jobs N``;
* ``pipeline``: the same without ``--jobs`` (its default);
* ``jobsN-nosandbox``, ``pipeline-nosandbox``: the same with ``--no-sandbox``, to measure what the sandbox costs;
* ``jobsN-alldemos``: the same with every demonstration cell run (``c.GradingExecute.skip_demonstrations =
  False``), to measure what skipping them saves;
* ``shardsN``: N machines sharing one PostgreSQL gradebook, played by N shard processes started at once on this
  machine (``--shard i/N --jobs 1`` each; a PostgreSQL server from Debian's packages, on a loopback port).

Afterwards every student x notebook x cell score is read from each run's gradebook. All our configurations
must agree exactly. ``stock`` must agree with them on every student it grades soundly (correct, typical
mistakes, blank or half done); every other difference is listed with what each grader saw in that cell and
why ours is right (``explain``): stock gives 0 for any stderr output (a warning), runs edited tests, loses
a whole notebook to one dead kernel... A difference nothing explains, or one on a soundly graded student,
fails the run. The table gives wall time, notebooks per minute (students x 4 notebooks), seconds per student,
seconds per correct notebook, the speed-up over ``stock`` and a linear projection to a 300-student class.
Exit status: 0 when the scores agree as above, 1 when they do not or a run failed, 2 for a bad command line.

The default run grades 100 students four times: about an hour on 2 cores, most of it ``stock``. Nothing else
should run then.
"""

import argparse
import json
import os
import pathlib
import random
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import nbformat  # noqa: E402

from nbgrader.api import Gradebook  # noqa: E402

from autograder.batch import samples  # noqa: E402
from autograder.grading.course import Course  # noqa: E402

import pipeline_fixtures as fixtures  # noqa: E402  (tests/pipeline_fixtures: the hostile cases)
from postgres_server import PostgresServer, unavailable_reason  # noqa: E402  (tests/postgres_server.py)

from autograder import events  # noqa: E402

BIN = pathlib.Path(sys.executable).parent
TARGET = 5.0                              # throughput of the parallel pipeline over plain nbgrader
TARGET_CORRECT = 1.5                      # seconds of wall time per correct notebook, with --jobs 2
SOUND = ("correct", "mistakes", "blank/partial")     # kinds of student stock nbgrader grades soundly
#: nbgrader's default configuration: only where this course keeps its files (what an instructor has without the kit).
STOCK_CONFIG = """c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "reludrop"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
"""
PROJECT_TO = 300                          # students, for the projected times
CELL_TIMEOUT = 60                         # c.Execute.timeout in nbgrader_config.py (only quoted in the output)

# ---------------------------------------------------------------------- the mix

MIX = [("correct", 0.55), ("mistakes", 0.25), ("blank/partial", 0.08), ("broken", 0.07), ("hostile", 0.05)]
NON_ASCII = ["李雷", "韩梅梅", "王小明", "José_Núñez", "陈静", "Zoë", "刘洋", "赵敏"]

#: Typical mistakes on top of ``samples.MISTAKES``: (assignment, answer cell) -> [(what, source)].
#: ``@reference`` stands for the reference answer of that cell.
MORE_MISTAKES = {
    ("01_relu_network", "ReLU"): [
        ("ReLU changes z in place", "def ReLU(z):\n    z[z < 0] = 0\n    return z\n"),
    ],
    ("01_relu_network", "sigmoid"): [
        ("sigmoid overflows for large |z|", "def sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n"),
    ],
    ("01_relu_network", "sigmoid_gradient"): [
        ("sigmoid gradient s * (1 + s)", "def sigmoid_gradient(z):\n    s = sigmoid(z)\n    return s * (1 + s)\n"),
    ],
    ("01_relu_network", "softmax"): [
        ("softmax normalised over the whole array",
         "def softmax(z):\n    e = np.exp(z - np.max(z, axis=1, keepdims=True))\n    return e / e.sum()\n"),
    ],
    ("01_relu_network", "forward_propagate"): [
        ("the output layer uses activate_fcn, not softmax",
         "def forward_propagate(X, thetas, activate_fcn):\n"
         "    z_out, a_out = [X], [X]\n"
         "    for theta in thetas:\n"
         "        z_out.append(a_out[-1] @ theta.T)\n"
         "        a_out.append(activate_fcn(z_out[-1]))\n"
         "    return z_out, a_out\n"),
    ],
    ("01_relu_network", "cost_fcn"): [
        ("cost without 1/m",
         "def cost_fcn(params, size, index, X, Y, activate_fcn):\n"
         "    thetas = unpack_params(params, size)\n"
         "    h = forward_propagate(X, thetas, activate_fcn)[1][-1]\n"
         "    return float(-np.sum(Y * np.log(h)))\n"),
    ],
    ("01_relu_network", "backprop"): [
        ("backprop without 1/m", None),          # made from the reference: see _edit_reference
        ("backprop with the error's sign flipped", None),
    ],
    ("01_relu_network", "train"): [
        ("train never passes ratio on", fixtures.TRAIN_WITHOUT_RATIO),
        ("train updates the caller's params in place",
         "def train(X, Y, params, size, alpha, iters, activate_fcn, activate_fcn_gradient, ratio=0., step=-1):\n"
         "    m = X.shape[0]\n"
         "    if step == -1:\n"
         "        step = m\n"
         "    index = np.cumsum(np.array(size[1:]) * np.array(size[:-1]))\n"
         "    g, cost = params, np.zeros(iters)\n"
         "    for i in range(iters):\n"
         "        if step < m:\n"
         "            cost[i] = cost_fcn(g, size, index, X, Y, activate_fcn)\n"
         "        for j in range(0, m, step):\n"
         "            J, grad = backprop(g, size, index, X[j:j + step], Y[j:j + step], activate_fcn,\n"
         "                               activate_fcn_gradient, ratio)\n"
         "            g -= alpha * grad\n"
         "        if step >= m:\n"
         "            cost[i] = J\n"
         "    return g, cost\n"),
    ],
    ("02_softmax_comparison", "softmax_gradient"): [
        ("the Jacobian of the first sample only",
         "def softmax_gradient(z):\n    s = softmax(z)[0]\n    return np.diag(s) - np.outer(s, s)\n"),
        ("the Jacobian with its sign flipped",
         "def softmax_gradient(z):\n    s = softmax(z)\n    return s[:, :, None] * (s[:, None, :] - np.eye(s.shape[1]))\n"),
    ],
    ("03_sigmoid_dropout", "Dropout"): [
        ("Dropout keeps ratio of the nodes instead of 1 - ratio",
         "def Dropout(size, ratio):\n"
         "    num = int(np.round(size * ratio))\n"
         "    ym = np.zeros(size)\n"
         "    ym[np.random.permutation(size)[:num]] = size / max(num, 1)\n"
         "    return ym\n"),
    ],
    ("03_sigmoid_dropout", "forward_propagate_dropout"): [
        ("the mask is applied before the activation",
         "def forward_propagate_dropout(X, thetas, activate_fcn, ratio):\n"
         "    z_out, a_out = [X], [X]\n"
         "    for theta in thetas[:-1]:\n"
         "        z_out.append(a_out[-1] @ theta.T)\n"
         "        a_out.append(activate_fcn(z_out[-1] * Dropout(theta.shape[0], ratio)))\n"
         "    z_out.append(a_out[-1] @ thetas[-1].T)\n"
         "    a_out.append(softmax(z_out[-1]))\n"
         "    return z_out, a_out\n"),
    ],
    ("03_sigmoid_dropout", "backprop"): [
        ("backprop returns the cost with Dropout", None),
    ],
    ("04_relu_dropout", "ReLU_dropout_gradient"): [
        ("the Dropout gain forgotten (plain ReLU gradient)",
         "def ReLU_dropout_gradient(z, a):\n    return (np.asarray(z) > 0).astype(np.float64)\n"),
        ("a / z everywhere (nan where z = 0)", "def ReLU_dropout_gradient(z, a):\n    return a / z\n"),
    ],
}

#: Answers that keep every mark: a correct student's harmless variations. (assignment, cell) -> [(what, source)].
VARIATIONS = {
    ("01_relu_network", "ReLU"): [
        ("ReLU with np.where", "def ReLU(z):\n    z = np.asarray(z, dtype=np.float64)\n    return np.where(z > 0, z, 0.0)\n"),
        ("a debug print after ReLU", "@reference\n\nprint('ReLU ok?', ReLU(np.array([[-1.0, 2.0]])))\n"),
    ],
    ("01_relu_network", "softmax"): [
        ("softmax with np.max / np.sum",
         "def softmax(z):\n    z = np.asarray(z, dtype=np.float64)\n"
         "    e = np.exp(z - np.max(z, axis=1, keepdims=True))\n    return e / np.sum(e, axis=1, keepdims=True)\n"),
    ],
    ("03_sigmoid_dropout", "Dropout"): [
        ("Dropout with comments", "# 先算保留几个节点 / how many nodes stay\n@reference\n"),
    ],
    ("04_relu_dropout", "ReLU_dropout_gradient"): [
        ("a / z that warns at z = 0, then fixed (samples: 王芳)",
         samples.MISTAKES["王芳"][("04_relu_dropout", "ReLU_dropout_gradient")]),
    ],
}
WRITTEN = ["（作答）见上面的实验结果。", "Dropout 让训练更慢，但在有噪声的测试集上更稳。",
           "I think the exact gradient matters because the handout's shortcut shrinks it."]
SCRATCH_CELL = "# 我自己试一试 / trying things out\nprint('还行 / fine')\n"

#: The hostile cases (all on notebook 01, from tests/pipeline_fixtures). The ``--timeouts`` first hostile students
#: get the two that cost a cell timeout, in turn; the others get the rest, in this order (a small class gets the
#: first ones: a dead kernel, the memory limit, tampering, stderr, edited and deleted tests).
TIMEOUT_CASES = ["infinite_loop", "catches_interrupt"]
HOSTILE_CASES = ["os_exit", "memory_hog", "rebinds_numpy", "writes_stderr", "edited_test", "deleted_cells",
                 "rebinds_check", "rebinds_checks_name", "duplicated_test", "retyped_cells", "silences_tracebacks",
                 "extra_files"]
BROKEN = ["not JSON (half-saved)", "an empty file", "a syntax error", "saved under another name",
          "no notebook in the folder", "assignment not handed in"]


def _edit_reference(what, reference):
    """The mistakes that are the reference answer with one thing changed."""
    edits = {
        "backprop without 1/m": ("delta = (h - Y) / m", "delta = h - Y"),
        "backprop with the error's sign flipped": ("delta = (h - Y) / m", "delta = (Y - h) / m"),
        "backprop returns the cost with Dropout": ("cost = float(", "h = a_out[-1]\n    cost = float("),
    }
    old, new = edits[what]
    assert old in reference, f"{what}: the reference answer changed; update bench_class.py"
    return reference.replace(old, new, 1)


def mistake_pool(course, assignment):
    """[(cell, what, source)] for one notebook: samples.MISTAKES (not the ones that keep their marks) and ours."""
    reference = samples.solution_answers(course, assignment, assignment)
    pool = []
    for student, answers in samples.MISTAKES.items():
        for (a, cell), source in answers.items():
            # chen_jing's is a syntax error (see BROKEN); 王芳's notebook-04 answer warns but keeps its marks
            if a == assignment and student != "chen_jing" and (student, a) != ("王芳", "04_relu_dropout"):
                pool.append((cell, f"{cell}: samples.MISTAKES[{student}]", source))
    for (a, cell), entries in MORE_MISTAKES.items():
        if a == assignment:
            for what, source in entries:
                pool.append((cell, what, source if source is not None else _edit_reference(what, reference[cell])))
    return pool


def allocate(n, mix):
    """Counts per kind summing to n (largest remainder); with n >= len(mix) every kind at least once."""
    raw = [n * share for _, share in mix]
    counts = [int(x) for x in raw]
    for i in sorted(range(len(mix)), key=lambda i: raw[i] - counts[i], reverse=True)[: n - sum(counts)]:
        counts[i] += 1
    if n >= len(mix):
        for i in range(len(mix)):
            while counts[i] == 0:
                donor = max(range(len(mix)), key=lambda j: counts[j])
                counts[donor] -= 1
                counts[i] += 1
    return dict(zip((k for k, _ in mix), counts))


def student_ids(n, rng):
    ids = [f"s{i:03d}" for i in range(1, n + 1)]
    for k, i in enumerate(sorted(rng.sample(range(n), min(n, max(1, round(n * 0.04)))))):
        name = NON_ASCII[k % len(NON_ASCII)]
        ids[i] = name if k < len(NON_ASCII) else f"{name}{i + 1}"
    return ids


def plan_class(course, n, seed, timeouts=None):
    """{student: (kind, what, {assignment: spec})}; a spec says how to write that notebook (see ``write``)."""
    rng = random.Random(seed)
    assignments = course.source_assignments()
    counts = allocate(n, MIX)
    kinds = [k for k, c in counts.items() for _ in range(c)]
    rng.shuffle(kinds)
    ids = student_ids(n, rng)
    hostile = [i for i, k in enumerate(kinds) if k == "hostile"]
    if timeouts is None:
        timeouts = round(n * 0.015)
    timeouts = min(timeouts, len(hostile))
    hostile_case = {i: (TIMEOUT_CASES[j % 2] if j < timeouts else HOSTILE_CASES[(j - timeouts) % len(HOSTILE_CASES)])
                    for j, i in enumerate(hostile)}
    answer_cells = [(a, cell) for a in assignments for cell in samples.solution_answers(course, a, a)]
    pools = {a: mistake_pool(course, a) for a in assignments}

    plan = {}
    for i, (student, kind) in enumerate(zip(ids, kinds)):
        specs = {a: {"written": rng.choice(WRITTEN)} for a in assignments}
        what = ""
        if kind == "correct":
            varied = []
            for a in assignments:
                options = [(cell, w, s) for (aa, cell), entries in VARIATIONS.items() if aa == a for w, s in entries]
                if options and rng.random() < 0.3:
                    cell, w, source = rng.choice(options)
                    specs[a]["answers"] = {cell: source}
                    varied.append(w)
                if rng.random() < 0.15:
                    specs[a]["scratch"] = True
                    varied.append(f"a scratch cell in {a[:2]}")
            what = "; ".join(varied) or "the reference answers"
        elif kind == "mistakes":
            chosen = []
            wrong = [a for a in assignments if rng.random() < 0.6] or [rng.choice(assignments)]
            for a in wrong:
                by_cell = {}
                for cell, w, source in pools[a]:
                    by_cell.setdefault(cell, []).append((w, source))
                cells = rng.sample(sorted(by_cell), min(len(by_cell), rng.randint(1, 3)))
                specs[a]["answers"] = {}
                for cell in cells:
                    w, source = rng.choice(by_cell[cell])
                    specs[a]["answers"][cell] = source
                    chosen.append(w)
            what = "; ".join(chosen)
        elif kind == "blank/partial":
            if rng.random() < 0.5:
                for a in assignments:
                    specs[a]["fill"] = set()
                what = "blank: the release unchanged"
            else:
                done = set(answer_cells[: rng.randint(1, len(answer_cells) // 2)])
                for a in assignments:
                    specs[a]["fill"] = {cell for aa, cell in done if aa == a}
                what = f"partial: the first {len(done)} of {len(answer_cells)} answers"
        elif kind == "broken":
            how, a = rng.choice(BROKEN), rng.choice(assignments)
            spec = specs[a]
            if how == "not JSON (half-saved)":
                spec["raw"] = fixtures.CASES["not_json"].raw
            elif how == "an empty file":
                spec["raw"] = lambda text: ""
            elif how == "a syntax error":
                cell = rng.choice(sorted(samples.solution_answers(course, a, a)))
                spec["answers"] = {cell: "@reference\nprint('调试 / debug'\n"}
                how += f" in {cell}"
            elif how == "saved under another name":
                spec["name"] = f"{a}-副本"
            elif how == "no notebook in the folder":
                spec["name"] = None
                spec["files"] = {"笔记.txt": "忘了交 notebook / forgot the notebook\n"}
            else:
                spec["skip"] = True
            what = f"{a}: {how}"
        else:
            case = hostile_case[i]
            specs["01_relu_network"]["case"] = case
            what = f"01: {case} ({fixtures.CASES[case].what})"
        plan[student] = (kind, what, specs)
    return plan


def write(course, student, assignment, spec):
    """Write one notebook of ``student`` under ``submitted/``, as ``spec`` says.

    spec keys: answers {cell: source, "@reference" = the reference}, fill (the answer cells filled in, default all),
    written (text of written answers), scratch (add a cell of the student's own), case (a tests/pipeline_fixtures
    case name), raw (fn(text) -> text), name (the file name; None: no notebook), files (extra files), skip.
    """
    if spec.get("skip"):
        return
    folder = course.path("submitted", student, assignment)
    folder.mkdir(parents=True, exist_ok=True)
    case = fixtures.CASES[spec["case"]] if spec.get("case") else None
    nb = samples.release_notebook(course, assignment, assignment)
    reference = samples.solution_answers(course, assignment, assignment)
    answers = dict(spec.get("answers", {}))
    if case is not None:
        answers.update(case.answers)
    fill = spec.get("fill")
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("solution"):
            continue
        if fill is not None and meta["grade_id"] not in fill:
            continue                                 # left as released
        if cell.cell_type == "code":
            cell.source = answers.get(meta["grade_id"], "@reference").replace("@reference", reference[meta["grade_id"]])
        else:
            cell.source = spec.get("written", samples.WRITTEN)
    if spec.get("scratch"):
        nb.cells.append(nbformat.v4.new_code_cell(SCRATCH_CELL))
    if case is not None and case.edit is not None:
        nb = case.edit(nb)
    text = nbformat.writes(nb)
    raw = spec.get("raw") or (case.raw if case is not None else None)
    if raw is not None:
        text = raw(text)
    name = spec.get("name", case.notebook_name if case is not None else assignment)
    if name is not None:
        (folder / f"{name}.ipynb").write_text(text, encoding="utf-8")
    files = dict(case.files if case is not None else {})
    files.update(spec.get("files", {}))
    for relative, content in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")


def build_class(course, n, seed, timeouts=None):
    plan = plan_class(course, n, seed, timeouts)
    for student, (_, _, specs) in plan.items():
        for assignment, spec in specs.items():
            write(course, student, assignment, spec)
    return plan


def print_mix(plan, n, seed):
    counts = {}
    for kind, _, _ in plan.values():
        counts[kind] = counts.get(kind, 0) + 1
    print(f"class: {n} students x 4 notebooks, seed {seed}")
    print("  " + ", ".join(f"{kind} {counts.get(kind, 0)} ({counts.get(kind, 0) / n:.0%})" for kind, _ in MIX))
    for kind in ("mistakes", "blank/partial", "broken", "hostile"):
        shown = [(s, what) for s, (k, what, _) in plan.items() if k == kind]
        limit = 6 if kind == "mistakes" else 20
        for student, what in shown[:limit]:
            print(f"  {kind:13s} {student}: {what}")
        if len(shown) > limit:
            print(f"  {kind:13s} ... and {len(shown) - limit} more")
    non_ascii = [s for s in plan if not s.isascii()]
    print(f"  non-ASCII ids: {', '.join(non_ascii) or 'none'}")
    slow = timeout_students(plan)
    print(f"  cell timeouts: {len(slow)} student(s) ({', '.join(slow) or 'none'}) run into the {CELL_TIMEOUT} s cell "
          f"timeout: about {CELL_TIMEOUT} s or more each, in every configuration")


def timeout_students(plan):
    return [s for s, (_, _, specs) in plan.items() if any(sp.get("case") in TIMEOUT_CASES for sp in specs.values())]


# ---------------------------------------------------------------------- the runs

def parse(config):
    """(kind, n, flags) of a configuration name: ("stock", 0, ...), ("jobs", 2, {"nosandbox"}), ("shards", 2, ...)."""
    if config in ("stock", "stock-course"):
        return config, 0, set()
    name, *flags = config.split("-")
    for kind in ("jobs", "shards"):
        if name.startswith(kind) and name[len(kind):].isdigit() and int(name[len(kind):]) >= 1:
            return kind, int(name[len(kind):]), set(flags)
    if name == "pipeline":
        return "pipeline", 0, set(flags)
    return None, 0, set(flags)


def command(config, folder, db_url=None, shard=None):
    kind, n, flags = parse(config)
    if kind.startswith("stock"):
        return None                              # one nbgrader call per assignment, see run()
    base = [sys.executable, "-m", "autograder", "--course", str(folder)] + (["--no-sandbox"] if "nosandbox" in flags else [])
    base += ["--db-url", db_url] if db_url else []
    base += ["autograde", "--all"]
    if kind == "pipeline":
        return base
    if kind == "shards":
        return base + ["--shard", shard or f"i/{n}", "--jobs", "1"]
    return base + ["--jobs", str(n)]


def prepare(config, folder, pg):
    """Set up a copy of the class for ``config`` before the clock starts; returns its gradebook URL (None: sqlite)."""
    kind, n, flags = parse(config)
    if kind == "stock":
        (folder / "nbgrader_config.py").write_text(STOCK_CONFIG, encoding="utf-8")
    if "alldemos" in flags:
        with open(folder / "nbgrader_config.py", "a", encoding="utf-8") as out:
            out.write("\nc.GradingExecute.skip_demonstrations = False   # bench_class: run every demonstration\n")
    if kind != "shards":
        return None
    (folder / "gradebook.db").unlink()
    url = pg.create_database(f"bench_{config.replace('-', '_')}")
    release = subprocess.run([sys.executable, "-m", "autograder", "--course", str(folder), "--db-url", url, "release"],
                             cwd=folder, capture_output=True, text=True)
    if release.returncode != 0:
        raise RuntimeError(f"release into PostgreSQL failed:\n{release.stdout}\n{release.stderr}")
    return url


def run(config, folder, assignments, log, db_url=None):
    """Grade the class in ``folder`` with ``config``; returns (seconds, [exit codes])."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    kind, n, _ = parse(config)
    if kind.startswith("stock"):
        batches = [[[str(BIN / "nbgrader"), "autograde", a, "--force"]] for a in assignments]
    elif kind == "shards":
        batches = [[command(config, folder, db_url, f"{i}/{n}") for i in range(1, n + 1)]]   # started at once
    else:
        batches = [[command(config, folder, db_url)]]
    codes = []
    start = time.perf_counter()
    with open(log, "w", encoding="utf-8") as out:
        for batch in batches:
            processes = []
            for call in batch:
                out.write(f"$ {' '.join(call)}\n")
                out.flush()
                processes.append(subprocess.Popen(call, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT))
            for process in processes:
                while True:
                    try:
                        codes.append(process.wait(timeout=60))
                        break
                    except subprocess.TimeoutExpired:
                        done = len(list((folder / "autograded").glob("*/*/*.ipynb")))
                        print(f"    ... {time.perf_counter() - start:5.0f} s, {done} notebooks autograded", flush=True)
    return time.perf_counter() - start, codes


def scores(folder, db_url=None):
    """{(student, assignment, notebook, cell): (score, max_score, auto)} from the course's gradebook."""
    course = Course(folder)
    found = {}
    with Gradebook(db_url or course.db_url, course.coursedir.course_id) as gb:
        for assignment in gb.assignments:
            for submission in assignment.submissions:
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        found[(submission.student.id, assignment.name, notebook.name, grade.name)] = (
                            float(grade.score), float(grade.max_score), grade.cell.cell_type == "code")
    return found


# ---------------------------------------------------------------------- stock nbgrader's differences, explained

#: Why our score is the right one, for what our grader recorded in the notebook (event kinds).
RIGHT = {
    "edited-locked-cell": "the student edited a test or read-only cell: ours restores it from the gradebook and "
                          "runs the instructor's code; stock runs the student's edit",
    "deleted-cell": "a deleted test comes back from the gradebook and is run (deleting a test never earns points)",
    "duplicated-cell": "a duplicated read-only cell counts once",
    "metadata-changed": "the grading metadata the student changed is restored from the gradebook",
    "cell-type-changed": "a test cell turned into markdown is turned back and run",
    "unknown-cell": "a cell with an unknown grade id is run as a plain cell",
    "environment-tampered": "the student changed the grading environment (rebound numpy or the checks): that test "
                            "scores 0 and later tests run in the restored environment",
    "kernel-died": "the kernel died: ours grades the notebook as far as it got, stock loses or zeroes the rest",
    "unresponsive": "a cell ignored the interrupt: ours kills that kernel and grades the rest as not run",
    "timeout": "a cell ran past the time limit (ours 60 s, stock's default 30 s)",
    "memory": "a memory blow-up is stopped by the address-space limit",
    "not-run": "grading stopped at an earlier cell (dead or stuck kernel)",
    "stderr": "the test wrote to stderr (a warning) and raised no error: stock gives 0 for any stderr output",
}


def _notebook(folder, key):
    student, assignment, notebook, _ = key
    path = folder / "autograded" / student / assignment / f"{notebook}.ipynb"
    try:
        return nbformat.read(path, as_version=4)
    except (OSError, ValueError):
        return None


def _outcome(nb, cell_id):
    """What a cell showed: its error names, 'stderr' when it wrote there, 'ok' otherwise."""
    if nb is None:
        return "notebook not graded"
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == cell_id:
            errors = [o.get("ename", "?") for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            stderr = any(o.get("output_type") == "stream" and o.get("name") == "stderr" for o in cell.get("outputs", []))
            return ", ".join(errors) or ("stderr" if stderr else "ok")
    return "cell absent"


def explain(stock_folder, our_folder, key):
    """(stock's view, ours, why ours is right or None) for one cell whose scores differ."""
    stock_nb, our_nb = _notebook(stock_folder, key), _notebook(our_folder, key)
    theirs, ours = _outcome(stock_nb, key[3]), _outcome(our_nb, key[3])
    kinds = [e["kind"] for e in events.read(our_nb)] if our_nb is not None else []
    reasons = [RIGHT[k] for k in dict.fromkeys(kinds) if k in RIGHT]
    if theirs == "stderr" and ours == "ok" and RIGHT["stderr"] not in reasons:
        reasons.insert(0, RIGHT["stderr"])
    if stock_nb is None and our_nb is not None:
        reasons.append("stock nbgrader recorded nothing for this notebook (it failed the whole notebook); "
                       "ours graded it")
    return theirs, ours, "; ".join(reasons) or None


def compare(results):
    """Mismatches between runs ([(key, {config: score or None})]) and the keys missing from some runs.

    A cell missing from a run's gradebook (no submission recorded, e.g. a folder without a notebook under plain
    nbgrader) counts as 0, as in nbgrader's own export; only a different score is a mismatch.
    """
    keys = sorted(set().union(*(r.keys() for r in results.values())))
    mismatches, absent = [], 0
    for key in keys:
        got = {config: (r[key][0] if key in r else None) for config, r in results.items()}
        if None in got.values():
            absent += 1
        if len({0.0 if v is None else v for v in got.values()}) > 1:
            mismatches.append((key, got))
    return keys, mismatches, absent


def by_kind(plan, found):
    """Per kind: share of the autograded points earned (a sanity check of the generator)."""
    earned, possible = {}, {}
    for (student, *_), (score, max_score, auto) in found.items():
        if auto and student in plan:
            kind = plan[student][0]
            earned[kind] = earned.get(kind, 0) + score
            possible[kind] = possible.get(kind, 0) + max_score
    return {kind: earned[kind] / possible[kind] for kind in earned if possible[kind]}


# ---------------------------------------------------------------------- main

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--students", type=int, default=100, help="students in the class (default 100)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the class (default 0)")
    parser.add_argument("--configs", default="stock,jobs1,jobs2,shards2",
                        help="comma-separated: stock, stock-course, jobsN, pipeline, shardsN; jobsN and pipeline "
                             "take -nosandbox or -alldemos; default stock,jobs1,jobs2,shards2")
    parser.add_argument("--timeouts", type=int, help="hostile students whose loop costs the cell timeout "
                                                     "(default: 1.5 per 100 students, rounded)")
    parser.add_argument("--correct", type=int, default=25,
                        help="also grade a class of this many correct students with --jobs 2, for the seconds per "
                             "correct notebook (default 25; 0: skip)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument("--keep", help="build the scratch courses in this (new or empty) folder and keep them")
    parser.add_argument("--mix-only", action="store_true", help="make the class, print its mix, grade nothing")
    args = parser.parse_args(argv)

    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    for config in configs:
        kind, _, flags = parse(config)
        if kind is None or not flags <= {"nosandbox", "alldemos"} or (flags and kind not in ("jobs", "pipeline")):
            parser.error(f"unknown configuration {config!r}: use stock, stock-course, jobsN (N >= 1), pipeline or "
                         f"shardsN, jobsN and pipeline optionally with -nosandbox or -alldemos")
    if len(set(configs)) != len(configs):
        parser.error("a configuration is named twice")
    if args.students < 1:
        parser.error("--students must be at least 1")
    if any(parse(c)[0] == "shards" for c in configs) and unavailable_reason():
        parser.error(f"shardsN needs a PostgreSQL server: {unavailable_reason()} (apt-get install -y postgresql)")
    if os.environ.pop("RELUDROP_DB_URL", None):
        print("note: RELUDROP_DB_URL is ignored here: every run uses its own scratch gradebook")

    if args.keep:
        tmp = pathlib.Path(args.keep).resolve()
        if tmp.exists() and any(tmp.iterdir()):
            parser.error(f"--keep {tmp}: choose a new or empty folder")
        tmp.mkdir(parents=True, exist_ok=True)
    else:
        tmp = pathlib.Path(tempfile.mkdtemp(prefix="reludrop-bench-class-"))
    pg = PostgresServer() if any(parse(c)[0] == "shards" for c in configs) and not args.mix_only else None
    try:
        if pg is not None:
            pg.start()
        return _bench(args, configs, tmp, pg)
    finally:
        if pg is not None:
            pg.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


def correct_class(template, folder, n):
    """A copy of the released course with ``n`` correct students (the reference answers) and nothing else."""
    shutil.copytree(template, folder, ignore=shutil.ignore_patterns("submitted"))
    course = Course(folder)
    for i in range(1, n + 1):
        for assignment in course.source_assignments():
            write(course, f"c{i:03d}", assignment, {})
    return folder


def _bench(args, configs, tmp, pg):
    template = samples.scratch_course(ROOT, tmp / "template")
    course = Course(template)
    assignments = course.source_assignments()
    for assignment in assignments:
        course.release(assignment)
    plan = build_class(course, args.students, args.seed, args.timeouts)
    notebooks = args.students * len(assignments)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; configurations: {', '.join(configs)}")
    print_mix(plan, args.students, args.seed)
    print()
    if args.mix_only:
        return 0

    figures, results, failed = {}, {}, []
    for config in configs:
        folder = tmp / config
        shutil.copytree(template, folder)       # released, same gradebook and submitted/, nothing graded
        log = tmp / f"{config}.log"
        db_url = prepare(config, folder, pg)
        kind, n, _ = parse(config)
        if kind.startswith("stock"):
            shown = (f"nbgrader autograde <assignment> --force  (x{len(assignments)}, "
                     f"{'nbgrader' if kind == 'stock' else 'the course'}'s configuration)")
        elif kind == "shards":
            shown = f"{n} at once on one PostgreSQL gradebook: " + " ".join(command(config, "DIR", "URL", f"i/{n}"))
        else:
            shown = " ".join(command(config, "DIR"))
        print(f"{config}: {shown}", flush=True)
        seconds, codes = run(config, folder, assignments, log, db_url)
        results[config] = scores(folder, db_url)
        # stock: nbgrader exits 1 when a student's notebook cannot be graded; ours: 1 when something needs attention
        if any(code not in (0, 1) for code in codes) or not results[config]:
            failed.append(config)
            tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
            print(f"  {config} FAILED (exit {codes}); the end of its log:\n    " + "\n    ".join(tail))
        figures[config] = {"seconds": round(seconds, 1), "exit_codes": codes,
                           "notebooks_per_min": round(notebooks / seconds * 60, 2),
                           "seconds_per_student": round(seconds / args.students, 2),
                           f"projected_{PROJECT_TO}_students_s": round(seconds / args.students * PROJECT_TO, 1)}
        print(f"  {seconds:.1f} s, exit {codes}, {len(results[config])} cell scores in the gradebook", flush=True)

    correct = None
    if args.correct and "jobs2" in configs:
        folder = correct_class(template, tmp / "correct-jobs2", args.correct)
        print(f"correct-jobs2: {args.correct} correct students, python -m autograder autograde --all --jobs 2", flush=True)
        seconds, codes = run("jobs2", folder, assignments, tmp / "correct-jobs2.log")
        found = scores(folder)
        lost = sorted({k[0] for k, (score, max_score, auto) in found.items() if auto and score < max_score})
        correct = {"students": args.correct, "notebooks": args.correct * len(assignments), "seconds": round(seconds, 1),
                   "seconds_per_notebook": round(seconds / (args.correct * len(assignments)), 3), "exit_codes": codes,
                   "lost_points": lost}
        print(f"  {seconds:.1f} s for {correct['notebooks']} notebooks: {correct['seconds_per_notebook']:.2f} s per "
              f"correct notebook (target < {TARGET_CORRECT:g} s: {'met' if correct['seconds_per_notebook'] < TARGET_CORRECT else 'NOT met'})"
              + (f"; LOST POINTS: {', '.join(lost)}" if lost else ""), flush=True)
        if lost or any(code != 0 for code in codes):
            failed.append("correct-jobs2")

    ours = {c: r for c, r in results.items() if not c.startswith("stock")}
    keys, mismatches, absent = compare(ours) if ours else ([], [], 0)
    stock = figures.get("stock", {}).get("seconds")
    for config, row in figures.items():
        row["speedup_vs_stock"] = round(stock / row["seconds"], 2) if stock else None

    print()
    print(f"{args.students} students x {len(assignments)} notebooks = {notebooks} notebooks; "
          f"{len(timeout_students(plan))} student(s) run into a cell timeout ({CELL_TIMEOUT} s ours, 30 s stock)")
    width = max(12, *(len(c) for c in figures))
    print(f"{'config':{width}s} {'wall':>9s} {'notebooks/min':>14s} {'s/student':>10s} {'vs stock':>9s} "
          f"{f'{PROJECT_TO} students':>14s}")
    for config, row in figures.items():
        speed = f"{row['speedup_vs_stock']:.2f}x" if row["speedup_vs_stock"] else "-"
        projected = row[f"projected_{PROJECT_TO}_students_s"]
        print(f"{config:{width}s} {row['seconds']:8.1f}s {row['notebooks_per_min']:14.1f} {row['seconds_per_student']:10.2f} "
              f"{speed:>9s} {projected / 60:11.1f} min")
    candidates = {c: r["speedup_vs_stock"] for c, r in figures.items() if not c.startswith("stock")
                  and r["speedup_vs_stock"]}
    if candidates:
        best = max(candidates, key=candidates.get)
        met = candidates[best] >= TARGET
        print(f"target: >= {TARGET:g}x stock throughput: {'met' if met else 'NOT met'} "
              f"(best: {best}, {candidates[best]:.2f}x)")
    else:
        best, met = None, None
        print(f"target: >= {TARGET:g}x stock throughput: not measured (needs stock and one of ours)")

    print()
    shown = max(ours or results, key=lambda c: len((ours or results)[c]))
    reference = (ours or results)[shown]
    kinds = by_kind(plan, reference)
    print(f"points earned by kind ({shown}, autograded cells): "
          + ", ".join(f"{k} {kinds[k]:.0%}" for k, _ in MIX if k in kinds))
    lost = sorted({key[0] for key, (score, max_score, auto) in reference.items()
                   if auto and score < max_score and plan.get(key[0], ("",))[0] == "correct"})
    if lost:
        print(f"note: correct student(s) lost points: {', '.join(lost)} (the generator or the grader is wrong)")
    if len(ours) > 1:
        if mismatches:
            print(f"SCORES DIFFER between our configurations: {len(mismatches)} of {len(keys)} cells")
            for (student, assignment, notebook, cell), got in mismatches[:40]:
                print(f"  {student} / {notebook} / {cell}: "
                      + ", ".join(f"{c} {'absent' if v is None else f'{v:g}'}" for c, v in got.items()))
        else:
            print(f"scores: identical in all {len(ours)} of our configurations ({len(keys)} cells)")
    differences, unexplained = [], 0
    for base in [c for c in results if c.startswith("stock")]:
        _, against_stock, _ = compare({base: results[base], shown: reference})
        for key, got in against_stock:
            kind, what, _ = plan.get(key[0], ("?", "?", None))
            theirs, mine, why = explain(tmp / base, tmp / shown, key)
            bad = why is None or (kind in SOUND and not why.startswith(RIGHT["stderr"]))
            unexplained += bad
            differences.append({"against": base, "student": key[0], "kind": kind, "what": what, "notebook": key[2],
                                "cell": key[3], "stock": got[base], "ours": got[shown], "stock_saw": theirs,
                                "ours_saw": mine, "why": why, "accepted": not bad})
        print(f"{base} vs {shown}: {len(against_stock)} cell(s) differ, {sum(d['against'] == base and not d['accepted'] for d in differences)} "
              f"not explained or on a soundly graded student")
        by_student = {}
        for d in (d for d in differences if d["against"] == base):
            by_student.setdefault((d["student"], d["kind"], d["what"]), []).append(d)
        for (student, kind, what), rows in by_student.items():
            print(f"  {student} ({kind}: {what})")
            for d in rows:
                print(f"    {'  ' if d['accepted'] else '!!'} {d['notebook']} / {d['cell']}: stock {d['stock'] or 0:g} "
                      f"({d['stock_saw']}), ours {d['ours'] or 0:g} ({d['ours_saw']}): {d['why'] or 'NOT EXPLAINED'}")

    if args.json:
        out = {"students": args.students, "seed": args.seed, "notebooks": notebooks, "cores": os.cpu_count(),
               "python": sys.version.split()[0], "cell_timeout_s": CELL_TIMEOUT,
               "mix": {k: sum(1 for v in plan.values() if v[0] == k) for k, _ in MIX},
               "timeout_students": timeout_students(plan),
               "students_by_kind": {s: {"kind": k, "what": w} for s, (k, w, _) in plan.items()},
               "configs": figures, "correct_jobs2": correct,
               "target": {"speedup": TARGET, "best": best, "met": met, "seconds_per_correct_notebook": TARGET_CORRECT},
               "scores_identical": not mismatches, "cells": len(keys), "cells_absent_somewhere": absent,
               "mismatches": [{"student": k[0], "assignment": k[1], "notebook": k[2], "cell": k[3], "scores": got}
                              for k, got in mismatches],
               "stock_differences": differences, "points_by_kind": kinds, "failed_configs": failed}
        pathlib.Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        pathlib.Path(args.json).write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"figures: {args.json}")
    if args.keep:
        print(f"scratch courses and logs kept in {tmp}")
    return 1 if mismatches or failed or unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
