"""Warm kernels (``autograder.warm``): is a kernel forked from the template the kernel a cold start gives?

Small notebooks run through ``GradingExecute`` with ``warm_kernels`` on and off, in the same directory;
their outputs must be the same, apart from what differs between any two kernels (object addresses, pids,
random numbers), and so must every fault the grader handles: a kernel that exits, a cell that times
out, a loop that swallows the interrupt, a memory blow-up. Every notebook gets a new process and none
survives its notebook. The real notebook 01 is graded both ways too, and timed. One fork server serves
the whole module (the last test stops it to see a server that cannot start).
"""

import logging
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

import nbformat
import psutil
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from autograder import warm
from autograder.execute import GradingExecute

ROOT = pathlib.Path(__file__).resolve().parent.parent
KERNELSPEC = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
PROBE = "RELUDROP_WARM_PROBE"
ENV = {**GradingExecute().kernel_env, PROBE: "from kernel_env"}
EARLIER = set()  # this process's descendants before the module (another module's servers), not ours to check


@pytest.fixture(scope="module", autouse=True)
def one_fork_server(tmp_path_factory):
    """One fork server for the module, started before the tests (their timings are per notebook) and
    stopped at the end, with no process left behind."""
    warm.stop()
    EARLIER.update(p.pid for p in psutil.Process().children(recursive=True))
    grade(tmp_path_factory.mktemp("start"), ["1"], True)
    assert warm._server is not None
    yield
    server = warm._server
    warm.stop()
    assert server is None or server.process.poll() is not None


def grade(directory, sources, warm_kernels, **traits):
    """Run ``sources`` (or cells) as a notebook in ``directory``; returns the executed notebook and its seconds."""
    cells = [new_code_cell(source) if isinstance(source, str) else source for source in sources]
    nb = new_notebook(cells=cells, metadata=KERNELSPEC)
    traits = {"kernel_env": ENV, "timeout": 30, **traits}
    started = time.monotonic()
    nb, _ = GradingExecute(warm_kernels=warm_kernels, **traits).preprocess(nb, {"metadata": {"path": str(directory)}})
    seconds = time.monotonic() - started
    assert_no_kernel_left()
    return nb, seconds


def assert_no_kernel_left():
    """No process of ours but the fork server, and the fork server has no child."""
    server = warm._server.pid if warm._server is not None else None
    left = [p for p in psutil.Process().children(recursive=True) if p.pid != server and p.pid not in EARLIER]
    assert not left, f"processes left behind: {[(p.pid, p.cmdline()) for p in left]}"


def texts(cell, ignore_addresses=True):
    """What a cell shows, as text: streams (how a stream was cut into messages is timing), text/plain
    results, error names and values; data kinds."""
    shown = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream" and shown and shown[-1][0] == output.name:
            shown[-1] = (output.name, shown[-1][1] + output.text)
        elif output.output_type == "stream":
            shown.append((output.name, output.text))
        elif output.output_type == "error":
            shown.append(("error", output.ename, output.evalue))
        else:
            shown.append((output.output_type, sorted(output.data), output.data.get("text/plain")))
    text = repr(shown)
    return re.sub(r"0x[0-9a-f]+", "0x…", text) if ignore_addresses else text


def both(directory, sources, **traits):
    """The cells' texts, cold then warm."""
    cold, _ = grade(directory, sources, False, **traits)
    hot, _ = grade(directory, sources, True, **traits)
    return [texts(c) for c in cold.cells], [texts(c) for c in hot.cells], cold, hot


def events(nb):
    return [(e["kind"], e.get("cell")) for e in nb.metadata.get("autograder", {}).get("events", [])]


# ---------------------------------------------------------------------- the same kernel

