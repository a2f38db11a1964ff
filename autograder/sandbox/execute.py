"""GradingExecute: nbgrader's Execute preprocessor, made safe to run on a whole class.

nbgrader (0.9.6, preprocessors/execute.py) runs a notebook through nbclient. What it leaves to us:

* **a kernel that dies** (``os._exit``, a crash, the memory limit) raises ``DeadKernelError`` out of the
  notebook; nbgrader then drops the student's whole submission. Here the cell that was running gets a
  ``DeadKernelError`` output, every test cell not reached gets a ``NotRunError`` output (0 points), the
  notebook is saved and graded as far as it got, and the batch goes on.
* **a timeout** interrupts the kernel (``interrupt_on_timeout``); a loop that swallows
  ``KeyboardInterrupt`` then never finishes and nbclient raises ``CellTimeoutError`` ("Timeout waiting
  for IOPub output"). Here the kernel is killed (its whole process group) and grading stops there, as
  for a dead kernel. A notebook-wide budget (``notebook_timeout``) bounds a notebook whose every cell
  times out.
* **isolation** (``sandbox``, on by default): every kernel runs in its own bubblewrap sandbox
  (``autograder.sandbox.bubblewrap``): a scratch copy of this student's own files as its only
  writable folder, no gradebook, no solutions, no classmates, no network, its own PID namespace,
  an allow-listed environment, and limits on memory (RLIMIT_AS), processes, CPU time and file
  size. Without bubblewrap grading refuses to start (``SandboxUnavailable``) unless ``sandbox`` is
  switched off, which is said loudly on every notebook (a ``no-sandbox`` event).
* **memory**: the kernel runs under an address-space limit (``memory_limit``, RLIMIT_AS), so a
  blow-up raises ``MemoryError`` (or kills only that kernel) instead of the machine.
* **the environment**: the kernel starts with ``PYTHONSAFEPATH=1`` (a file the student submitted,
  ``numpy.py`` or ``autograder.py``, is never imported instead of the real module) and single-threaded
  BLAS (reproducible, and no oversubscription when students are graded in parallel); in the sandbox
  it gets only the variables of ``kernel_env`` and ``env_allow`` (no database URL, password or token).
* **reproducible grades**: numpy's global random state is seeded (``random_seed``) before the first
  cell, so a notebook that draws from ``np.random`` without a seed gets the same grade every time.
* **demonstrations** (``skip_demonstrations``, on by default): the cells the instructor tagged
  ``demo-only`` in the source notebook (``autograder.demonstrations``) are not run; each shows one line
  saying so. A student's notebook whose code uses what only such a cell defines runs them all.
* **tampering at run time**: the grading guard (``autograder.guard``) is installed before the first
  cell and checked before and after every test cell; a test cell around which the grading environment
  changed gets a ``TamperingError`` output (0 points) and the environment is put back.

Every such event is also written to the notebook (``autograder.events``).
"""

import ast
import fnmatch
import importlib
import json
import os
import pathlib
import resource
import signal
import sys
import tempfile
from queue import Empty
from time import monotonic

import nbformat
from jupyter_core.utils import ensure_async, run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import NotebookNode
from traitlets import Bool, Dict, Integer, List, Unicode

from nbgrader import utils
from nbgrader.preprocessors import Execute

import matplotlib
import reludrop_core

from .. import demonstrations, diagnoses, events
from . import bubblewrap, guard as guard_module
from .kernel import SandboxKernelManager

_GUARD = f"__import__({guard_module.__name__!r}, fromlist=['guard'])"
_AUTOGRADER = pathlib.Path(__file__).resolve().parents[1]     # the grader's own package folder
NO_SANDBOX = ("GRADING WITHOUT A SANDBOX (--no-sandbox / c.GradingExecute.sandbox = False): student code runs with "
              "the grader's rights and can read or change the gradebook, the solutions and classmates' work.")


class _Stop(Exception):
    """Grading of this notebook stops here: ``kind`` is the event, ``ename``/``evalue`` the cell's error."""

    def __init__(self, kind, ename, evalue):
        super().__init__(evalue)
        self.kind, self.ename, self.evalue = kind, ename, evalue


