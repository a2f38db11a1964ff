"""The boundary around a grading kernel: one bubblewrap sandbox per notebook.

bubblewrap (``bwrap``, Debian package ``bubblewrap``: the sandbox Flatpak uses) starts the kernel in
new user, mount, PID, network, IPC, UTS and cgroup namespaces. Inside, the kernel sees:

==========================  ==========================================================================
``/home/student``           its working directory and ``HOME``: a size-limited tmpfs holding a copy of
                            this student's own submitted files for this assignment; writable
``/tmp``                    a private size-limited tmpfs; writable
``/run/kernel``             the kernel's IPC sockets and connection file (a 1 MiB tmpfs)
Python, the venv            read-only: ``sys.base_prefix``, ``sys.prefix`` and ``/usr``
the course's packages       read-only: the folders of ``autograder`` and ``reludrop_core`` alone (an
                            editable install's source tree is *not* bound: no ``solutions/``, no
                            gradebook, no ``submitted/``, ``autograded/`` or ``feedback/``)
``/etc``, ``/var/cache``     a handful of files the libraries read (fonts and fontconfig's cache, the
                            loader cache, the time zone) and a one-line ``passwd``; nothing else
==========================  ==========================================================================

Nothing the kernel writes leaves the sandbox: both tmpfs vanish with it, and the notebook comes back
to the grader over the kernel's messages only. No network (a new network namespace has only a
loopback interface, down), so a PostgreSQL gradebook or any other server is out of reach; the grader
talks to the kernel over ``ipc`` sockets that it reaches through ``/proc/<pid>/root`` (the sandbox's
own mount namespace), so nothing of the sandbox is a writable host folder. When the kernel exits or
is killed, bubblewrap's init (PID 1 of the namespace) ends and the kernel takes every process of the
namespace with it (``--die-with-parent`` as well, if the grader dies).

Limits (``Limits``): address space (RLIMIT_AS, as before), CPU seconds (RLIMIT_CPU), the size of one
written file (RLIMIT_FSIZE), the tmpfs sizes, and the number of processes and threads: RLIMIT_NPROC,
set *inside* the sandbox (``in_sandbox``: set before bubblewrap creates its user namespace, Linux
would also cap the grader's own user at that number), which holds for an ordinary user; for root,
whom Linux exempts from RLIMIT_NPROC, a ``pids`` cgroup per kernel (``ProcessCap``) where the
machine has one the grader may write.

``available()`` says whether bubblewrap runs here and, if not, what to install.
"""

import dataclasses
import json
import os
import pathlib
import resource
import select
import shutil
import signal
import subprocess
import sys
import time
import uuid

INSIDE_HOME = "/home/student"
INSIDE_RUN = "/run/kernel"
INSIDE_CONNECTION = f"{INSIDE_RUN}.json"
#: System files that the kernel's libraries read, bound read-only where they exist: the loader's and
#: fontconfig's settings and caches (without its cache, fontconfig rescans every font in each kernel).
SYSTEM = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/fonts", "/etc/localtime",
          "/etc/alternatives", "/etc/mime.types", "/var/cache/fontconfig")
PASSWD = "student:x:1000:1000:student:/home/student:/usr/sbin/nologin\n"
GROUP = "student:x:1000:\n"
INSTALL = "sudo apt-get install -y bubblewrap"
#: At most this many of a submission's files and folders are copied into the scratch (in name order).
MAX_FILES = 256


