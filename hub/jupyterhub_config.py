"""JupyterHub for the reludrop course: real Unix users, one JupyterLab server each (LocalProcessSpawner).

Started by ``python scripts/hub.py`` (``make hub``), which prepares the machine (autograder/hub/deploy.py) and
passes the settings file (hub/course.toml) in ``$RELUDROP_HUB_SETTINGS``. docs/jupyterhub.md says how a department
runs it for real (HTTPS, its own authenticator, systemd) and which settings change.
"""

import os
import shutil

from autograder.hub import settings as hub_settings
from autograder.hub.spawn import pre_spawn_hook

c = get_config()  # noqa: F821 (JupyterHub provides get_config when it loads this file)
s = hub_settings.from_environment(os.environ)

# Addresses: the proxy (configurable-http-proxy, from npm) is what users reach; its API and the hub itself
# listen on loopback only, on the next two ports.
c.JupyterHub.ip = s.ip
c.JupyterHub.port = s.port
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{s.port + 1}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{s.port + 2}"
c.ConfigurableHTTPProxy.command = [shutil.which("configurable-http-proxy") or "configurable-http-proxy"]

# The hub's state: root only (scripts/hub.py makes the folder 0700).
c.JupyterHub.db_url = f"sqlite:///{s.state_dir / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(s.state_dir / "jupyterhub_cookie_secret")
c.JupyterHub.cleanup_servers = True      # stopping the hub stops every user's server and the proxy
c.JupyterHub.cleanup_proxy = True

# Who may log in: the instructor and the students of the settings, nobody else; no admin over the web.
c.Authenticator.allowed_users = set(s.users)
c.Authenticator.admin_users = set()
if s.authenticator == "dummy":
    # Tests only: every listed user logs in with one shared password. Never on a machine others can reach.
    c.JupyterHub.authenticator_class = "dummy"
    c.DummyAuthenticator.password = os.environ[hub_settings.PASSWORD_ENV]
else:
    c.JupyterHub.authenticator_class = "pam"   # the machine's own accounts and passwords
    c.PAMAuthenticator.open_sessions = False   # no PAM session per server (systemd-logind is not needed)

# Every user's server: a JupyterLab of the course's environment, started as that Unix user in their home.
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(s.venv_bin / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.pre_spawn_hook = pre_spawn_hook(s)
c.Spawner.start_timeout = 120            # a JupyterLab server starts in a few seconds; a busy machine needs more
c.Spawner.http_timeout = 120
