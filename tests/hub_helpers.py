"""Helpers of the hub test (tests/test_hub.py): real Unix users, the course's JupyterHub started by
``scripts/hub.py``, the instructor's commands run as the instructor, and what a user does in the browser.

Every process is owned by PID: the hub is started in its own session (``scripts/hub.py`` execs JupyterHub,
so its PID is the hub's); the proxy and every user's server (and their kernels) are the hub's descendants,
noted before it is stopped and SIGKILLed by PID if anything outlives it.
"""

import json
import os
import pathlib
import pwd
import re
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import psutil

from browser_helpers import PANEL, kill_all, process_tree

RUNUSER = shutil.which("runuser") or "/usr/sbin/runuser"


# --- users ------------------------------------------------------------------------------------------------------------

class Users:
    """Unix users made for the test (``useradd -m``), each with a random password (PAM checks it); removed at the end."""

    def __init__(self, names):
        self.names = list(names)
        self.passwords = {}

    def create(self):
        for name in self.names:
            self._remove(name)            # left over from an interrupted run
            subprocess.run(["useradd", "-m", "-s", "/bin/bash", name], check=True)
            self.passwords[name] = secrets.token_urlsafe(12)
        lines = "".join(f"{n}:{p}\n" for n, p in self.passwords.items())
        subprocess.run(["chpasswd"], input=lines, text=True, check=True)
        return self

    def home(self, name):
        return pathlib.Path(pwd.getpwnam(name).pw_dir)

    def remove(self):
        for name in self.names:
            self._remove(name)

    @staticmethod
    def _remove(name):
        try:
            uid = pwd.getpwnam(name).pw_uid
        except KeyError:
            return
        kill_all([p for p in _processes_of(uid)])
        subprocess.run(["userdel", "-r", name], capture_output=True)


def _processes_of(uid):
    procs = []
    for proc in psutil.process_iter(["uids"]):
        try:
            if proc.info["uids"] and proc.info["uids"].real == uid:
                procs.append(proc)
        except psutil.Error:
            continue
    return procs


def run_as(user, args, python, cwd=None, timeout=600):
    """Run ``python args...`` as ``user`` (runuser), with a clean environment as a login would give."""
    entry = pwd.getpwnam(user)
    env = {"HOME": entry.pw_dir, "USER": user, "LOGNAME": user, "LANG": "C.UTF-8",
           "PATH": f"{pathlib.Path(python).parent}:/usr/local/bin:/usr/bin:/bin"}
    return subprocess.run([RUNUSER, "-u", user, "--", "/usr/bin/env", "-i", *[f"{k}={v}" for k, v in env.items()],
                           str(python), *args], capture_output=True, text=True, cwd=cwd or entry.pw_dir,
                          timeout=timeout)


# --- the checkout under test -----------------------------------------------------------------------------------------

#: Never copied: the environment, build products, and a gradebook or graded work left in the checkout.
NOT_COPIED = {".git", ".venv", "build", "submitted", "autograded", "feedback", "kits", ".pytest_cache", ".hypothesis",
              "__pycache__", ".ipynb_checkpoints"}


def _copied(relative):
    parts = pathlib.PurePosixPath(relative).parts
    return bool(parts) and not (NOT_COPIED & set(parts)) and not parts[-1].startswith("gradebook.db") \
        and not parts[-1].endswith(".pyc") and not parts[0].endswith(".egg-info")


def copy_checkout(source, target):
    """Copy the checkout ``source`` to ``target`` (made anew), every file readable by all, every folder 0755.

    What is copied: git's files of the checkout as they are in the work tree (tracked, and untracked ones git does
    not ignore), without ``NOT_COPIED``; without git, the whole folder less ``NOT_COPIED`` and git's ignored names.
    """
    source, target = pathlib.Path(source), pathlib.Path(target)
    if target.exists():
        shutil.rmtree(target)
    listed = subprocess.run(["git", "-C", str(source), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True) if shutil.which("git") else None
    if listed is not None and listed.returncode == 0:
        files = [f for f in listed.stdout.decode("utf-8", "surrogateescape").split("\0") if f and _copied(f)]
    else:
        files = [p.relative_to(source).as_posix() for p in source.rglob("*")
                 if p.is_file() and _copied(p.relative_to(source).as_posix())]
    target.mkdir(parents=True)
    for relative in files:
        path = source / relative
        if not path.is_file() or path.is_symlink():     # deleted in the work tree, or a submodule
            continue
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target / relative)
    for dirpath, dirnames, filenames in os.walk(target):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            path = os.path.join(dirpath, name)
            os.chmod(path, 0o755 if os.stat(path).st_mode & 0o100 else 0o644)
    return target


def reachable_by_all(path):
    """Is every folder from / down to ``path`` searchable by other users?"""
    path = pathlib.Path(path).resolve()
    return all(os.stat(p).st_mode & 0o001 for p in [path, *path.parents])


