"""Is environment.yml in step with pyproject.toml?"""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
#: PyPI name -> conda-forge name, where they differ.
CONDA_NAMES = {"playwright": "playwright-python", "psycopg2-binary": "psycopg2"}


def _normalise(requirement):
    """'Jupyterlab >=4.2, <5' -> ('jupyterlab', '<5,>=4.2'): lower-case name, sorted constraints."""
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)", requirement)
    name, spec = match.group(1).lower().replace("_", "-"), match.group(2).replace(" ", "")
    return name, ",".join(sorted(part for part in spec.split(",") if part))


def _pyproject_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        reqs.extend(extra)
    return {CONDA_NAMES.get(name, name): spec for name, spec in map(_normalise, reqs)}


def _environment():
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def _conda_requirements():
    deps = [d for d in _environment()["dependencies"] if isinstance(d, str)]
    return dict(_normalise(d) for d in deps if _normalise(d)[0] not in {"python", "pip"})


def test_every_pyproject_requirement_is_in_environment_yml_with_the_same_constraint():
    """Does environment.yml ask for exactly the packages and versions that pyproject.toml does?"""
    assert _conda_requirements() == _pyproject_requirements()


def test_environment_yml_uses_conda_forge_and_installs_the_project_editable():
    """Does the conda environment come from conda-forge and pip-install this project in editable mode?"""
    env = _environment()
    assert env["channels"] == ["conda-forge"]
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert pip_sections == [["-e ."]]


def test_python_versions_agree():
    """Do both files require the same minimum Python?"""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    python = [d for d in _environment()["dependencies"] if isinstance(d, str) and d.startswith("python")]
    assert python == [f"python{project['requires-python']}"]
