"""Warm kernels: fork each grading kernel from a template process that has already done its imports.

A fresh kernel costs about a second before the student's first line runs: starting Python and ipykernel,
then the first cell's imports (``autograder.checks``, numpy, matplotlib, reludrop_core). Over a class
(~400 notebooks) that is minutes of pure start-up. Here one *template* process per grading
process imports all that once (and draws a tiny figure, so matplotlib's fonts and Agg are loaded), then
``fork()``s one child per notebook; the child becomes an ordinary IPython kernel
(``ipykernel.kernelapp.IPKernelApp`` with the connection file jupyter_client wrote). Every notebook still
gets a new process that is killed after it: no kernel is ever reused, students stay isolated.
A forked kernel is ready in about 0.06 s with those imports done; measured on the course notebooks this
saves about 0.45 s of the 0.9 s before the end of the first cell (the rest is jupyter_client's
handshake, the same for both).

The child is made to look like a kernel that jupyter_client started itself (``launch_kernel``):
its own session and process group (``start_new_session``), the notebook's directory, exactly the
requested environment, the resource limits (as numbers: a ``preexec_fn`` cannot cross a socket), stdin a
pipe at end-of-file, stdout/stderr on the grader's kernel log, fresh ``random``/numpy seeds (otherwise
every child would draw the template's numbers). What is fixed when a process starts (``sys.flags``, such
as ``safe_path`` from ``PYTHONSAFEPATH``; BLAS threads; ``MPLBACKEND``; the locale) comes from the
environment the template started with, so a kernel whose start-up variables (``_STARTUP``) differ from
the template's is started the normal way; so is one whose folder has a ``matplotlibrc`` (matplotlib
reads it from the working directory when imported, and the template imported it in ``/``).

What still differs from a cold kernel (none of it reaches a notebook's output in the course):
the modules in ``_PRELOAD`` are already imported, all warm kernels share the template's ``str`` hash
seed and memory layout, the kernel's parent (``os.getppid()``, ``JPY_PARENT_PID``) is the fork server,
``warnings.filters`` are in another order, thread names are numbered from 2, and ``ps`` shows
``python -c import autograder.warm...``.

Plumbing: the grader talks to the fork server over a Unix socket (``SOCK_SEQPACKET``: one message per
request); each request carries, with ``socket.send_fds``, a socket of its own on which the server
answers the child's pid and, once it has reaped the child, its exit status (as ``Popen.returncode``:
negative for a signal). The grader watches the child through a pidfd (exit, and signals that cannot hit
a reused pid). The server stops when the grader exits (``atexit``, or end-of-file on the socket if the
grader dies) and kills any kernel still running then.

Use: ``WarmKernelManager`` as nbclient's ``kernel_manager_class`` and the launch option ``rlimits``
(``GradingExecute.warm_kernels``). The server starts on the first kernel; if it cannot, kernels start
the normal way and the log says so once.
"""

import atexit
import json
import os
import resource
import select
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner

#: Environment variables read when the interpreter or the preloaded modules start; a kernel whose
#: environment differs from the template's in one of these is started cold.
_STARTUP = ("PYTHON", "LD_", "LANG", "LC_", "TZ", "HOME", "XDG_", "TMP", "TEMP", "MPL", "OPENBLAS", "OMP_", "MKL_",
            "NUMEXPR_", "JUPYTER", "IPYTHON", "PYDEVD")
_MPLBACKEND = "module://matplotlib_inline.backend_inline"  # what ipykernel sets before a kernel imports matplotlib
_MAX_MESSAGE = 1 << 20
_START_TIMEOUT = 120  # seconds for the template's imports (the first run may build matplotlib's font cache)


# ---------------------------------------------------------------------- the grader's side