def test_a_warm_kernel_is_the_kernel_a_cold_start_gives(tmp_path):
    """Same cwd, numpy, sys.path, safe_path, argv, environment, limits, signals, session, stdin, figures?"""
    (tmp_path / "numpy.py").write_text("open('STUDENT_NUMPY_IMPORTED', 'w').close()\nraise ImportError('student numpy')\n")
    sources = [
        "import os, sys, numpy\nprint(os.getcwd()); print(numpy.__file__); print(sys.flags.safe_path, sys.path)",
        f"print(os.environ[{PROBE!r}], os.environ.get('MPLBACKEND')); print(sorted(os.environ))",
        "print(sys.argv[0], sys.argv[1], sys.argv[3:], sys.orig_argv[:3], sys.executable, __name__)",
        "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])",  # inline figures without %matplotlib
        "%matplotlib inline\nplt.plot([1, 2]); plt.title('probe')",
        "print(repr(sys.stdin.read()))",
        "import resource; print(resource.getrlimit(resource.RLIMIT_AS), resource.getrlimit(resource.RLIMIT_CORE))",
        "import signal\nprint([signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE)])",
        "print(os.getpgid(0) == os.getpid(), os.getsid(0) == os.getpid(), len(os.listdir('/proc/self/fd')))",
        "from autograder import checks\nprint(checks.check_ReLU.__module__, type(get_ipython()).__name__)",
    ]
    cold, hot, _, _ = both(tmp_path, sources, memory_limit=2048)
    assert hot == cold
    assert not (tmp_path / "STUDENT_NUMPY_IMPORTED").exists()
    assert str(tmp_path) in cold[0] and "site-packages/numpy/__init__.py" in cold[0] and "True" in cold[0]
    assert "from kernel_env" in cold[1]
    assert "image/png" in cold[3] and "image/png" in cold[4]


def test_each_notebook_gets_a_new_process_forked_by_the_server(tmp_path):
    """A new pid every notebook, the fork server its parent (warm) or this process (cold), fresh random numbers?"""
    source = "import os, random, numpy\nprint(os.getpid(), os.getppid(), random.random(), numpy.random.rand())"
    runs = [grade(tmp_path, [source], warm_kernels)[0] for warm_kernels in (True, True, False)]
    rows = [runs[i].cells[0].outputs[0].text.split() for i in range(3)]
    pids = {int(row[0]) for row in rows}
    assert len(pids) == 3
    assert int(rows[0][1]) == int(rows[1][1]) == warm._server.pid
    assert int(rows[2][1]) == os.getpid()
    assert rows[0][2] != rows[1][2], "two warm kernels drew the same random.random()"
    assert rows[0][3] != rows[1][3], "two warm kernels drew the same numpy.random.rand()"


# ---------------------------------------------------------------------- the faults

def test_a_kernel_that_exits_gets_the_same_notice(tmp_path):
    """``os._exit(3)``: the same dead-kernel notice, "exited with status 3", and the rest not run?"""
    cold, hot, cold_nb, hot_nb = both(tmp_path, ["print(1)", "import os; os._exit(3)", "print(2)"])
    assert hot == cold
    assert "DeadKernelError" in cold[1] and "exited with status 3" in cold[1] and cold[2] == "[]"
    assert events(hot_nb) == events(cold_nb) == [("kernel-died", "cell 2")]


def test_a_kernel_killed_by_a_signal_gets_the_same_notice(tmp_path):
    """A kernel killed by SIGKILL: "killed by SIGKILL" both ways?"""
    cold, hot, _, _ = both(tmp_path, ["import os, signal; os.kill(os.getpid(), signal.SIGKILL)"])
    assert hot == cold
    assert "killed by SIGKILL" in cold[0]


def test_a_cell_that_sleeps_forever_is_interrupted(tmp_path):
    """A cell past its timeout is interrupted, the kernel lives on and runs the next cell?"""
    cold, hot, _, _ = both(tmp_path, ["import time\ntime.sleep(600)", "print('after')"], timeout=2)
    assert hot == cold
    assert "CellTimeoutError" in cold[0] and "after" in cold[1]


