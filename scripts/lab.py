"""Start JupyterLab on the course notebooks in student mode.

    python scripts/lab.py [more jupyter lab options]      (`make lab` runs it with .venv's Python)

Student mode (the files in ``student_mode/``, described in ``student_mode/README.md``):
nbgrader's instructor tools are switched off and locked, only its Validate button stays;
no news pop-up and no update checks; the interface in Simplified Chinese by default (the
``jupyterlab-language-pack-zh-CN`` package; Settings > Language switches to English).

It runs JupyterLab with the Python that runs this script, so it works the same in the
project's ``.venv`` and in an activated conda environment, on Linux, macOS and Windows.
The student-mode folder is put first on ``JUPYTER_CONFIG_PATH`` for this process only:
nothing in ``~/.jupyter`` or in the Python environment is changed. Options given on the
command line are passed on to ``jupyter lab``; without ``--ServerApp.root_dir`` (or
``--notebook-dir``) JupyterLab opens ``notebooks/``.

A student kit starts JupyterLab the same way with its own ``start_lab.py``
(``autograder/kit/templates/start_lab.py``), on the kit folder; the browser test
(tests/test_browser.py) starts its servers through that script.
"""

import importlib.util
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
STUDENT_MODE = ROOT / "student_mode"
NOTEBOOKS = ROOT / "notebooks"


def student_mode_env(base=None):
    """A copy of ``base`` (default: this process's environment) with student_mode/ first on JUPYTER_CONFIG_PATH."""
    env = dict(os.environ if base is None else base)
    rest = [p for p in env.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p and p != str(STUDENT_MODE)]
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join([str(STUDENT_MODE), *rest])
    return env


def lab_command(args):
    """The ``jupyter lab`` command line: this Python, student options, then ``args`` (which win)."""
    options = []
    if not any(a.startswith(("--ServerApp.root_dir", "--notebook-dir", "--ServerApp.notebook_dir")) for a in args):
        options.append(f"--ServerApp.root_dir={NOTEBOOKS}")
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in args:
        options.append("--allow-root")  # containers and CI run as root; Jupyter refuses that without the flag
    return [sys.executable, "-m", "jupyterlab", *options, *args]


def main(args):
    missing = [name for name in ("jupyterlab", "nbgrader") if importlib.util.find_spec(name) is None]
    if missing:
        sys.exit(f"{sys.executable} 里没有安装 {' 和 '.join(missing)}：请先按 README 安装课程环境"
                 f"（make lab，或 pip install -e '.[course]'，或 conda env create -f environment.yml）。\n"
                 f"{' and '.join(missing)} is not installed for {sys.executable}: set up the course "
                 f"environment first, as the README says (make lab, or pip install -e '.[course]', "
                 f"or conda env create -f environment.yml).")
    if importlib.util.find_spec("jupyterlab_language_pack_zh_CN") is None:
        print("注意：没有安装简体中文语言包 jupyterlab-language-pack-zh-CN，界面只有英文。\n"
              "Note: the Simplified Chinese language pack (jupyterlab-language-pack-zh-CN) is not installed.",
              file=sys.stderr)
    command = lab_command(args)
    env = student_mode_env()
    # By default the server runs in the folder it serves, wherever this script was started from
    # (nbgrader's Validate button also reads an nbgrader_config.py from the server's working folder:
    # there is none among the notebooks, and none is needed).
    cwd = str(NOTEBOOKS) if f"--ServerApp.root_dir={NOTEBOOKS}" in command else None
    if os.name == "posix":
        if cwd:
            os.chdir(cwd)
        os.execve(sys.executable, command, env)  # the server takes over this process (and its PID)
    sys.exit(subprocess.call(command, env=env, cwd=cwd))


if __name__ == "__main__":
    main(sys.argv[1:])