class ForkServer:
    """The template process and the socket to it; ``spawn`` forks one kernel."""

    def __init__(self, python, env):
        self.python, self.env, self.owner = list(python), _startup_part(env), os.getpid()
        self._socket, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._log = tempfile.TemporaryFile()
        template_env = {k: v for k, v in env.items() if not k.startswith("JPY_")}
        template_env.setdefault("MPLBACKEND", _MPLBACKEND)
        try:
            self.process = subprocess.Popen(
                [*python, "-c", f"import autograder.warm as w; w._serve({theirs.fileno()})"],
                env=template_env, cwd="/", stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
                pass_fds=[theirs.fileno()], start_new_session=True)
        finally:
            theirs.close()
        self._socket.settimeout(_START_TIMEOUT)
        try:
            ready = self._socket.recv(_MAX_MESSAGE)
        except OSError:
            ready = b""
        if not ready:
            why = self._tail() or "no message"
            self.stop()
            raise RuntimeError(f"the template process did not start: {why}")
        self.pid = json.loads(ready)["ready"]

    def compatible(self, cmd, env, cwd):
        """Would a kernel forked from the template be the kernel ``cmd`` in ``env`` would start in ``cwd``?
        Not with a ``matplotlibrc`` in ``cwd`` (a cold kernel's matplotlib reads it when imported); and a
        missing ``cwd`` is left to the normal start, which raises the usual FileNotFoundError."""
        cwd = cwd or os.getcwd()
        return (_interpreter(cmd) == self.python and _startup_part(env) == self.env and os.path.isdir(cwd)
                and not os.path.exists(os.path.join(cwd, "matplotlibrc")))

    def spawn(self, cmd, env, cwd, stdout, stderr, rlimits):
        """Fork a kernel running ``cmd``'s arguments; returns its ``WarmProcess``."""
        report, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        request = {"cmd": list(cmd), "env": env, "cwd": os.fspath(cwd or os.getcwd()),
                   "rlimits": [[which, soft, hard] for which, (soft, hard) in (rlimits or {}).items()]}
        try:
            socket.send_fds(self._socket, [json.dumps(request).encode()],
                            [theirs.fileno(), _fd(stdout, 1), _fd(stderr, 2)])
        finally:
            theirs.close()
        report.settimeout(30)
        answer = report.recv(_MAX_MESSAGE)
        if not answer:
            report.close()
            raise RuntimeError(f"the fork server did not answer: {self._tail() or 'no message'}")
        return WarmProcess(json.loads(answer)["pid"], report)

    def alive(self):
        return self.process.poll() is None

    def stop(self):
        """Close the socket (the server then kills its kernels and exits) and wait for it."""
        self._socket.close()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()

    def _tail(self):
        try:
            self._log.seek(0)
            return " | ".join(self._log.read().decode("utf-8", "replace").strip().splitlines()[-3:])
        except (OSError, ValueError):
            return ""


