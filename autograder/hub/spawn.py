"""What each user's server is started with on the course's hub (``c.Spawner.pre_spawn_hook``).

Students get ``hub/student/`` first on ``JUPYTER_CONFIG_PATH``: the Assignments tab (fetch, submit, fetch
feedback) and Validate on, the formgrader, the course list and create-assignment off and locked, JupyterLab in
Simplified Chinese by default. The instructor gets ``hub/instructor/``: every nbgrader tool, the formgrader for
the written answers. Both run the course's environment (``[hub] python``), first on ``PATH``.
"""

from .settings import INSTRUCTOR_CONFIG, STUDENT_CONFIG


def environment(settings, user):
    folder = INSTRUCTOR_CONFIG if settings.role(user) == "instructor" else STUDENT_CONFIG
    return {
        "JUPYTER_CONFIG_PATH": str(folder),
        "PATH": f"{settings.venv_bin}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
    }


def pre_spawn_hook(settings):
    """The hook: sets the environment of the user's server; refuses a user the settings do not name."""

    def hook(spawner):
        user = spawner.user.name
        if user not in settings.users:
            raise ValueError(f"{user} is not a user of this course (hub settings): add them to [course] students")
        spawner.environment.update(environment(settings, user))

    return hook
