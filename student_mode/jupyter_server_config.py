"""Jupyter Server settings of the student mode (see student_mode/README.md).

Loaded because ``scripts/lab.py`` (or a student kit's ``start_lab.py``, beside its copy of this
folder) puts this folder first on ``JUPYTER_CONFIG_PATH``: nothing in the user's ``~/.jupyter``
or in the environment is modified.
"""

c = get_config()  # noqa: F821 (Jupyter provides get_config when it loads this file)

# nbgrader's server extensions: only the one behind the Validate button stays. It serves
# GET /nbgrader_version (the button's version check) and POST /assignments/validate.
# The instructor ones (formgrader, course list, the exchange's assignment list) are off,
# so their URLs answer 404 even if someone re-enabled their JupyterLab plugins.
c.ServerApp.jpserver_extensions = {
    "nbgrader.server_extensions.validate_assignment": True,
    "nbgrader.server_extensions.formgrader": False,
    "nbgrader.server_extensions.course_list": False,
    "nbgrader.server_extensions.assignment_list": False,
}

# No news and no update checks: the server never fetches JupyterLab's news feed or PyPI.
# (The news pop-up itself is the announcements plugin, disabled in labconfig/page_config.json.)
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.handlers.announcements.NeverCheckForUpdate"
