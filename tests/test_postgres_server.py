"""The throwaway PostgreSQL server of tests/postgres_server.py, tested on its own.

One server serves the module; the stop and failed-start tests make their own. Skipped without
PostgreSQL (``apt-get install postgresql``), failed instead when CI is set. About 10 s.
"""

import multiprocessing
import os
import signal
import socket
import sys

import psutil
import pytest

import postgres_server
from postgres_server import PostgresServer, find_binaries, require_postgres, server_or_skip

COURSE = "reludrop"
JOIN_TIMEOUT = 60


@pytest.fixture(scope="module", autouse=True)
def _alembic_on_path():
    # nbgrader runs `alembic` by name when it creates a gradebook: from this Python's bin, as in a venv.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
        yield


@pytest.fixture(scope="module")
def pg():
    with server_or_skip() as server:
        yield server


@pytest.fixture(scope="module")
def gradebook_url(pg, _alembic_on_path):
    """A database in which nbgrader has created its gradebook (its tables and the course)."""
    from nbgrader.api import Gradebook

    url = pg.create_database("gradebook")
    gb = Gradebook(url, COURSE)
    gb.close()
    gb.engine.dispose()
    return url


def _listening(pid):
    return {(c.laddr.ip, c.laddr.port) for c in psutil.Process(pid).net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN}


