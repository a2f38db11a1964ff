"""A throwaway PostgreSQL server for the tests that need a real one (the gradebook on PostgreSQL).

    from postgres_server import server_or_skip

    @pytest.fixture(scope="module")
    def pg():
        with server_or_skip() as server:      # started; skipped (or failed under CI) without PostgreSQL
            yield server

    def test_something(pg):
        url = pg.create_database("course_a")  # postgresql+psycopg2://USER:PASSWORD@127.0.0.1:PORT/course_a
        ...

What one server is:

* a fresh cluster (``initdb``) in a temporary directory, owned by the user the server runs as:
  ``postgres`` when we are root (PostgreSQL refuses to run as root), ourselves otherwise;
* one superuser role with a random password; TCP connections need that password
  (scram-sha-256), the unix socket (in the temporary directory, mode 0700) is trusted;
* ``postgres`` started directly with ``subprocess.Popen`` (we hold its PID, in a session of its own),
  listening on 127.0.0.1 only, on a free port chosen here, with ``fsync=off``: test data only;
* ``stop()`` (also ``__exit__`` and at interpreter exit) asks for a fast shutdown (SIGINT), waits,
  then SIGKILLs the postmaster's process group (it and its backends) and removes the directory.

Needs the server binaries (Debian: ``apt-get install postgresql``) and psycopg2.

Two things about nbgrader on such a database: creating a *new* gradebook runs ``alembic`` found on
PATH (put the venv's bin first, as ``autograder.course`` does); and two processes that create the
gradebook of an empty database at the same moment collide (``CREATE TABLE`` races: all but one fail
with a UniqueViolation on ``pg_type``): create it once, then let processes share it.
"""

from __future__ import annotations

import atexit
import glob
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
import weakref

#: The role the tests connect as (a superuser of the throwaway cluster).
DEFAULT_USER = "reludrop_test"
#: The database created at start, whose URL is ``PostgresServer.url``.
DEFAULT_DATABASE = "reludrop"
#: The account the server runs as when we are root.
SERVER_ACCOUNT = "postgres"
HOST = "127.0.0.1"
INSTALL_HINT = "apt-get install postgresql"

# The longest unix socket path (sun_path is 108 bytes on Linux, 104 on macOS, NUL included).
_MAX_SOCKET_PATH = 100
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
# A server that could not bind its port (someone took the free port we chose): try another one.
_BIND_FAILURE = ("could not bind", "Address already in use", "could not create any TCP/IP sockets")


# --- Finding PostgreSQL ---------------------------------------------------------------------------------------------

def _has_server(bindir):
    return all(os.access(os.path.join(bindir, name), os.X_OK) for name in ("initdb", "postgres"))


def _version_key(bindir):
    # /usr/lib/postgresql/15/bin -> (15,); 9.6 -> (9, 6)
    version = os.path.basename(os.path.dirname(bindir))
    return tuple(int(part) if part.isdigit() else -1 for part in version.split("."))


def find_binaries():
    """The directory of ``initdb`` and ``postgres``, or None.

    The newest ``/usr/lib/postgresql/<version>/bin`` (Debian, Ubuntu) first, then ``initdb`` on PATH,
    then ``pg_config --bindir``.
    """
    candidates = [d for d in glob.glob("/usr/lib/postgresql/*/bin") if _has_server(d)]
    if candidates:
        return max(candidates, key=_version_key)
    initdb = shutil.which("initdb")
    if initdb:
        bindir = os.path.dirname(os.path.realpath(initdb))
        if _has_server(bindir):
            return bindir
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            bindir = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                    timeout=10, check=True).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            bindir = ""
        if bindir and _has_server(bindir):
            return bindir
    return None


def _server_account():
    """(uid, gid, name) the server must run as: ourselves, or ``postgres`` when we are root (None if absent)."""
    import pwd

    if os.geteuid() != 0:
        return os.geteuid(), os.getegid(), pwd.getpwuid(os.geteuid()).pw_name
    try:
        entry = pwd.getpwnam(SERVER_ACCOUNT)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid, entry.pw_name


def unavailable_reason():
    """Why no server can be started here (a sentence), or None when one can."""
    if find_binaries() is None:
        return f"PostgreSQL not installed: {INSTALL_HINT}"
    if _server_account() is None:
        return (f"running as root and there is no '{SERVER_ACCOUNT}' user to run PostgreSQL as "
                f"(it refuses to run as root): {INSTALL_HINT} creates it")
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        return "psycopg2 is not installed: pip install -e '.[postgres]'"
    return None


def _in_ci():
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def server_or_skip(**options):
    """A started ``PostgresServer`` (use it as a context manager so that it is stopped).

    Without PostgreSQL the calling test is skipped, or failed when the environment variable CI is set:
    a CI image that should have PostgreSQL must not quietly skip these tests.
    """
    require_postgres()
    return PostgresServer(**options).start()


