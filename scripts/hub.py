"""Start the course's JupyterHub on this machine (as root): ``make hub``, or with any Python that has the course
(the project's ``.venv``, or the hub's own environment):

    .venv/bin/python scripts/hub.py [--settings hub/course.toml] [--port N] [--install] [--prepare-only]

It reads the settings (hub/course.toml: the instructor, the students, the exchange, the course's environment),
prepares the machine (autograder/hub/deploy.py: nbgrader's exchange 1777, the instructor's course folder 0700,
the homes 0700, each user's ~/.jupyter/nbgrader_config.py), checks that the users can run the course's
environment, then runs JupyterHub with hub/jupyterhub_config.py in this process (the hub's PID is this
script's). The hub starts configurable-http-proxy (npm) and, at each login, the user's JupyterLab as that Unix
user. Ctrl+C (or SIGTERM to this PID) stops the hub, the proxy and every user's server.

``--install`` first creates the course's environment where ``[hub] python`` says (default /opt/reludrop-hub),
readable by every user, with this repository's course and JupyterHub from PyPI, if it is not there yet (and
installs this repository's course into it again if it holds another checkout's).
How a department runs it for real (HTTPS, its authenticator, systemd): docs/jupyterhub.md.
"""

import argparse
import dataclasses
import os
import pathlib
import shutil
import subprocess
import sys

from autograder.hub import deploy, settings as hub_settings

ROOT = hub_settings.REPO


def world_readable(path):
    """Can every user reach ``path`` (each folder on the way searchable by others, the file readable)?"""
    path = pathlib.Path(path).resolve()
    return all(os.stat(p).st_mode & 0o001 for p in path.parents) and bool(os.stat(path).st_mode & 0o004)


def base_python():
    """The Python the course's environment is made from: this one, if every user can run it (not one under
    /root, such as pyenv's), else Debian's /usr/bin/python3."""
    for candidate in (getattr(sys, "_base_executable", sys.executable), "/usr/bin/python3"):
        if candidate and os.path.exists(candidate) and world_readable(candidate):
            return candidate
    raise deploy.DeployError("no Python that every user can run: apt-get install -y python3 python3-venv")


def install(settings):
    """Make the course's environment at ``settings.python`` (a venv every user can run) run this repository's course.

    Missing: create it. There, but with the course of another checkout (``import autograder`` finds it elsewhere):
    install this one into it again. The course is installed in editable mode from this repository, which must stay
    where every user can read it (the users' servers also read its hub/student and hub/instructor settings).
    """
    prefix = settings.python.parent.parent
    if settings.python.exists():
        found = deploy.course_of(settings.python)
        if found == deploy.REPO:
            return
        print(f"the course's environment {prefix} runs the course of {found or 'no checkout'}: "
              f"pip install -e '{ROOT}[course,hub]' into it")
    else:
        base = base_python()
        print(f"creating the course's environment in {prefix} ({base} -m venv; pip install -e '{ROOT}[course,hub]')")
        subprocess.run([base, "-m", "venv", str(prefix)], check=True)
    subprocess.run([str(prefix / "bin" / "python"), "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[course,hub]"],
                   check=True)
    subprocess.run(["chmod", "-R", "a+rX", str(prefix)], check=True)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="scripts/hub.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--settings", default=str(ROOT / "hub" / "course.toml"), help="the hub's settings (TOML)")
    parser.add_argument("--port", type=int, help="the proxy's port (instead of [hub] port)")
    parser.add_argument("--install", action="store_true", help="create the course's environment if it is missing")
    parser.add_argument("--prepare-only", action="store_true", help="prepare the machine, do not start the hub")
    args = parser.parse_args(argv)
    try:
        settings = hub_settings.load(args.settings)
        if args.port:
            settings = dataclasses.replace(settings, port=args.port)
        if args.install:
            install(settings)
        if not settings.python.exists():
            raise deploy.DeployError(f"the course's environment {settings.python} does not exist: "
                                     f"run scripts/hub.py --install (or set [hub] python)")
        if shutil.which("configurable-http-proxy") is None:
            raise deploy.DeployError("JupyterHub needs configurable-http-proxy: apt-get install -y nodejs npm && "
                                     "npm install -g configurable-http-proxy")
        deploy.prepare(settings)
        deploy.check_access(settings)
    except (hub_settings.SettingsError, deploy.DeployError) as error:
        sys.exit(f"error: {error}")
    if args.prepare_only:
        return
    env = dict(os.environ, **{hub_settings.SETTINGS_ENV: str(pathlib.Path(args.settings).resolve())})
    if args.port:
        env[hub_settings.PORT_ENV] = str(args.port)
    os.chdir(settings.state_dir)
    command = [str(settings.python), "-m", "jupyterhub", "-f", str(hub_settings.JUPYTERHUB_CONFIG)]
    print(f"JupyterHub on http://{settings.ip}:{settings.port}/ (instructor {settings.instructor}, "
          f"{len(settings.students)} student(s)); Ctrl+C stops it", flush=True)
    os.execve(command[0], command, env)


if __name__ == "__main__":
    main()
