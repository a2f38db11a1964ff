"""The hub's settings file (``hub/course.toml``): who uses the course's JupyterHub, where things live."""

import dataclasses
import pathlib
import pwd
import tomllib

#: The folders of this repository that users' servers read: their JupyterLab and Jupyter Server settings.
REPO = pathlib.Path(__file__).resolve().parents[2]
STUDENT_CONFIG = REPO / "hub" / "student"
INSTRUCTOR_CONFIG = REPO / "hub" / "instructor"
JUPYTERHUB_CONFIG = REPO / "hub" / "jupyterhub_config.py"
#: The environment variable through which scripts/hub.py tells hub/jupyterhub_config.py which settings to use.
SETTINGS_ENV = "RELUDROP_HUB_SETTINGS"
#: The shared password of the dummy authenticator (tests only).
PASSWORD_ENV = "RELUDROP_HUB_PASSWORD"
AUTHENTICATORS = ("pam", "dummy")


class SettingsError(Exception):
    """The settings file is wrong; the message says what to change."""


@dataclasses.dataclass
class HubSettings:
    ip: str
    port: int
    state_dir: pathlib.Path
    python: pathlib.Path
    authenticator: str
    course_id: str
    exchange: pathlib.Path
    folder: str
    instructor: str
    students: list

    @property
    def users(self):
        return [self.instructor, *self.students]

    def home(self, user):
        return pathlib.Path(pwd.getpwnam(user).pw_dir)

    @property
    def course_root(self):
        """The instructor's course folder (nbgrader's ``CourseDirectory.root``)."""
        return self.home(self.instructor) / self.folder

    @property
    def venv_bin(self):
        return self.python.parent

    def role(self, user):
        return "instructor" if user == self.instructor else "student"


PORT_ENV = "RELUDROP_HUB_PORT"


def from_environment(environ):
    """The settings scripts/hub.py passed to the hub: the file in ``$RELUDROP_HUB_SETTINGS``, and its ``--port``."""
    settings = load(environ[SETTINGS_ENV])
    if environ.get(PORT_ENV):
        settings = dataclasses.replace(settings, port=int(environ[PORT_ENV]))
    return settings


def load(path):
    """The settings in ``path`` (TOML); SettingsError saying what is wrong."""
    path = pathlib.Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise SettingsError(f"cannot read the hub settings {path}: {error}") from None
    hub, course = data.get("hub", {}), data.get("course", {})
    try:
        settings = HubSettings(
            ip=str(hub.get("ip", "127.0.0.1")), port=int(hub.get("port", 8000)),
            state_dir=pathlib.Path(hub.get("state_dir", "/srv/reludrop-hub")),
            python=pathlib.Path(hub.get("python", "/opt/reludrop-hub/bin/python")),
            authenticator=str(hub.get("authenticator", "pam")),
            course_id=str(course.get("id", "reludrop")),
            exchange=pathlib.Path(course.get("exchange", "/srv/nbgrader/exchange")),
            folder=str(course.get("folder", "reludrop")),
            instructor=str(course["instructor"]), students=[str(s) for s in course.get("students", [])])
    except KeyError as error:
        raise SettingsError(f"{path}: [course] needs {error.args[0]} = \"<unix user>\"") from None
    except (TypeError, ValueError) as error:
        raise SettingsError(f"{path}: {error}") from None
    if settings.authenticator not in AUTHENTICATORS:
        raise SettingsError(f"{path}: authenticator = {settings.authenticator!r}: use one of {AUTHENTICATORS} "
                            f"(another authenticator: set it in hub/jupyterhub_config.py, see docs/jupyterhub.md)")
    if settings.instructor in settings.students:
        raise SettingsError(f"{path}: {settings.instructor} is both the instructor and a student")
    for user in settings.users:
        try:
            pwd.getpwnam(user)
        except KeyError:
            raise SettingsError(f"{path}: {user} is not a user of this machine: create it first "
                                f"(sudo useradd -m {user}), or remove it from the settings") from None
    return settings
