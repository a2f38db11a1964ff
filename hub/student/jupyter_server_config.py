"""Jupyter Server settings of the student mode on the course's JupyterHub (docs/jupyterhub.md, student_mode/README.md).

The hub (hub/jupyterhub_config.py) puts this folder first on ``JUPYTER_CONFIG_PATH`` of every student's
server. As in a kit's student mode, the formgrader and the course list are off; unlike it, the
assignment list stays on: students fetch, submit and fetch feedback through nbgrader's exchange.
"""

c = get_config()  # noqa: F821 (Jupyter provides get_config when it loads this file)

# nbgrader's server extensions: Validate (GET /nbgrader_version, POST /assignments/validate) and the
# assignment list (GET /assignments, POST /assignments/fetch, /assignments/submit, /assignments/fetch_feedback)
# stay; the instructor ones are off, so their URLs answer 404 even if someone re-enabled their plugins.
c.ServerApp.jpserver_extensions = {
    "nbgrader.server_extensions.validate_assignment": True,
    "nbgrader.server_extensions.assignment_list": True,
    "nbgrader.server_extensions.formgrader": False,
    "nbgrader.server_extensions.course_list": False,
}

# No news and no update checks: the server never fetches JupyterLab's news feed or PyPI.
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.handlers.announcements.NeverCheckForUpdate"
