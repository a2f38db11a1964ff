"""启动 JupyterLab（学生模式），打开本作业：$title
Start JupyterLab in student mode on this assignment ($assignment).

    python start_lab.py [jupyter lab 的其他选项 / more jupyter lab options]

在这个文件夹里运行（或给出它的路径），用的是运行本脚本的 Python：先在 .venv 或 conda 环境里装好
（见 README.md），再运行 python start_lab.py。浏览器打开 $assignment.ipynb；界面默认是简体中文
（Settings > Language / 设置 > 语言 可改成英文）。Windows、macOS、Linux 上都一样。

Run it with the Python of the environment you set up (README.md): JupyterLab serves this folder
and opens $assignment.ipynb, in Simplified Chinese by default (Settings > Language switches).

What it sets, for the JupyterLab process only (nothing in ~/.jupyter or in the environment changes):

- this folder is the server's root and working folder;
- student_mode/ (this folder's copy) comes first on JUPYTER_CONFIG_PATH: nbgrader's instructor tools
  off, its Validate button on, no news pop-up, Chinese by default (student_mode/README.md);
- this folder comes first on PYTHONPATH, so every kernel imports this folder's reludrop_core and
  autograder, also for a notebook in a subfolder;
- --allow-root when run as root (Jupyter refuses root without it).

Options given on the command line are passed on to ``jupyter lab`` and win.
"""

import importlib.util
import os
import pathlib
import subprocess
import sys

KIT = pathlib.Path(__file__).resolve().parent
STUDENT_MODE = KIT / "student_mode"
NOTEBOOK = KIT / "$assignment.ipynb"


def prepend(env, name, path):
    """Put ``path`` first on the search path ``env[name]`` (kept once)."""
    rest = [p for p in env.get(name, "").split(os.pathsep) if p and p != str(path)]
    env[name] = os.pathsep.join([str(path), *rest])


def kit_env(base=None):
    """A copy of ``base`` (default: this process's environment) with student_mode/ and this folder first."""
    env = dict(os.environ if base is None else base)
    prepend(env, "JUPYTER_CONFIG_PATH", STUDENT_MODE)
    prepend(env, "PYTHONPATH", KIT)
    return env


def lab_command(args):
    """The ``jupyter lab`` command line: this Python, the kit's options, then ``args`` (which win)."""
    options = []
    if not any(a.startswith(("--ServerApp.root_dir", "--notebook-dir", "--ServerApp.notebook_dir")) for a in args):
        options.append(f"--ServerApp.root_dir={KIT}")
        if NOTEBOOK.exists() and not any(a.startswith("--ServerApp.file_to_run") for a in args):
            options.append(f"--ServerApp.file_to_run={NOTEBOOK}")  # the browser opens the notebook itself
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in args:
        options.append("--allow-root")  # containers run as root; Jupyter refuses that without the flag
    return [sys.executable, "-m", "jupyterlab", *options, *args]


def main(args):
    missing = [name for name in ("jupyterlab", "nbgrader") if importlib.util.find_spec(name) is None]
    if missing:
        sys.exit(f"{sys.executable} 里没有安装 {' 和 '.join(missing)}：请先按 README.md 安装环境，"
                 f"在这个文件夹里运行 pip install \".[lab]\"（在激活的 .venv 里），"
                 f"或 conda env create -f environment.yml 再 conda activate reludrop-$assignment。\n"
                 f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed for {sys.executable}: "
                 f"set up the environment "
                 f"first, as README.md says: in this folder, pip install \".[lab]\" (in the activated .venv), "
                 f"or conda env create -f environment.yml, then conda activate reludrop-$assignment.")
    if importlib.util.find_spec("jupyterlab_language_pack_zh_CN") is None:
        print("注意：没有安装简体中文语言包 jupyterlab-language-pack-zh-CN，界面只有英文。\n"
              "Note: the Simplified Chinese language pack (jupyterlab-language-pack-zh-CN) is not installed.",
              file=sys.stderr)
    command = lab_command(args)
    env = kit_env()
    # By default the server runs in the folder it serves, wherever this script was started from
    # (nbgrader's Validate button also reads an nbgrader_config.py from the server's working folder:
    # the kit has none, and needs none).
    cwd = str(KIT) if f"--ServerApp.root_dir={KIT}" in command else None
    if os.name == "posix":
        if cwd:
            os.chdir(cwd)
        os.execve(sys.executable, command, env)  # the server takes over this process (and its PID)
    # Windows has no real exec. Ctrl+C reaches the server too (same console): wait while it shuts its kernels down.
    proc = subprocess.Popen(command, env=env, cwd=cwd)
    while True:
        try:
            sys.exit(proc.wait())
        except KeyboardInterrupt:
            continue


if __name__ == "__main__":
    main(sys.argv[1:])