def require_postgres():
    """Skip the calling test when no server can be started here (fail it instead when CI is set)."""
    import pytest

    reason = unavailable_reason()
    if reason is not None:
        if _in_ci():
            pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)", pytrace=False)
        pytest.skip(reason)


# --- The server -----------------------------------------------------------------------------------------------------

def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _traversable_by(path, uid, gid):
    """Whether every directory from / down to ``path`` can be entered by uid/gid (mode bits only)."""
    path = os.path.abspath(path)
    while True:
        st = os.stat(path)
        if st.st_uid == uid:
            ok = st.st_mode & 0o100
        elif st.st_gid == gid:
            ok = st.st_mode & 0o010
        else:
            ok = st.st_mode & 0o001
        if not ok:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


_live_servers = weakref.WeakSet()


@atexit.register
def _stop_leftovers():
    for server in list(_live_servers):
        server.stop()


class PostgresServer:
    """A temporary PostgreSQL cluster and server on 127.0.0.1; ``with PostgresServer() as server: ...``.

    After ``start()``: ``pid``, ``port``, ``host``, ``user``, ``password``, ``directory``, ``log_path``,
    ``url`` (SQLAlchemy URL of the database ``database``, created at start), ``create_database(name)``,
    ``drop_database(name)``, ``connect(dbname)`` (a psycopg2 connection), ``log_tail()``.
    ``stop()`` is idempotent and safe after a failed or no start.
    """

    def __init__(self, bindir=None, *, database=DEFAULT_DATABASE, user=DEFAULT_USER,
                 start_timeout=30.0, stop_timeout=15.0, settings=None):
        self.bindir = bindir
        self.database = database
        self.user = user
        self.password = secrets.token_hex(16)
        self.host = HOST
        self.port = None
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        #: extra ``-c name=value`` server settings
        self.settings = dict(settings or {})
        self.directory = None
        self.log_path = None
        self._proc = None
        self._log = None
        self._account = None

    # -- life cycle

    def __enter__(self):
        if self._proc is None:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def pid(self):
        return None if self._proc is None else self._proc.pid

    @property
    def running(self):
        return self._proc is not None and self._proc.poll() is None

    @property
    def url(self):
        """The SQLAlchemy URL of the default database (``database``, created at start)."""
        return self.url_for(self.database)

    def start(self):
        """Create the cluster, start the server and wait until it accepts connections; returns self."""
        if self._proc is not None:
            raise RuntimeError("this PostgresServer was already started (make a new one)")
        _live_servers.add(self)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self):
        if self.bindir is None:
            self.bindir = find_binaries()
        if self.bindir is None or not _has_server(self.bindir):
            raise RuntimeError(f"PostgreSQL server binaries not found ({self.bindir or 'searched'}): {INSTALL_HINT}")
        if not _IDENTIFIER.match(self.user) or not _IDENTIFIER.match(self.database):
            raise ValueError("user and database must be plain SQL identifiers")
        self._account = _server_account()
        if self._account is None:
            raise RuntimeError(f"running as root without a '{SERVER_ACCOUNT}' user to run PostgreSQL as")
        uid, gid, _ = self._account

        self.directory = tempfile.mkdtemp(prefix="reludrop-pg-", dir=self._parent_directory(uid, gid))
        data, sockets = os.path.join(self.directory, "data"), os.path.join(self.directory, "socket")
        os.mkdir(sockets, 0o700)
        pwfile = os.path.join(self.directory, "password")
        with open(os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.write(self.password + "\n")
        self.log_path = os.path.join(self.directory, "server.log")
        self._log = open(self.log_path, "ab")
        if os.geteuid() == 0:
            for path in (self.directory, sockets, pwfile, self.log_path):
                os.chown(path, uid, gid)

        initdb = [os.path.join(self.bindir, "initdb"), "-D", data, "-U", self.user, f"--pwfile={pwfile}",
                  "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale",
                  "--no-sync"]
        done = subprocess.run(initdb, capture_output=True, text=True, timeout=120, cwd=self.directory,
                              env=self._environment(), **self._as_server_account())
        os.unlink(pwfile)
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")

        for attempt in range(5):
            self.port = _free_port()
            command = [os.path.join(self.bindir, "postgres"), "-D", data, "-h", self.host, "-p", str(self.port),
                       "-k", sockets, "-c", f"listen_addresses={self.host}", "-c", "fsync=off",
                       "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                       "-c", "max_connections=100", "-c", "unix_socket_permissions=0700"]
            for name, value in self.settings.items():
                command += ["-c", f"{name}={value}"]
            self._log.write(f"--- start attempt {attempt + 1}: {' '.join(command)}\n".encode())
            self._log.flush()
            # A session of its own: the postmaster and its children are one process group, which
            # stop() can clear if the postmaster has to be killed. user/group, not preexec_fn: thread-safe.
            self._proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
                                          cwd=self.directory, env=self._environment(), start_new_session=True,
                                          **self._as_server_account())
            if self._wait_until_ready():
                break
            if not any(marker in self.log_tail() for marker in _BIND_FAILURE):
                raise RuntimeError(f"PostgreSQL exited with code {self._proc.returncode} while starting; "
                                   f"server log {self.log_path}:\n{self.log_tail()}")
        else:
            raise RuntimeError(f"PostgreSQL could not bind a free port on {self.host} in 5 attempts:\n"
                               f"{self.log_tail()}")

        self.create_database(self.database)

    def _wait_until_ready(self):
        """True once a client can log in; False if the server exited; RuntimeError after the timeout."""
        import psycopg2

        deadline = time.monotonic() + self.start_timeout
        last_error = None
        while True:
            if self._proc.poll() is not None:
                return False
            try:
                psycopg2.connect(**self.dsn("postgres"), connect_timeout=2).close()
                return True
            except psycopg2.OperationalError as error:
                last_error = error
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL (PID {self._proc.pid}, port {self.port}) did not accept connections "
                                   f"within {self.start_timeout:g} s; last error: {str(last_error).strip()}\n"
                                   f"server log {self.log_path}:\n{self.log_tail()}")
            time.sleep(0.05)

    def stop(self):
        """Fast shutdown (SIGINT), wait; SIGKILL if needed; remove the directory. Idempotent."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            try:
                proc.send_signal(signal.SIGINT)   # PostgreSQL's fast shutdown: clients are disconnected
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                # The postmaster is not reaped yet, so its PID is still its own process group's ID (its own
                # session, see start): this kills it and any backend of it, nothing else.
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            if os.path.exists(self.directory):
                shutil.rmtree(self.directory)   # raise the reason now
            self.directory = None
        _live_servers.discard(self)

    # -- helpers

    def _parent_directory(self, uid, gid):
        """Where the temporary directory goes: the usual one if the server account can reach it
        and the socket path fits, else /tmp."""
        parent = tempfile.gettempdir()
        socket_path = os.path.join(parent, "reludrop-pg-XXXXXXXX", "socket", ".s.PGSQL.65535")
        if len(socket_path) > _MAX_SOCKET_PATH or (os.geteuid() == 0 and not _traversable_by(parent, uid, gid)):
            parent = "/tmp"
        return parent

    def _as_server_account(self):
        if os.geteuid() != 0:
            return {}
        uid, gid, _ = self._account
        return {"user": uid, "group": gid, "extra_groups": []}

    def _environment(self):
        # No PG* variables of ours (PGDATA, PGPORT, PGOPTIONS...) leak into the server; English messages.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C", LANG="C")
        if os.geteuid() == 0:
            env.update(HOME=self.directory, USER=self._account[2], LOGNAME=self._account[2])
        return env

    def log_tail(self, lines=30):
        """The last lines of the server log (initdb's output is in the exception, not here)."""
        if self._log is not None:
            self._log.flush()
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except (OSError, TypeError):
            return "(no server log)"

    def dsn(self, dbname=None):
        """psycopg2/libpq keyword arguments for a TCP connection to ``dbname`` (default: ``database``)."""
        return dict(host=self.host, port=self.port, user=self.user, password=self.password,
                    dbname=dbname or self.database)

    def url_for(self, dbname):
        """``postgresql+psycopg2://USER:PASSWORD@127.0.0.1:PORT/dbname``."""
        quote = urllib.parse.quote
        return (f"postgresql+psycopg2://{quote(self.user, safe='')}:{quote(self.password, safe='')}"
                f"@{self.host}:{self.port}/{quote(dbname, safe='')}")

    def connect(self, dbname=None, **kwargs):
        """A new psycopg2 connection (the caller closes it)."""
        import psycopg2

        if not self.running:
            raise RuntimeError("the PostgreSQL server is not running")
        return psycopg2.connect(**self.dsn(dbname), **kwargs)

    def _admin(self, statement):
        connection = self.connect("postgres")
        try:
            connection.autocommit = True   # CREATE/DROP DATABASE cannot run in a transaction
            with connection.cursor() as cursor:
                cursor.execute(statement)
        finally:
            connection.close()

    def create_database(self, name):
        """Create database ``name`` (a plain identifier) and return its SQLAlchemy URL."""
        if not _IDENTIFIER.match(name):
            raise ValueError(f"database name must be a plain identifier, not {name!r}")
        self._admin(f'CREATE DATABASE "{name}"')
        return self.url_for(name)

    def drop_database(self, name):
        """Drop database ``name``, disconnecting its clients (PostgreSQL 13+)."""
        if not _IDENTIFIER.match(name):
            raise ValueError(f"database name must be a plain identifier, not {name!r}")
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def __repr__(self):
        state = f"PID {self.pid}, {self.host}:{self.port}" if self.running else "stopped"
        return f"<PostgresServer {state}>"
