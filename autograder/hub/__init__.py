"""The course on a JupyterHub: its settings (``settings``), what the machine needs before the hub starts
(``deploy``: the exchange, the instructor's course folder, each user's nbgrader configuration) and what
each user's server is started with (``spawn``). ``hub/jupyterhub_config.py`` and ``scripts/hub.py`` use them.
"""