# --- the hub ----------------------------------------------------------------------------------------------------------

class Hub:
    """``scripts/hub.py --settings <file>`` (``script``: that of the checkout under test) run by ``python``, on the
    settings' loopback port."""

    def __init__(self, python, script, settings_path, port, log_path):
        self.python, self.script = str(python), pathlib.Path(script)
        self.settings_path, self.port = pathlib.Path(settings_path), port
        self.log_path = pathlib.Path(log_path)
        self.url = f"http://127.0.0.1:{port}"
        self.proc = None
        self._log = None
        self._seen = []

    def start(self, timeout=90):
        self._log = open(self.log_path, "w", encoding="utf-8")
        self.proc = subprocess.Popen([self.python, str(self.script), "--settings", str(self.settings_path)],
                                     stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                with urllib.request.urlopen(f"{self.url}/hub/api/", timeout=5) as response:
                    if response.status == 200:
                        return self
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the hub did not answer on {self.url} (exit code {self.proc.poll()}):\n{self.log()}")

    def log(self):
        return self.log_path.read_text(encoding="utf-8", errors="replace")[-6000:] if self.log_path.exists() else ""

    def remember_children(self):
        if self.proc is not None:
            self._seen += process_tree(self.proc.pid)

    def processes(self):
        """The hub's descendants now: the proxy, the users' servers, their kernels."""
        return process_tree(self.proc.pid) if self.proc is not None else []

    def stop(self):
        """SIGTERM the hub (it stops every user's server and the proxy), SIGKILL after 30 s; then SIGKILL whatever
        of its processes, seen now or earlier, is still running. Returns those (the hub left them behind)."""
        if self.proc is None:
            return []
        self.remember_children()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        survivors = []
        for proc in self._seen:
            try:
                if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                    survivors.append(proc)
            except psutil.Error:
                continue
        kill_all(self._seen)
        self.proc = None
        self._log.close()
        return survivors


def write_settings(path, *, port, state_dir, python, exchange, instructor, students):
    path.write_text("\n".join([
        "[hub]", 'ip = "127.0.0.1"', f"port = {port}", f'state_dir = "{state_dir}"', f'python = "{python}"',
        'authenticator = "pam"', "[course]", 'id = "reludrop"', f'exchange = "{exchange}"', 'folder = "reludrop"',
        f'instructor = "{instructor}"', f"students = {json.dumps(students)}", ""]), encoding="utf-8")
    return path


# --- the browser ------------------------------------------------------------------------------------------------------

def log_in(page, hub, user, password, timeout=120_000):
    """The hub's login form, then wait for the user's JupyterLab (the hub starts it at the first login)."""
    page.goto(f"{hub.url}/hub/logout")
    page.goto(f"{hub.url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", password)
    page.click("#login_submit")
    page.wait_for_url(re.compile(rf".*/user/{re.escape(user)}/lab.*"), timeout=timeout)
    page.wait_for_selector("#jp-menu-panel .lm-MenuBar-itemLabel", timeout=timeout)


#: The menu through which students open the Assignments tab (hub/student/labconfig/default_setting_overrides.json);
#: the instructor has nbgrader's own "Nbgrader" menu.
ASSIGNMENTS_MENU = "作业 Assignments"


def open_assignments(page, menu=ASSIGNMENTS_MENU):
    """``menu`` > Assignment List: the Assignments tab; wait until its three lists are loaded.

    Returns the labels of the menu's entries.
    """
    page.locator("#jp-menu-panel .lm-MenuBar-item", has_text=re.compile(rf"^{re.escape(menu)}$")).click()
    labels = [t.strip() for t in page.locator(".lm-Menu:visible .lm-Menu-item .lm-Menu-itemLabel").all_text_contents()]
    page.locator(".lm-Menu:visible .lm-Menu-item", has_text="Assignment List").click()
    page.locator("#nbgrader-assignment-list").wait_for(state="visible")
    for name in ("released", "fetched", "submitted"):
        page.wait_for_selector(f"#{name}_assignments_list_loading", state="hidden", timeout=30_000)
    return labels


def assignment_row(page, listing, assignment):
    return page.locator(f"#{listing}_assignments_list .list_item:not(.nested_list_item)", has_text=assignment)


def open_notebook_at(page, url, n_cells, timeout=60_000):
    """Open the notebook at ``url`` in a fresh workspace (``?reset``: no notebook of an earlier visit comes back);
    wait for its ``n_cells`` cells and an idle kernel."""
    page.goto(f"{url}?reset")
    page.wait_for_function(
        """([sel, n]) => { const p = document.querySelector(sel);
                           return p && p.querySelectorAll('.jp-Notebook .jp-Cell').length === n; }""",
        arg=[PANEL, n_cells], timeout=timeout)
    page.wait_for_selector(f"{PANEL} .jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator[data-status=idle]",
                           state="attached", timeout=timeout)
    return page.locator(PANEL)