def test_a_loop_that_swallows_the_interrupt_is_killed_with_its_process_group(tmp_path):
    """A loop catching KeyboardInterrupt: the kernel and its subprocess are killed, grading stops there?"""
    sources = ["import subprocess; child = subprocess.Popen(['sleep', '600']); print(child.pid)",
               "import time\nwhile True:\n    try:\n        time.sleep(0.05)\n    except KeyboardInterrupt:\n        pass",
               "print('not run')"]
    cold, hot, cold_nb, hot_nb = both(tmp_path, sources, timeout=2)
    assert hot[1:] == cold[1:]
    assert "CellTimeoutError" in cold[1] and "ignored the interrupt" in cold[1] and cold[2] == "[]"
    assert events(hot_nb) == events(cold_nb)
    for nb in (cold_nb, hot_nb):
        child = int(nb.cells[0].outputs[0].text)
        deadline = time.monotonic() + 10
        while psutil.pid_exists(child) and psutil.Process(child).status() != psutil.STATUS_ZOMBIE:
            assert time.monotonic() < deadline, f"the kernel's subprocess {child} survived"
            time.sleep(0.1)


def test_a_memory_blow_up_raises_memory_error(tmp_path):
    """8 GB under a 1024 MiB address-space limit: MemoryError in the cell, the kernel lives on?"""
    sources = ["import numpy\nnumpy.ones(2**30)", "print('alive')"]
    cold, hot, cold_nb, hot_nb = both(tmp_path, sources, memory_limit=1024)
    assert hot == cold
    assert "MemoryError" in cold[0] and "alive" in cold[1]
    assert events(hot_nb) == events(cold_nb) == [("memory", "cell 1")]


def test_the_grading_guard_catches_tampering_both_ways(tmp_path):
    """A cell rebinds np.allclose before a test cell: the same TamperingError and event both ways?"""
    test = {"grade": True, "solution": False, "locked": True, "points": 1, "schema_version": 3}
    sources = ["from autograder import checks\nimport numpy as np", "np.allclose = lambda *a, **k: True",
               new_code_cell("assert np.allclose(1, 1)", metadata={"nbgrader": {**test, "grade_id": "test_a"}}),
               new_code_cell("assert not np.allclose(1, 2)", metadata={"nbgrader": {**test, "grade_id": "test_b"}})]
    cold, hot, cold_nb, hot_nb = both(tmp_path, sources)
    assert hot == cold
    assert "TamperingError" in cold[2] and "AssertionError" not in cold[2] and cold[3] == "[]"
    assert events(hot_nb) == events(cold_nb) == [("environment-tampered", "test_a")]


# ---------------------------------------------------------------------- a course notebook