@dataclasses.dataclass
class Limits:
    """What one grading kernel may use. Sizes in MiB, time in seconds; 0 means no limit."""
    memory: int = 4096          # address space per process (RLIMIT_AS)
    processes: int = 64         # processes and threads of the sandbox
    cpu: int = 1200             # CPU seconds per process (RLIMIT_CPU)
    file_size: int = 256        # one written file (RLIMIT_FSIZE)
    scratch: int = 512          # the working directory's tmpfs
    tmp: int = 256              # the private /tmp

    def rlimits(self):
        """{RLIMIT_*: (soft, hard)} for bubblewrap and the kernel (everything it starts inherits them);
        the process count is set inside the sandbox (``in_sandbox``)."""
        mib = 1024 * 1024
        limits = {resource.RLIMIT_CORE: (0, 0)}
        if self.memory:
            limits[resource.RLIMIT_AS] = (self.memory * mib,) * 2
        if self.cpu:
            limits[resource.RLIMIT_CPU] = (self.cpu, self.cpu + 5)
        if self.file_size:
            limits[resource.RLIMIT_FSIZE] = (self.file_size * mib,) * 2
        return limits

    def in_sandbox(self, cmd):
        """``cmd`` preceded by a step that sets RLIMIT_NPROC inside the sandbox's user namespace, then execs it."""
        if not self.processes:
            return list(cmd)
        return [cmd[0], "-c", _SET_NPROC, str(self.processes), *cmd]