class WarmProcess:
    """A forked kernel as jupyter_client's ``LocalProvisioner`` uses a ``Popen``: pid, poll, wait, signals.

    The fork server, the kernel's parent, reaps it and sends its exit status on ``report``; the pidfd
    says when the kernel has exited and signals it without the risk of hitting a reused pid."""

    stdin = stdout = stderr = None  # LocalProvisioner.wait() closes these when set

    def __init__(self, pid, report):
        self.pid, self.returncode, self._report = pid, None, report
        try:
            self._pidfd = os.pidfd_open(pid)
        except ProcessLookupError:  # exited (and reaped) already, e.g. it could not enter its folder
            self._pidfd = None
            self._collect()

    def poll(self):
        if self.returncode is None and select.select([self._pidfd], [], [], 0)[0]:
            self._collect()
        return self.returncode

    def wait(self, timeout=None):
        if self.returncode is None:
            if not select.select([self._pidfd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            self._collect()
        return self.returncode

    def send_signal(self, signum):
        if self.poll() is None:
            try:
                signal.pidfd_send_signal(self._pidfd, signum)
            except ProcessLookupError:
                pass

    def kill(self):
        self.send_signal(signal.SIGKILL)

    def terminate(self):
        self.send_signal(signal.SIGTERM)

    def _collect(self):
        """The kernel has exited: read the status the server sends once it has reaped it."""
        self._report.settimeout(10)
        try:
            answer = self._report.recv(_MAX_MESSAGE)
        except OSError:
            answer = b""
        # No answer: the server is gone (killed), the status with it; an orphaned kernel exits with 1.
        self.returncode = json.loads(answer)["exit"] if answer else 1
        self._report.close()
        if self._pidfd is not None:
            os.close(self._pidfd)


class WarmProvisioner(LocalProvisioner):
    """``LocalProvisioner`` whose kernel is forked by the fork server; everything else (interrupt,
    kill of the process group, ports, connection file) is jupyter_client's own. Launch option
    ``rlimits`` ({RLIMIT_*: (soft, hard)}) is applied in the forked child; a cold start uses
    ``preexec_fn`` as before."""

    async def launch_kernel(self, cmd, **kwargs):
        rlimits = kwargs.pop("rlimits", None)
        env = kwargs.get("env") or dict(os.environ)
        server = fork_server(_interpreter(cmd), env, self.log) if _interpreter(cmd) else None
        process = None
        if server is not None and server.compatible(cmd, env, kwargs.get("cwd")):
            try:
                process = server.spawn(cmd, env, kwargs.get("cwd"), kwargs.get("stdout"), kwargs.get("stderr"),
                                       rlimits)
            except (OSError, RuntimeError, ValueError) as error:
                _fail(f"the fork server failed ({error})", self.log)
        elif server is not None:
            _say_once("incompatible", "warm kernels: this kernel's command or start-up environment differs "
                                      "from the template's, or its folder is missing or has a matplotlibrc; "
                                      "it is started normally", self.log)
        if process is None:
            return await super().launch_kernel(cmd, **kwargs)
        self.process, self.pid, self.pgid = process, process.pid, process.pid  # setsid: group id == pid
        self.cwd = kwargs.get("cwd") or os.getcwd()
        return self.connection_info


class WarmKernelManager(AsyncKernelManager):
    """nbclient's kernel manager, with every kernel from the fork server (``WarmProvisioner``)."""

    async def _async_pre_start_kernel(self, **kw):
        if self.provisioner is None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", None) or str(uuid.uuid4())
            self.provisioner = WarmProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
        return await super()._async_pre_start_kernel(**kw)

    pre_start_kernel = _async_pre_start_kernel


_server = None
_said = set()


def fork_server(python, env, log):
    """The process's fork server, started on first use; None when it could not start (said once in ``log``)."""
    global _server
    if _server is not None and _server.owner != os.getpid():
        _server = None  # a forked copy of the grader: that server is its parent's, this process gets its own
    if _server is None and "failed" not in _said:
        started = time.monotonic()
        try:
            _server = ForkServer(python, env)
        except (OSError, RuntimeError, ValueError) as error:
            _fail(f"the fork server did not start ({error})", log)
        else:
            atexit.unregister(stop)
            atexit.register(stop)
            log.info("warm kernels: fork server %d ready in %.1f s", _server.pid, time.monotonic() - started)
    if _server is not None and not _server.alive():
        _fail(f"the fork server exited ({_server.process.returncode})", log)
    return _server


def stop():
    """Stop the fork server (its running kernels are killed); the next warm kernel starts a new one."""
    global _server
    if _server is not None:
        server, _server = _server, None
        server.stop()
    _said.discard("failed")


def _fail(why, log):
    global _server
    if _server is not None:
        server, _server = _server, None
        server.stop()
    _said.add("failed")
    _say_once(why, f"warm kernels off: {why}; kernels start the normal way", log)


def _say_once(key, message, log):
    if key not in _said:
        _said.add(key)
        log.warning(message)


def _interpreter(cmd):
    """``python [options]`` of a ``python [options] -m ipykernel_launcher ...`` kernel command, else None."""
    if "-m" in cmd and cmd[cmd.index("-m") + 1:cmd.index("-m") + 2] == ["ipykernel_launcher"]:
        return cmd[:cmd.index("-m")]
    return None


def _startup_part(env):
    return {k: v for k, v in env.items() if k.startswith(_STARTUP)}


def _fd(stream, default):
    """A file descriptor for a Popen-style stdout/stderr argument (None: the grader's own)."""
    if stream is None:
        return default
    fd = stream if isinstance(stream, int) else stream.fileno()
    if fd < 0:
        raise ValueError("PIPE/DEVNULL are not supported for warm kernels")
    return fd


# ---------------------------------------------------------------------- the template process

#: What ipykernel imports while a kernel starts, and what the course notebooks' first cell imports.
#: Not here: ``matplotlib_inline.backend_inline``, whose import hooks the inline figures into the
#: running IPython shell; that has to happen in the kernel, as it does in a cold one.
_PRELOAD = (
    "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.debugger", "IPython.core.magics",
    "IPython.core.completerlib", "IPython.core.debugger", "IPython.extensions.storemagic", "sqlite3",
    "tornado.platform.asyncio", "tornado.queues", "psutil", "faulthandler",
    "numpy", "matplotlib.pyplot", "matplotlib.backends.backend_agg", "IPython.core.pylabtools",
    "reludrop_core", "autograder.checks", "autograder.guard",
)


def _warm_up():
    """Import ``_PRELOAD`` and draw once (fonts, Agg, PNG), without starting a thread (fork copies none)."""
    import importlib
    import io
    import threading

    for name in _PRELOAD:
        importlib.import_module(name)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(1, 1))  # not pyplot: the backend is chosen on first use, in the kernel
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.plot([0, 1], [0, 1], label="x")
    axes.set_title("warm")
    axes.legend()
    figure.savefig(io.BytesIO(), format="png", bbox_inches="tight")
    if threading.active_count() != 1:
        raise RuntimeError(f"the template started threads: {threading.enumerate()}")


def _serve(fd):
    """The template: warm up, then fork one kernel per request until the grader goes away."""
    from pathlib import Path

    if sys.path and (sys.path[0] == "" or Path(sys.path[0]) == Path.cwd()):
        del sys.path[0]  # as ipykernel_launcher does
    before = dict(os.environ)
    _warm_up()
    # What the imports add to os.environ (debugpy: PYDEVD_USE_FRAME_EVAL, if unset) they add in a cold kernel.
    imported_env = {k: v for k, v in os.environ.items() if before.get(k) != v}
    control = socket.socket(fileno=fd)
    grader = os.getppid()
    children = {}  # pid -> report socket
    wakeup_r, wakeup_w = os.pipe()
    os.set_blocking(wakeup_w, False)
    signal.set_wakeup_fd(wakeup_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    selector.register(wakeup_r, selectors.EVENT_READ)
    sys.stdout.flush()
    sys.stderr.flush()
    control.send(json.dumps({"ready": os.getpid()}).encode())
    try:
        while os.getppid() == grader:
            for key, _ in selector.select(timeout=1.0):
                if key.fileobj is wakeup_r:
                    os.read(wakeup_r, 4096)
                    continue
                message, fds, _, _ = socket.recv_fds(control, _MAX_MESSAGE, 3)
                if not message:
                    return  # the grader closed the socket or exited
                pid = os.fork()
                if pid == 0:
                    selector.close()
                    _become_kernel(json.loads(message), fds, imported_env)  # never returns
                report = socket.socket(fileno=fds[0])
                for extra in fds[1:]:
                    os.close(extra)
                children[pid] = report
                _send(report, {"pid": pid})
            _reap(children)
    finally:
        for pid in children:
            for kill in (os.killpg, os.kill):  # the group, and the kernel itself if it has no group yet
                try:
                    kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        for pid in children:
            os.waitpid(pid, 0)


def _reap(children):
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        report = children.pop(pid, None)
        if report is not None:
            _send(report, {"exit": os.waitstatus_to_exitcode(status)})
            report.close()


def _send(sock, message):
    try:
        sock.send(json.dumps(message).encode())
    except OSError:
        pass  # the grader stopped listening to this kernel


def _become_kernel(request, fds, imported_env):
    """In the forked child: become the kernel ``request`` asks for, as ``launch_kernel`` would start it."""
    code = 1
    try:
        os.setsid()
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        stdin, closed = os.pipe()
        os.close(closed)  # launch_kernel gives the kernel a pipe and closes its end: reading gives EOF
        os.dup2(stdin, 0)
        os.dup2(fds[1], 1)
        os.dup2(fds[2], 2)
        os.closerange(3, resource.getrlimit(resource.RLIMIT_NOFILE)[0])  # the server's sockets, the template's fds
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update({**imported_env, **request["env"], "JPY_PARENT_PID": str(os.getppid())})
        for which, soft, hard in request["rlimits"]:
            resource.setrlimit(which, (soft, hard))
        _reseed()
        import importlib.util

        from ipykernel import kernelapp
        cmd = request["cmd"]
        sys.argv = [importlib.util.find_spec("ipykernel_launcher").origin, *cmd[cmd.index("-m") + 2:]]
        sys.orig_argv = cmd
        # The parent to watch (exit when it dies) is read from JPY_PARENT_PID when ipykernel is
        # imported, which was in the template: pass it as the launcher's environment would have.
        kernelapp.IPKernelApp.launch_instance(parent_handle=os.getppid())
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        if not isinstance(stop.code, (int, type(None))):
            print(stop.code, file=sys.stderr)
    except BaseException:
        import traceback
        traceback.print_exc()
    finally:
        try:
            atexit._run_exitfuncs()  # as the interpreter would at exit (ipykernel cleans up there)
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _reseed():
    """New seeds for ``random`` and numpy's global RandomState: forked children share the template's."""
    import random

    import numpy

    random.seed()  # from os.urandom
    numpy.random.seed()  # from os.urandom (the legacy RandomState's full state)