def test_notebook_01_gives_the_same_outputs_both_ways(tmp_path):
    """The solution of notebook 01, graded cold and warm: identical text outputs (but nbval-ignore-output cells)?"""
    directory = tmp_path / "01_relu_network"
    shutil.copytree(ROOT / "solutions" / "01_relu_network", directory,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    source = nbformat.read(directory / "01_relu_network.ipynb", as_version=4)
    runs = {}
    for warm_kernels in (False, True):
        executor = GradingExecute(warm_kernels=warm_kernels, timeout=60)
        started = time.monotonic()
        nb, _ = executor.preprocess(nbformat.from_dict(source), {"metadata": {"path": str(directory)}})
        runs[warm_kernels] = nb, time.monotonic() - started
        assert_no_kernel_left()
    (cold, cold_seconds), (hot, hot_seconds) = runs[False], runs[True]
    print(f"\nnotebook 01: cold {cold_seconds:.2f} s, warm {hot_seconds:.2f} s")
    compared = 0
    for index, (a, b) in enumerate(zip(cold.cells, hot.cells)):
        if a.cell_type == "code" and "nbval-ignore-output" not in a.metadata.get("tags", []):
            assert texts(b, ignore_addresses=False) == texts(a, ignore_addresses=False), f"cell {index}"
            compared += 1
    assert compared >= 20
    assert not [o for c in cold.cells + hot.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert events(hot) == events(cold)


# ---------------------------------------------------------------------- the fork server itself

@pytest.mark.parametrize("how", ["exits", "is killed"])
def test_the_fork_server_and_its_kernels_stop_when_the_grader_goes(tmp_path, how):
    """The grader exits (atexit) or is killed: do the fork server and a kernel it forked stop too?"""
    script = tmp_path / "grader.py"
    script.write_text(
        "import logging, os, sys, tempfile, time\n"
        "from jupyter_client.connect import write_connection_file\n"
        "from autograder import warm\n"
        f"env = dict(os.environ, **{ENV!r})\n"
        "server = warm.fork_server([sys.executable], env, logging.getLogger())\n"
        "connection, _ = write_connection_file(os.path.join(tempfile.mkdtemp(), 'k.json'))\n"
        "log = open(os.devnull, 'w')\n"
        "kernel = server.spawn([sys.executable, '-m', 'ipykernel_launcher', '-f', connection], env, '/', log, log, {})\n"
        "print(server.pid, kernel.pid, flush=True)\n"
        f"time.sleep(0 if {how == 'exits'} else 600)\n")
    grader = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    server, kernel = map(int, grader.stdout.readline().split())
    assert psutil.pid_exists(server) and psutil.pid_exists(kernel)
    if how == "is killed":
        grader.kill()
    grader.wait(30)
    deadline = time.monotonic() + 15
    while any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in (server, kernel)):
        assert time.monotonic() < deadline, "the fork server or its kernel outlived the grader"
        time.sleep(0.1)


# ---------------------------------------------------------------------- falling back (the last test stops the server)

def test_a_kernel_needing_another_start_up_environment_starts_cold(tmp_path, caplog):
    """A start-up variable (OMP_NUM_THREADS) unlike the template's: a normal kernel, said once in the log?"""
    grade(tmp_path, ["1"], True)  # the server is up
    warm._said.discard("incompatible")  # said at most once per process: maybe already, by another test
    caplog.set_level(logging.WARNING)
    source = "import os; print(os.getppid(), os.environ['OMP_NUM_THREADS'])"
    for _ in range(2):
        nb, _ = grade(tmp_path, [source], True, kernel_env={**ENV, "OMP_NUM_THREADS": "2"})
        assert nb.cells[0].outputs[0].text.split() == [str(os.getpid()), "2"]
    assert sum("started normally" in r.getMessage() for r in caplog.records) == 1


def test_a_notebook_next_to_a_matplotlibrc_gets_a_cold_kernel_that_reads_it(tmp_path):
    """matplotlib reads ./matplotlibrc when imported, in the template long before: such a kernel starts cold?"""
    (tmp_path / "matplotlibrc").write_text("lines.linewidth: 7\n")
    source = "import os, matplotlib; print(os.getppid(), matplotlib.rcParams['lines.linewidth'])"
    nb, _ = grade(tmp_path, [source], True)
    assert nb.cells[0].outputs[0].text.split() == [str(os.getpid()), "7.0"]


def test_a_fork_server_that_cannot_start_means_normal_kernels(tmp_path, caplog):
    """The template cannot import matplotlib (a broken one on PYTHONPATH): normal kernels, said once?"""
    broken = tmp_path / "broken" / "matplotlib"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('broken matplotlib')\n")
    warm.stop()
    caplog.set_level(logging.WARNING)
    try:
        for _ in range(2):
            nb, _ = grade(tmp_path, ["import os; print(os.getppid())"], True,
                          kernel_env={**ENV, "PYTHONPATH": str(broken.parent)})
            assert nb.cells[0].outputs[0].text.split() == [str(os.getpid())]
        messages = [r.getMessage() for r in caplog.records if "warm kernels off" in r.getMessage()]
        assert len(messages) == 1 and "broken matplotlib" in messages[0]
    finally:
        warm.stop()