def error_output(ename, evalue):
    """An error output as a kernel would send it (``traceback`` is what the notebook shows)."""
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def bound_names(source):
    """Names that a cell's top-level statements bind (imports, assignments, defs), read without running it."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        tree = ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError, ImportError):
        return []
    names = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names += [(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names += [t.id for target in node.targets for t in ast.walk(target) if isinstance(t, ast.Name)]
    return names


def _plain_limits(limits):
    """A preexec_fn for an unsandboxed kernel: the same rlimits, minus the process count."""
    rlimits = limits.rlimits()

    def limit():
        for which, value in rlimits.items():
            resource.setrlimit(which, value)
    return limit


def coursedir_of(configurable):
    """The nbgrader CourseDirectory of the converter running ``configurable`` (a preprocessor), or None."""
    obj = configurable
    while obj is not None:
        coursedir = getattr(obj, "coursedir", None)
        if coursedir is not None:
            return coursedir
        obj = getattr(obj, "parent", None)
    return None


def source_notebook(configurable, assignment_id, notebook_id):
    """The instructor's source notebook of this notebook (solutions/<id>/<id>.ipynb), or None if not found."""
    coursedir = coursedir_of(configurable)
    if coursedir is None or not assignment_id or not notebook_id:
        return None
    path = os.path.join(coursedir.format_path(coursedir.source_directory, ".", assignment_id),
                        f"{notebook_id}.ipynb")
    try:
        return nbformat.read(path, as_version=4)
    except (OSError, ValueError):
        return None


def matplotlib_cache():
    """{inside: host} for the grader's matplotlib font list: a kernel that finds it does not rebuild it (about 0.1 s)."""
    inside = f"{bubblewrap.INSIDE_HOME}/.matplotlib"
    found = sorted(pathlib.Path(matplotlib.get_cachedir()).glob("fontlist-v*.json"))
    if not found:
        # Not built on this machine yet: loading the font manager builds it, once, here rather than in every kernel.
        importlib.import_module("matplotlib.font_manager")
        found = sorted(pathlib.Path(matplotlib.get_cachedir()).glob("fontlist-v*.json"))
    return {f"{inside}/{path.name}": str(path) for path in found}


def course_packages():
    """The folders of the course's packages that a kernel imports, as the sandbox binds them."""
    return bubblewrap.package_dirs([*reludrop_core.__path__, str(_AUTOGRADER)])


