"""The gradebook as the grader keeps it safe: queued sqlite writes, and a copy before a batch writes.

* ``serialize_sqlite``: PostgreSQL takes concurrent writers as it is. sqlite takes one writer at a
  time, and nbgrader's read-then-write transactions can fail with "database is locked" when two
  processes upgrade their locks at once; every sqlite transaction here takes the write lock up front
  (``BEGIN IMMEDIATE``) and waits for it, so writes queue instead of failing.
* ``backup`` / ``check_readable``: before a batch writes, a sqlite gradebook is copied to
  ``gradebook.db.bak-<time>`` (sqlite's online backup, consistent even while others read it); a
  batch whose gradebook then stops being readable stops with a message naming that copy.
"""

import datetime
import pathlib
import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url


class GradebookUnreadable(RuntimeError):
    """The gradebook can no longer be read; the message names the copy made before the batch."""


BUSY_TIMEOUT_MS = 600_000     # a writer waits this long for the sqlite write lock before giving up
_serialized = False


def serialize_sqlite():
    """Make every sqlite transaction of this process take the write lock first and wait for it.

    SQLAlchemy's documented recipe for pysqlite (the driver's own BEGIN is switched off and
    SQLAlchemy emits ``BEGIN IMMEDIATE``), applied to every engine of the process, which includes the
    ones nbgrader's ``Gradebook`` creates. Transactions are short in nbgrader (no transaction stays
    open while a notebook runs), so the queue is short. Other databases are left alone.
    """
    global _serialized
    if _serialized:
        return

    @event.listens_for(Engine, "connect")
    def _on_connect(dbapi_connection, _record):
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.isolation_level = None
            dbapi_connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")

    @event.listens_for(Engine, "begin")
    def _on_begin(connection):
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    _serialized = True


def sqlite_path(db_url):
    """The file of a ``sqlite:///...`` URL, or None for another database (or an in-memory one)."""
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return pathlib.Path(url.database)


KEEP_COPIES = 10   # the newest copies kept beside the gradebook; older ones are removed when a new one is made


def backup(db_url, now=None, keep=KEEP_COPIES):
    """Copy a sqlite gradebook to ``<file>.bak-<YYYYmmdd-HHMMSS.ffffff>`` beside it; return the copy (None: nothing to copy).

    Only the ``keep`` newest copies stay (each holds the hidden tests, like the gradebook: never commit them)."""
    path = sqlite_path(db_url)
    if path is None or not path.exists():
        return None
    when = now or datetime.datetime.now()
    target = path.with_name(f"{path.name}.bak-{when:%Y%m%d-%H%M%S.%f}")
    while target.exists():
        when += datetime.timedelta(microseconds=1)
        target = path.with_name(f"{path.name}.bak-{when:%Y%m%d-%H%M%S.%f}")
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
    finally:
        source.close()
    copies = sorted(path.parent.glob(f"{path.name}.bak-*"), key=lambda p: p.stat().st_mtime)
    for old in copies[:-keep]:
        old.unlink()
    return target


def check_readable(db_url, copy=None):
    """Raise ``GradebookUnreadable`` unless a sqlite gradebook still opens and passes ``PRAGMA quick_check``."""
    path = sqlite_path(db_url)
    if path is None:
        return
    problem = None
    if not path.exists():
        problem = "it is gone"
    else:
        try:
            connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                answer = connection.execute("PRAGMA quick_check").fetchone()[0]
                connection.execute("SELECT count(*) FROM assignment").fetchone()
            finally:
                connection.close()
            if answer != "ok":
                problem = f"sqlite says: {answer}"
        except sqlite3.DatabaseError as error:
            problem = f"sqlite says: {error}"
    if problem:
        restore = (f"The copy made before this batch is {copy}: put it back (cp {copy} {path}) and grade again."
                   if copy else "No copy was made before this batch.")
        raise GradebookUnreadable(f"the gradebook {path} can no longer be read ({problem}). {restore}")
