"""What the machine needs before the course's hub starts (run as root by ``scripts/hub.py``).

- nbgrader's exchange: ``c.Exchange.root``, owned by root, mode 1777 (everyone may create in it, as nbgrader's
  documentation asks with ``chmod ugo+rw``; the sticky bit keeps anyone from removing a folder that is not theirs).
  Inside it the instructor's ``release_assignment`` makes the course's ``outbound/`` (0755), ``inbound/``
  (2733: students can hand in but not list the others' submissions) and ``feedback/`` (0711: a student reaches
  only the file whose name is the hash of their own submission).
- the instructor's course folder: ``~instructor/<folder>`` with the course's ``nbgrader_config.py`` and
  ``solutions/`` (copied from this repository the first time, never overwritten), owned by the instructor,
  mode 0700: the gradebook and the hidden tests are in it.
- every course user's home: mode 0700, so a student's server cannot read a classmate's work.
- each user's ``~/.jupyter/nbgrader_config.py``: the course id and the exchange (and, for the instructor, the
  course folder), so the Assignments tab, Validate, the formgrader and ``python -m autograder`` agree.
- the hub's own state folder (its database and cookie secret): root only, 0700;
- this repository's ``solutions/`` (and a gradebook, ``build/``, graded work left in it): root only. The users'
  servers read the repository (the course is installed from it in editable mode, and their settings are in
  ``hub/``), never the reference answers or the hidden tests. This changes the modes in the checkout the hub
  runs from (``make hub``: this one); tests/test_hub.py runs the hub from a copy of the checkout, so only the
  copy's change.
"""

import os
import pathlib
import pwd
import shutil
import stat
import subprocess

from .settings import INSTRUCTOR_CONFIG, REPO, STUDENT_CONFIG

#: What is copied from this repository into a new course folder.
COURSE_FILES = ("nbgrader_config.py", "solutions")
#: What of this repository no user may read: the users' servers read the repository (the course's packages,
#: installed in editable mode, and hub/student, hub/instructor), but not the reference answers and hidden tests
#: (solutions/), nor a gradebook or graded work left in it (build/ holds `make demo`'s course).
PRIVATE_IN_REPO = ("solutions", "build", "gradebook.db", "submitted", "autograded", "feedback", "kits")
RUNUSER = shutil.which("runuser") or "/usr/sbin/runuser"
MANAGED = "# Written by scripts/hub.py (autograder/hub/deploy.py) from the hub's settings; rewritten at every start.\n"


class DeployError(Exception):
    """The machine is not ready for the hub; the message says what to do."""


def prepare(settings, out=print):
    """Make the exchange, the course folder, the homes, the users' nbgrader settings and the state folder."""
    if os.geteuid() != 0:
        raise DeployError("the hub starts every user's server as that user: run scripts/hub.py as root (sudo)")
    _folder(settings.state_dir, 0o700)
    _folder(settings.exchange, 0o1777)
    out(f"exchange: {settings.exchange} (1777)")
    for user in settings.users:
        home = settings.home(user)
        os.chmod(home, 0o700)
        _user_config(settings, user)
    root = settings.course_root
    if not root.exists():
        root.mkdir()
        for name in COURSE_FILES:
            source = REPO / name
            if source.is_dir():
                shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
            else:
                shutil.copy2(source, root / name)
        out(f"course folder: {root} (new, from {REPO})")
    else:
        out(f"course folder: {root}")
    _chown_tree(root, settings.instructor)
    os.chmod(root, 0o700)
    for name in PRIVATE_IN_REPO:
        path = REPO / name
        if path.exists():
            os.chmod(path, stat.S_IMODE(os.stat(path).st_mode) & 0o700)
    out(f"this repository's {', '.join(n for n in PRIVATE_IN_REPO if (REPO / n).exists())}: root only")


#: Printed by the course's Python: the checkout its ``autograder`` comes from.
WHERE = "import autograder, pathlib; print(pathlib.Path(autograder.__file__).resolve().parents[1])"


def course_of(python):
    """The checkout whose course ``python`` imports (a pathlib.Path), or None when it cannot import it."""
    result = subprocess.run([str(python), "-c", WHERE], capture_output=True, text=True, cwd="/")
    return pathlib.Path(result.stdout.strip()) if result.returncode == 0 and result.stdout.strip() else None


def check_access(settings):
    """Can the course's users run the course's Python and read their server settings? DeployError if not.

    Run as the instructor and as the first student (every student has the same rights): the environment and
    this repository's ``hub/`` folders must be readable by all, e.g. under /opt, not under /root. The users'
    Python must also run this repository's course: the hub reads its settings from the checkout of the course it
    imports, and this one prepared the machine (a venv installed from another checkout is refused).
    """
    probe = ("import autograder, reludrop_core, nbgrader, jupyterlab, jupyterhub, pathlib, sys; "
             "[pathlib.Path(p).joinpath('jupyter_server_config.py').read_text() for p in sys.argv[1:]]; "
             "print(pathlib.Path(autograder.__file__).resolve().parents[1])")
    for user, folder in [(settings.instructor, INSTRUCTOR_CONFIG)] + [(s, STUDENT_CONFIG) for s in settings.students[:1]]:
        result = subprocess.run([RUNUSER, "-u", user, "--", str(settings.python), "-c", probe, str(folder)],
                                capture_output=True, text=True, cwd="/", env=_plain_env(settings, user))
        if result.returncode != 0:
            raise DeployError(
                f"{user} cannot run {settings.python} with the course, or read {folder}:\n"
                f"{result.stderr.strip().splitlines()[-1] if result.stderr.strip() else result.returncode}\n"
                f"Install the course where every user can read it (scripts/hub.py --install puts it in "
                f"{settings.python.parent.parent}) and keep this repository in a world-readable folder.")
        found = pathlib.Path(result.stdout.strip().splitlines()[-1])
        if found != REPO:
            raise DeployError(
                f"{settings.python} runs the course of {found}, not of this repository {REPO}: "
                f"scripts/hub.py --install installs this one into it (or set [hub] python to its own environment)")


def _plain_env(settings, user):
    entry = pwd.getpwnam(user)
    return {"HOME": entry.pw_dir, "USER": user, "PATH": f"{settings.venv_bin}:/usr/bin:/bin", "LANG": "C.UTF-8"}


def _folder(path, mode):
    path = pathlib.Path(path)
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, 0, 0)
    os.chmod(path, mode)


def _chown_tree(root, user):
    entry = pwd.getpwnam(user)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [dirpath, *(os.path.join(dirpath, n) for n in dirnames + filenames)]:
            os.lchown(name, entry.pw_uid, entry.pw_gid)


def _user_config(settings, user):
    """``~user/.jupyter/nbgrader_config.py``, owned by the user."""
    lines = [MANAGED, "c = get_config()  # noqa: F821", f"c.CourseDirectory.course_id = {settings.course_id!r}",
             f"c.Exchange.root = {str(settings.exchange)!r}"]
    if user == settings.instructor:
        course = settings.course_root
        lines += [f"c.CourseDirectory.root = {str(course)!r}",
                  "# The course's own settings (grading, feedback, the sandbox), for the formgrader too, which runs",
                  "# in the home folder, not in the course folder.",
                  f"load_subconfig({str(course / 'nbgrader_config.py')!r})  # noqa: F821"]
    folder = settings.home(user) / ".jupyter"
    folder.mkdir(exist_ok=True)
    target = folder / "nbgrader_config.py"
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    entry = pwd.getpwnam(user)
    for path in (folder, target):
        os.chown(path, entry.pw_uid, entry.pw_gid)