def _connect_refused(address, port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        try:
            s.connect((address, port))
        except ConnectionRefusedError:
            return True
        except OSError:
            return True      # unreachable, timed out: not listening for us either
        return False


def _scalar(pg, sql, dbname="postgres"):
    with pg.connect(dbname) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        value = cursor.fetchone()[0]
    connection.close()
    return value


# --- Where and as whom it runs ---------------------------------------------------------------------------------------

def test_find_binaries_gives_initdb_and_postgres():
    require_postgres()
    bindir = find_binaries()
    for name in ("initdb", "postgres"):
        assert os.access(os.path.join(bindir, name), os.X_OK)


def test_listens_on_the_chosen_loopback_port_only(pg):
    assert _listening(pg.pid) == {("127.0.0.1", pg.port)}          # not 0.0.0.0, not ::
    assert _scalar(pg, "SHOW listen_addresses") == "127.0.0.1"
    assert int(_scalar(pg, "SHOW port")) == pg.port
    # this machine's other IPv4 addresses do not answer on the port
    others = [a.address for addrs in psutil.net_if_addrs().values() for a in addrs
              if a.family == socket.AF_INET and not a.address.startswith("127.")]
    for address in others:
        assert _connect_refused(address, pg.port), address


def test_runs_as_a_non_root_user_in_its_own_directory(pg):
    """Do the postmaster and its children run without root, in the server's own directory?"""
    postmaster = psutil.Process(pg.pid)
    assert 0 not in postmaster.uids(), postmaster    # real, effective and saved uid
    checked = 0
    for process in postmaster.children():
        try:
            uids = process.uids()
        except psutil.NoSuchProcess:                 # a backend that ended between listing and reading: gone, fine
            continue
        assert 0 not in uids, process
        checked += 1
    assert checked >= 1                              # the checkpointer and friends live as long as the server
    if os.geteuid() == 0:
        assert postmaster.username() == postgres_server.SERVER_ACCOUNT
    assert os.stat(pg.directory).st_uid == postmaster.uids().real
    assert _scalar(pg, "SHOW data_directory").startswith(pg.directory + os.sep)


def test_tcp_logins_need_the_password(pg):
    import psycopg2

    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        psycopg2.connect(**{**pg.dsn(), "password": "not-" + pg.password}, connect_timeout=5)
    assert pg.url == (f"postgresql+psycopg2://{pg.user}:{pg.password}@127.0.0.1:{pg.port}/"
                      f"{postgres_server.DEFAULT_DATABASE}")
    assert _scalar(pg, "SELECT current_database()", postgres_server.DEFAULT_DATABASE) == "reludrop"


# --- nbgrader's gradebook on it --------------------------------------------------------------------------------------

# nbgrader's add_submission makes SQLAlchemy warn for every new submission; not our concern here.
@pytest.mark.filterwarnings("ignore:Object of type .* not in session")
def test_nbgrader_gradebook_creates_its_tables_and_keeps_grades(pg, gradebook_url):
    from nbgrader.api import Gradebook

    assert gradebook_url.startswith("postgresql+psycopg2://") and gradebook_url.endswith("/gradebook")
    tables = _scalar(pg, "SELECT array_agg(table_name::text) FROM information_schema.tables "
                         "WHERE table_schema = 'public'", "gradebook")
    assert {"assignment", "student", "submitted_assignment", "grade", "alembic_version"} <= set(tables)

    with Gradebook(gradebook_url, COURSE) as gb:
        gb.add_assignment("01_relu_network")
        gb.add_notebook("01_relu_network", "01_relu_network")
        gb.add_grade_cell("test_relu", "01_relu_network", "01_relu_network", max_score=3, cell_type="code")
        gb.add_student("s001", first_name="小明", last_name="王")
        gb.add_submission("01_relu_network", "s001")
        gb.find_grade("test_relu", "01_relu_network", "01_relu_network", "s001").auto_score = 2
        gb.db.commit()
        engine = gb.engine
    engine.dispose()

    # a new connection sees it all, and nbgrader's report queries run on PostgreSQL
    with Gradebook(gradebook_url, COURSE) as gb:
        assert gb.find_student("s001").first_name == "小明"
        [row] = [r for r in gb.submission_dicts("01_relu_network") if r["student"] == "s001"]
        assert (row["score"], row["max_score"]) == (2.0, 3.0)
        engine = gb.engine
    engine.dispose()


def _writer(role, dsn, url, a_wrote, b_committed, start_together, results):
    """One of two processes writing to the same database (fork: runs in a child process)."""
    import psycopg2
    from nbgrader.api import Gradebook

    try:
        connection = psycopg2.connect(**dsn, connect_timeout=10)
        with connection.cursor() as cursor:
            if role == "b" and not a_wrote.wait(20):
                raise RuntimeError("a never wrote")
            cursor.execute("INSERT INTO concurrent_writes (writer, pid) VALUES (%s, %s)", (role, os.getpid()))
            if role == "a":
                # hold a write transaction open until b has written *and committed* beside it
                a_wrote.set()
                if not b_committed.wait(20):
                    raise RuntimeError("b could not commit while a's write transaction was open")
            connection.commit()
            if role == "b":
                b_committed.set()
        connection.close()

        start_together.wait(20)
        with Gradebook(url, COURSE) as gb:
            for k in range(10):
                gb.add_student(f"{role}-{k:02d}")
            engine = gb.engine
        engine.dispose()
        results.put((role, os.getpid(), "ok"))
    except BaseException as error:  # report everything to the parent, which asserts
        results.put((role, os.getpid(), f"{type(error).__name__}: {error}"))


def test_two_processes_write_at_once(pg, gradebook_url):
    from nbgrader.api import Gradebook

    with pg.connect("gradebook") as connection, connection.cursor() as cursor:
        cursor.execute("CREATE TABLE concurrent_writes (writer text, pid int)")
    connection.close()

    context = multiprocessing.get_context("fork")
    a_wrote, b_committed = context.Event(), context.Event()
    start_together, results = context.Barrier(2), context.Queue()
    dsn = pg.dsn("gradebook")
    workers = [context.Process(target=_writer, args=(role, dsn, gradebook_url, a_wrote, b_committed,
                                                     start_together, results)) for role in ("a", "b")]
    for worker in workers:
        worker.start()
    try:
        outcome = sorted(results.get(timeout=JOIN_TIMEOUT) for _ in workers)
    finally:
        for worker in workers:
            worker.join(timeout=JOIN_TIMEOUT)
            if worker.is_alive():
                worker.kill()
                worker.join()
    assert [(role, status) for role, _, status in outcome] == [("a", "ok"), ("b", "ok")]
    pids = {pid for _, pid, _ in outcome}
    assert len(pids) == 2 and os.getpid() not in pids

    with pg.connect("gradebook") as connection, connection.cursor() as cursor:
        cursor.execute("SELECT writer, pid FROM concurrent_writes ORDER BY writer")
        rows = cursor.fetchall()
    connection.close()
    assert [writer for writer, _ in rows] == ["a", "b"] and {pid for _, pid in rows} == pids
    with Gradebook(gradebook_url, COURSE) as gb:
        ids = {s.id for s in gb.students}
        engine = gb.engine
    engine.dispose()
    assert {f"{role}-{k:02d}" for role in "ab" for k in range(10)} <= ids


# --- Stopping ---------------------------------------------------------------------------------------------------------

def test_stop_ends_the_server_frees_the_port_and_removes_the_directory():
    server = server_or_skip()
    with server:
        pid, port, directory = server.pid, server.port, server.directory
        backends = [p.pid for p in psutil.Process(pid).children()]
        assert backends and os.path.isdir(directory)
        client = server.connect()           # a client still connected does not hold the shutdown up
        server.stop()
        client.close()
        assert not server.running and server.pid is None and server.directory is None
        for gone in [pid, *backends]:
            assert not psutil.pid_exists(gone), gone
        assert not os.path.exists(directory)
        assert _connect_refused("127.0.0.1", port)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", port))     # the port is free again
        server.stop()                       # idempotent; __exit__ stops once more
    server.stop()


def _dead(pid):
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE   # killed, waiting for init to reap it
    except psutil.NoSuchProcess:
        return True


def test_a_server_that_ignores_the_shutdown_is_killed():
    server = server_or_skip(stop_timeout=1)
    pid = server.pid
    client = server.connect()
    processes = [pid, *(p.pid for p in psutil.Process(pid).children())]
    os.kill(pid, signal.SIGSTOP)            # the postmaster cannot act on SIGINT now
    server.stop()
    client.close()
    assert not psutil.pid_exists(pid)       # reaped by us
    assert all(_dead(p) for p in processes), [(p, _dead(p)) for p in processes]


def test_a_failed_start_raises_with_the_log_and_leaves_nothing(monkeypatch):
    require_postgres()
    made = []
    mkdtemp = postgres_server.tempfile.mkdtemp
    monkeypatch.setattr(postgres_server.tempfile, "mkdtemp", lambda **kw: made.append(mkdtemp(**kw)) or made[-1])

    server = PostgresServer(settings={"max_connections": "-1"})   # initdb passes, the server refuses it
    with pytest.raises(RuntimeError) as failure:
        server.start()
    assert "max_connections" in str(failure.value) and "exited" in str(failure.value)
    assert not server.running and server.directory is None
    server.stop()
    server.__exit__(None, None, None)

    missing = PostgresServer(bindir="/nonexistent/postgresql/bin")
    with pytest.raises(RuntimeError, match="apt-get install postgresql"):
        missing.start()
    missing.stop()

    assert made and not any(os.path.exists(path) for path in made)


# --- Without PostgreSQL -----------------------------------------------------------------------------------------------

def test_server_or_skip_skips_or_fails_under_ci(monkeypatch):
    monkeypatch.setattr(postgres_server, "find_binaries", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"PostgreSQL not installed: apt-get install postgresql"):
        server_or_skip()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="PostgreSQL not installed"):
        server_or_skip()