class GradingExecute(Execute):
    """Execute a student's notebook for grading: limits, the grading guard, and no lost students."""

    memory_limit = Integer(
        4096, help="Address-space limit of the kernel in MiB (RLIMIT_AS); 0 for none. A normal course "
                   "notebook peaks near 1100 MiB of address space (120 MiB resident).").tag(config=True)
    notebook_timeout = Integer(
        900, help="Seconds one notebook may run in total; the cells after that are not run (0 points). "
                  "0 for no limit.").tag(config=True)
    guard = Bool(True, help="Install the grading guard (autograder.sandbox.guard) and check it around every test cell.").tag(
        config=True)
    guard_timeout = Integer(30, help="Seconds to wait for the grading guard's answer.").tag(config=True)
    kernel_env = Dict(
        {"PYTHONSAFEPATH": "1", "PYTHONDONTWRITEBYTECODE": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
         "MKL_NUM_THREADS": "1"},
        help="Environment variables set for the kernel.").tag(config=True)
    sandbox = Bool(
        True, help="Run every kernel in its own bubblewrap sandbox (autograder.sandbox.bubblewrap): the student's "
                   "files only, read-only Python, no network, no gradebook. Off (--no-sandbox) grades with the "
                   "instructor's rights, and every notebook says so.").tag(config=True)
    bwrap = Unicode("bwrap", help="The bubblewrap command (a name on PATH or a path).").tag(config=True)
    env_allow = List(
        ["LANG", "LC_*", "TZ", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"],
        help="Variables of the grader's environment a sandboxed kernel keeps (shell patterns); PATH and HOME "
             "are set for the sandbox, kernel_env is added.").tag(config=True)
    max_processes = Integer(64, help="Processes and threads a sandboxed kernel may have at once.").tag(config=True)
    cpu_limit = Integer(1200, help="CPU seconds per kernel process (RLIMIT_CPU); 0 for none.").tag(config=True)
    file_size_limit = Integer(256, help="MiB one file written by the kernel may reach (RLIMIT_FSIZE).").tag(config=True)
    scratch_size = Integer(512, help="MiB of the sandbox's working folder (a tmpfs with the student's files).").tag(
        config=True)
    tmp_size = Integer(256, help="MiB of the sandbox's private /tmp.").tag(config=True)
    random_seed = Integer(
        0, help="Seed of numpy's global random state, set in every kernel before the first cell: a student whose "
                "code draws from np.random without seeding gets the same grade every time the notebook is graded "
                "(-1: leave it unseeded).").tag(config=True)
    skip_demonstrations = Bool(
        True, help=f"Do not run the read-only cells the source notebook tags {demonstrations.TAG!r} (they earn no "
                   f"points); each shows one line saying so. A notebook whose other cells use what only such a "
                   f"cell defines runs them all.").tag(config=True)

    # ------------------------------------------------------------------ the notebook

    def preprocess(self, nb, resources=None, km=None):
        """Run every cell; stop (and mark the rest) when the kernel dies or cannot be interrupted."""
        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self.shutdown_kernel = "immediate"
        self._deadline = monotonic() + self.notebook_timeout if self.notebook_timeout else None
        self._guarded = False
        stopped = None
        with tempfile.TemporaryFile() as kernel_log:
            self._kernel_log = kernel_log
            with self.setup_kernel(**self._launch_options(kernel_log)):
                info = self.wait_for_reply(self.kc.kernel_info())
                self.nb.metadata["language_info"] = info["content"]["language_info"]
                self._seed_numpy()
                self._install_guard()
                skipped = self._skipped_cells()
                for index, cell in enumerate(self.nb.cells):
                    if index in skipped:
                        cell.outputs = [NotebookNode(output_type="stream", name="stdout", text=demonstrations.NOT_RUN)]
                        cell.execution_count = None
                    elif stopped is None:
                        try:
                            self._grade_cell(cell, index, resources)
                        except _Stop as stop:
                            stopped = stop
                            cell.setdefault("outputs", []).append(error_output(stop.ename, stop.evalue))
                            events.add(self.nb, stop.kind, self._name(cell, index), stop.evalue)
                    elif cell.cell_type == "code" and utils.is_grade(cell):
                        cell.outputs = [error_output("NotRunError", (
                            f"这个测试没有运行：评分在前面的单元格停止了（{stopped.kind}）。/ "
                            f"This test did not run: grading stopped at an earlier cell ({stopped.kind})."))]
                        events.add(self.nb, "not-run", self._name(cell, index))
        self.set_widgets_metadata()
        return self.nb, self.resources

    def _skipped_cells(self):
        """Indices of the demonstration cells not run for this notebook (``autograder.demonstrations``)."""
        info = (self.resources or {}).get("nbgrader", {})
        source = source_notebook(self, info.get("assignment"), info.get("notebook")) if self.skip_demonstrations else None
        if source is None:
            return set()                 # outside a course, or skipping switched off: every cell runs
        skip, problems = demonstrations.skippable(self.nb, demonstrations.demonstration_ids(source))
        if problems:
            events.add(self.nb, "demonstrations-run", None, "; ".join(problems[:3]))
        return set(skip)

    def limits(self):
        return bubblewrap.Limits(memory=self.memory_limit, processes=self.max_processes, cpu=self.cpu_limit,
                                 file_size=self.file_size_limit, scratch=self.scratch_size, tmp=self.tmp_size)

    def _launch_options(self, kernel_log):
        if not self.sandbox:
            env = dict(os.environ)
            env.update({str(k): str(v) for k, v in self.kernel_env.items()})
            env.pop("JPY_PARENT_PID", None)
            events.add(self.nb, "no-sandbox", None, NO_SANDBOX)
            self.log.warning(NO_SANDBOX)
            return {"env": env, "stdout": kernel_log, "stderr": kernel_log,
                    "preexec_fn": _plain_limits(self.limits())}
        ok, why = bubblewrap.available(self.bwrap, course_packages())
        if not ok:
            raise bubblewrap.SandboxUnavailable(why)
        self.kernel_manager_class = SandboxKernelManager
        return {"env": self.sandbox_env(), "stdout": kernel_log, "stderr": kernel_log,
                "sandbox_files": self._student_folder(), "sandbox_limits": self.limits(), "sandbox_bwrap": self.bwrap,
                "sandbox_packages": course_packages(), "sandbox_extra_files": matplotlib_cache()}

    def sandbox_env(self):
        """The whole environment of a sandboxed kernel: the allow-list, PATH, HOME and ``kernel_env``."""
        env = {k: v for k, v in os.environ.items() if any(fnmatch.fnmatchcase(k, p) for p in self.env_allow)}
        env.setdefault("LANG", "C.UTF-8")
        env.update({"PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/bin", "/bin"]),
                    "HOME": bubblewrap.INSIDE_HOME, "MPLCONFIGDIR": f"{bubblewrap.INSIDE_HOME}/.matplotlib"})
        env.update({str(k): str(v) for k, v in self.kernel_env.items()})
        return env

    def _student_folder(self):
        """The folder whose files the scratch gets: ``submitted/<student>/<assignment>``, what the student
        handed in. Never nbgrader's working folder ``autograded/<student>/<assignment>``: by the time the
        kernel starts, the notebook there has its test cells restored from the gradebook, hidden tests
        and seeds included. Outside nbgrader (no course), the notebook's own folder."""
        info = (self.resources or {}).get("nbgrader", {})
        coursedir = coursedir_of(self)
        if coursedir is not None and info.get("student") and info.get("assignment"):
            path = coursedir.format_path(coursedir.submitted_directory, info["student"], info["assignment"])
            return path if os.path.isdir(path) else None
        path = (self.resources or {}).get("metadata", {}).get("path")
        return path if path and os.path.isdir(path) else None

    @staticmethod
    def _name(cell, index):
        return cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {index + 1}"

    # ------------------------------------------------------------------ one cell

    def _grade_cell(self, cell, index, resources):
        graded = cell.cell_type == "code" and utils.is_grade(cell)
        helper = cell.cell_type == "code" and utils.is_locked(cell) and not graded
        if self._deadline is not None and monotonic() >= self._deadline and cell.cell_type == "code":
            raise _Stop("timeout", "CellTimeoutError", (
                f"notebook 的总运行时间超过 {self.notebook_timeout} 秒，之后的单元格没有运行。/ "
                f"The notebook used up its {self.notebook_timeout} s; later cells were not run."))
        changed = self._verify() if graded else []
        try:
            self.preprocess_cell(cell, resources, index)
        except CellTimeoutError:
            raise _Stop("unresponsive", "CellTimeoutError", (
                f"单元格运行超过 {self.timeout} 秒且无法中断（例如捕获了 KeyboardInterrupt），内核已被终止。/ "
                f"The cell ran past its time limit and ignored the interrupt (it catches KeyboardInterrupt?): "
                f"the kernel was stopped.")) from None
        except DeadKernelError:
            raise _Stop("kernel-died", "DeadKernelError", self._death_notice()) from None
        if graded:
            self._keep_diagnosis(cell)
            changed += [c for c in self._verify() if c not in changed]
            if changed:
                listed = ", ".join(changed[:6]) + (" ..." if len(changed) > 6 else "")
                cell.outputs.append(error_output("TamperingError", (
                    f"评分环境被改动（{listed}），这个测试记 0 分；之后的测试在恢复后的环境中运行。/ "
                    f"The grading environment was changed ({listed}): this test scores 0; "
                    f"later tests run in the restored environment.")))
                events.add(self.nb, "environment-tampered", self._name(cell, index), listed)
        elif helper and self._guarded:
            self._guard_call(f"{_GUARD}.record_names({bound_names(cell.source)!r})")
        for output in cell.get("outputs", []):
            if output.output_type == "error" and output.ename == "CellTimeoutError":
                events.add(self.nb, "timeout", self._name(cell, index), output.evalue)
            elif output.output_type == "error" and output.ename == "MemoryError":
                events.add(self.nb, "memory", self._name(cell, index), output.evalue or "MemoryError")

    # ------------------------------------------------------------------ timeouts

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        if self._deadline is None or cell is None:
            return timeout
        remaining = max(1, int(self._deadline - monotonic()))
        return remaining if timeout is None else min(timeout, remaining)

    async def _async_handle_timeout(self, timeout, cell=None):
        self.error_on_timeout = {
            "ename": "CellTimeoutError",
            "evalue": f"单元格运行超过 {timeout} 秒，已被中断。/ The cell ran longer than {timeout} s and was interrupted.",
            "traceback": [f"CellTimeoutError: the cell ran longer than {timeout} s and was interrupted"],
        }
        return await super()._async_handle_timeout(timeout, cell)

    # ------------------------------------------------------------------ a dead kernel

    def _death_notice(self):
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        code = process.poll() if process is not None else None
        if code is not None and code < 0:
            try:
                how = f"killed by {signal.Signals(-code).name}"
            except ValueError:
                how = f"killed by signal {-code}"
        elif code is not None:
            how = f"exited with status {code} (os._exit / sys.exit?)"
        else:
            how = "stopped answering"
        tail = self._kernel_log_tail()
        return (f"内核意外退出（{how}），之后的单元格没有运行。/ The kernel died ({how}); later cells were not run."
                + (f"\n{tail}" if tail else ""))

    def _kernel_log_tail(self, lines=3):
        try:
            self._kernel_log.flush()
            self._kernel_log.seek(0)
            text = self._kernel_log.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""
        kept = [line for line in text.splitlines() if line.strip() and "without encryption" not in line]
        return "\n".join(kept[-lines:])

    # ------------------------------------------------------------------ the guard

    def _seed_numpy(self):
        if self.random_seed < 0:
            return
        try:
            self._guard_call(f"__import__('numpy').random.seed({int(self.random_seed)})")
        except _GuardFailed as failed:
            events.add(self.nb, "grader-error", None, f"numpy's random state could not be seeded: {failed}")

    def _install_guard(self):
        if not self.guard:
            return
        try:
            self._guard_call(f"{_GUARD}.install()")
        except _GuardFailed as failed:
            events.add(self.nb, "grader-error", None, f"the grading guard could not be installed: {failed}")
            return
        self._guarded = True

    def _verify(self):
        if not self._guarded:
            return []
        try:
            return list(json.loads(self._guard_call(f"{_GUARD}.verify()")))
        except _GuardFailed as failed:
            return [f"the grading guard did not answer ({failed})"]
        except (TypeError, ValueError):
            return ["the grading guard gave no valid answer"]

    def _keep_diagnosis(self, cell):
        """Keep in the cell's metadata the diagnosis of the check that failed in it (``autograder.diagnoses``)."""
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if not self._guarded or not errors or len(errors[-1].evalue) > 50_000:     # no check writes that much
            return
        try:
            found = json.loads(self._guard_call(f"{_GUARD}.last_failure({errors[-1].ename!r}, {errors[-1].evalue!r})"))
        except (_GuardFailed, TypeError, ValueError):
            return
        record = diagnoses.clean(found)
        if record is not None:
            diagnoses.keep(cell, record)

    def _guard_call(self, expression):
        return run_sync(self._async_user_expression)(expression)

    async def _async_user_expression(self, expression):
        """Evaluate ``expression`` in the kernel (no cell, no history, no output) and return its str value."""
        msg_id = await ensure_async(self.kc.execute("", silent=True, store_history=False, allow_stdin=False,
                                                    stop_on_error=False, user_expressions={"r": expression}))
        deadline = monotonic() + self.guard_timeout
        while True:
            remaining = deadline - monotonic()
            if remaining <= 0:
                raise _Stop("unresponsive", "CellTimeoutError",
                            "评分检查没有得到内核的回应，内核已被终止。/ The kernel stopped answering the grader: it was stopped.")
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=min(remaining, 1.0)))
            except Empty:
                if not await ensure_async(self.km.is_alive()):
                    raise _Stop("kernel-died", "DeadKernelError", self._death_notice()) from None
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                break
        content = msg["content"]
        result = content.get("user_expressions", {}).get("r", {})
        if content.get("status") != "ok" or result.get("status") != "ok":
            raise _GuardFailed(f"{result.get('ename', content.get('ename', '?'))}: "
                               f"{result.get('evalue', content.get('evalue', ''))}")
        return ast.literal_eval(result["data"]["text/plain"])


class _GuardFailed(Exception):
    """The guard's expression raised or was not evaluated."""
