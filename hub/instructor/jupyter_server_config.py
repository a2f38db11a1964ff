"""Jupyter Server settings of the instructor's server on the course's JupyterHub (hub/jupyterhub_config.py
puts this folder first on its ``JUPYTER_CONFIG_PATH``).

Every nbgrader tool is on: the formgrader (manual grading of the written answers, the gradebook), the
course list, the assignment list and Validate. The course folder and the exchange come from the
instructor's own ``~/.jupyter/nbgrader_config.py``, which ``scripts/hub.py`` writes.
"""

c = get_config()  # noqa: F821 (Jupyter provides get_config when it loads this file)

c.ServerApp.jpserver_extensions = {
    "nbgrader.server_extensions.formgrader": True,
    "nbgrader.server_extensions.validate_assignment": True,
    "nbgrader.server_extensions.assignment_list": True,
    "nbgrader.server_extensions.course_list": True,
}

c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.handlers.announcements.NeverCheckForUpdate"