_SET_NPROC = ("import os, resource, sys; n = int(sys.argv[1]); resource.setrlimit(resource.RLIMIT_NPROC, (n, n)); "
              "os.execv(sys.argv[2], sys.argv[2:])")


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces here; the message says what to do."""


def bwrap_path(name="bwrap"):
    """The bubblewrap executable ``name`` (a command on PATH or a path), or None when there is none."""
    found = shutil.which(name)
    if found is None and name == "bwrap" and os.access("/usr/bin/bwrap", os.X_OK):
        found = "/usr/bin/bwrap"
    return found


_checked = {}


def available(name="bwrap", packages=()):
    """(True, "") when a bubblewrap sandbox can be made here and Python imports ipykernel and the course's
    ``packages`` in it, else (False, what to do). Cached per process."""
    key = (name, tuple(packages))
    if key not in _checked:
        _checked[key] = _probe(name, packages)
    return _checked[key]


def _probe(name, packages):
    bwrap = bwrap_path(name)
    if bwrap is None:
        return False, (f"bubblewrap (bwrap) is not installed: grading runs every student's kernel in a bubblewrap "
                       f"sandbox. Install it ({INSTALL}; on Fedora: sudo dnf install bubblewrap), or grade "
                       f"without isolation with --no-sandbox (c.GradingExecute.sandbox = False) at your own risk.")
    try:
        binds = [arg for folder in packages for arg in ("--ro-bind", folder, folder)]
        imports = ", ".join(["ipykernel", *(os.path.basename(folder) for folder in packages)])
        done = subprocess.run([bwrap, *_base_args(Limits()), *binds, "--", sys.executable, "-c",
                               f"import {imports}; print('ok')"],
                              capture_output=True, text=True, timeout=30, env={"PATH": "/usr/bin:/bin"})
    except (OSError, subprocess.TimeoutExpired) as error:
        return False, f"bubblewrap did not run ({error})"
    if done.returncode == 0 and done.stdout.strip() == "ok":
        return True, ""
    why = (done.stderr.strip().splitlines() or ["no message"])[-1]
    if not why.startswith("bwrap:"):
        return False, (f"Python cannot import the course inside the bubblewrap sandbox ({why}). The sandbox binds "
                       f"{', '.join(interpreter_dirs() + list(packages))} read-only: install the course into this "
                       f"environment (pip install -e '.[course]'), or report this as a bug.")
    return False, (f"bubblewrap cannot create a sandbox here ({why}). User namespaces may be switched off "
                   f"(sysctl kernel.unprivileged_userns_clone=1, user.max_user_namespaces > 0) or forbidden in "
                   f"this container. Grade on a machine where `bwrap --unshare-all --ro-bind / / true` works, "
                   f"or pass --no-sandbox (c.GradingExecute.sandbox = False) at your own risk.")


def _base_args(limits):
    """Namespaces, the writable tmpfs, /usr, /proc, /dev and the interpreter: what every sandbox (and the
    probe) has. The tmpfs come first: a tmpfs mounted on /tmp or /home after a bind below it (a venv in
    /tmp/ci/.venv, a course in /home/teacher/course) would hide that bind."""
    mib = 1024 * 1024
    args = ["--unshare-all", "--die-with-parent", "--new-session", "--uid", "1000", "--gid", "1000",
            "--hostname", "grading",
            "--size", str(limits.tmp * mib), "--tmpfs", "/tmp",
            "--size", str(limits.scratch * mib), "--tmpfs", "/home", "--dir", INSIDE_HOME,
            "--size", str(mib), "--tmpfs", "/run", "--dir", INSIDE_RUN,
            "--ro-bind", "/usr", "/usr"]
    for name in ("bin", "lib", "lib64", "sbin"):
        target = os.path.join("/", name)
        if os.path.islink(target):
            args += ["--symlink", os.readlink(target), target]
        elif os.path.isdir(target):
            args += ["--ro-bind", target, target]
    for prefix in interpreter_dirs():
        args += ["--ro-bind", prefix, prefix]
    return args + ["--proc", "/proc", "--dev", "/dev"]


def interpreter_dirs():
    """The Python installation and the venv (their real paths too, when reached through links)."""
    dirs = []
    for path in (sys.base_prefix, sys.prefix, os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)):
        if path.startswith("/usr") or path in dirs or not os.path.isdir(path):
            continue
        dirs.append(path)
    return _outermost(dirs)


def _outermost(paths):
    """The paths not inside another one of them (a bind of the outer one covers the inner)."""
    keep = []
    for path in sorted(set(paths), key=len):
        if not any(path == k or path.startswith(k.rstrip("/") + "/") for k in keep):
            keep.append(path)
    return keep


def package_dirs(folders):
    """The folders of the course's own packages, to bind read-only, and nothing around them; those inside
    the Python installation or /usr are bound already."""
    dirs = [os.path.realpath(folder) for folder in folders]
    prefixes = interpreter_dirs()
    return [d for d in _outermost(dirs) if not any(d.startswith(p.rstrip("/") + "/") for p in prefixes)
            and not d.startswith("/usr/")]


@dataclasses.dataclass
class Launch:
    """One sandboxed command: the argument list, the fds it needs, and what to clean up after it."""
    args: list
    pass_fds: list
    info_fd: int
    keep_open: list

    def close_parent_fds(self):
        for fd in self.keep_open:
            try:
                os.close(fd)
            except OSError:
                pass
        self.keep_open = []


def command(cmd, *, files_from, connection_file, limits, packages, bwrap="bwrap", extra_files=None):
    """bubblewrap's arguments to run ``cmd`` (a kernel) in a new sandbox.

    ``files_from``: the folder whose files (the student's submission) are copied into the scratch;
    ``extra_files``: {path inside: host file} copied in after them (caches the grader prepared);
    ``connection_file``: the host file jupyter_client wrote, copied to ``INSIDE_CONNECTION``;
    ``packages``: folders to bind read-only (``package_dirs``). Returns a ``Launch``; the caller
    passes ``pass_fds`` to Popen, then calls ``close_parent_fds`` and reads the child pid from ``info_fd``.
    """
    mib = 1024 * 1024
    opened = []

    def fd_of(path):
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        os.set_inheritable(fd, True)
        opened.append(fd)
        return str(fd)

    def data_fd(text):
        read, write = os.pipe()
        os.write(write, text.encode())
        os.close(write)
        os.set_inheritable(read, True)
        opened.append(read)
        return str(read)

    args = [bwrap_path(bwrap) or bwrap, *_base_args(limits)]
    for path in SYSTEM:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    args += ["--ro-bind-data", data_fd(PASSWD), "/etc/passwd", "--ro-bind-data", data_fd(GROUP), "/etc/group"]
    for folder in packages:
        args += ["--ro-bind", folder, folder]
    root = pathlib.Path(files_from) if files_from else None
    if root is not None and root.is_dir():
        for path in sorted(root.rglob("*"))[:MAX_FILES]:   # each file is an open descriptor until bwrap starts
            relative = path.relative_to(root)
            if any(part == ".ipynb_checkpoints" for part in relative.parts) or path.is_symlink():
                continue
            inside = f"{INSIDE_HOME}/{relative.as_posix()}"
            if path.is_dir():
                args += ["--dir", inside]
            elif path.is_file():
                args += ["--file", fd_of(path), inside]
    made = set()
    for inside, host in (extra_files or {}).items():
        folder = os.path.dirname(inside)
        if folder not in made:
            args += ["--dir", folder]
            made.add(folder)
        args += ["--file", fd_of(host), inside]
    with open(connection_file, encoding="utf-8") as fh:
        args += ["--ro-bind-data", data_fd(fh.read()), INSIDE_CONNECTION]   # a copy: the file may be rewritten
    # jupyter_client's launcher sets JPY_PARENT_PID; in a new PID namespace that pid means nothing and
    # ipykernel would take its parent for dead and exit at once.
    args += ["--unsetenv", "JPY_PARENT_PID"]
    # Nothing else is writable: the sandbox's own root and /dev are read-only (bubblewrap makes both tmpfs,
    # which would have no size limit), /dev/shm is a small tmpfs of its own.
    args += ["--remount-ro", "/", "--remount-ro", "/dev", "--size", str(64 * mib), "--tmpfs", "/dev/shm"]
    info_read, info_write = os.pipe()
    os.set_inheritable(info_write, True)
    opened.append(info_write)
    args += ["--info-fd", str(info_write), "--chdir", INSIDE_HOME, "--", *cmd]
    return Launch(args, [int(fd) for fd in opened], info_read, opened)


def read_child_pid(fd, timeout=30):
    """The sandbox's init as the host sees it (``--info-fd``); None when bubblewrap failed first."""
    data = b""
    try:
        while b"}" not in data:
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                return None
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(fd)
    try:
        return int(json.loads(data[:data.index(b"}") + 1])["child-pid"])
    except (ValueError, KeyError):
        return None


# ---------------------------------------------------------------------- processes for root

class ProcessCap:
    """A ``pids`` cgroup of its own for one kernel (when the grader is root); ``None`` from ``make`` elsewhere.

    Linux does not apply RLIMIT_NPROC to root (in any user namespace it maps to), so a fork bomb
    in a sandbox started by root would meet no limit. A cgroup's ``pids.max`` holds for everyone.
    ``enter`` (in the child, before bubblewrap starts) moves the process in; ``close`` kills
    whatever is still in the group and removes it.
    """

    ROOTS = ("/sys/fs/cgroup/pids", "/sys/fs/cgroup")

    def __init__(self, path):
        self.path = path

    @classmethod
    def make(cls, limit):
        if os.geteuid() != 0 or not limit:
            return None
        for root in cls.ROOTS:
            if not os.path.isfile(os.path.join(root, "cgroup.procs")):
                continue
            if root == "/sys/fs/cgroup" and "pids" not in _read(os.path.join(root, "cgroup.subtree_control")).split():
                continue
            path = os.path.join(root, f"reludrop-{os.getpid()}-{uuid.uuid4().hex[:8]}")
            try:
                os.mkdir(path)
                with open(os.path.join(path, "pids.max"), "w") as fh:
                    fh.write(str(limit))
            except OSError:
                try:
                    os.rmdir(path)
                except OSError:
                    pass
                continue
            return cls(path)
        return None

    def enter(self):
        """Move the calling process into the group (a preexec_fn step: no allocation-heavy work)."""
        fd = os.open(os.path.join(self.path, "cgroup.procs"), os.O_WRONLY)
        try:
            os.write(fd, b"0")
        finally:
            os.close(fd)

    def pids(self):
        return [int(p) for p in _read(os.path.join(self.path, "cgroup.procs")).split()]

    def close(self):
        for _ in range(50):
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.02)
        try:
            os.rmdir(self.path)
        except OSError:
            pass


def _read(path):
    try:
        with open(path) as fh:
            return fh.read()
    except OSError:
        return ""
