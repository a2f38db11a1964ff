"""Grading a whole class: many submissions at once, split across machines, with a progress bar.

The unit of work stays ``pipeline.grade_submission(course, assignment, student)`` (nbgrader's Python
API, one student's submission of one assignment). This module only decides *which* units a run
takes and *where* they run:

* ``--jobs N``: N worker processes on this machine, each with its own ``Course`` (its own
  ``NbGraderAPI``), each taking the next unit in class order when it is free. ``--jobs 1`` grades in
  this process. The reports come back in class order whatever order the units finish in.
* ``--shard i/n``: of all students, this run takes those whose id hashes to shard i (1-based). The
  split depends on nothing but the student id and n, so n machines that each see the whole class, or
  only part of it, never grade a student twice and never skip one.
* The gradebook: PostgreSQL takes concurrent writers as it is. sqlite takes one writer at a time,
  and nbgrader's read-then-write transactions can fail with "database is locked" when two processes
  upgrade their locks at once; ``serialize_sqlite`` makes every sqlite transaction take the write
  lock up front (``BEGIN IMMEDIATE``) and wait for it, so writes queue instead of failing.
"""

import concurrent.futures
import contextlib
import hashlib
import multiprocessing
import os
import signal
import sqlite3
import sys
import time

from . import events
from . import report as reporting

# ---------------------------------------------------------------------- which students

def parse_shard(text):
    """``"i/n"`` -> (i, n) with 1 <= i <= n; ValueError in the instructor's terms otherwise."""
    try:
        i, n = (int(part) for part in str(text).split("/"))
    except ValueError:
        raise ValueError(f"--shard takes i/n, e.g. --shard 1/3 for the first of three machines (got {text!r})") from None
    if not 1 <= i <= n:
        raise ValueError(f"--shard {text}: i must be between 1 and n (the shards are 1/{n} ... {n}/{n})")
    return i, n


def shard_of(student, n):
    """The shard (1..n) a student belongs to: a hash of the id alone, the same on every machine."""
    digest = hashlib.sha256(student.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % n + 1


def in_shard(student, shard):
    return shard is None or shard_of(student, shard[1]) == shard[0]


def default_jobs():
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


# ---------------------------------------------------------------------- the gradebook

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
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

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


# ---------------------------------------------------------------------- progress

def duration(seconds):
    """``1 h 02 min``, ``4 min 05 s``, ``12 s``."""
    seconds = int(round(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


class Progress:
    """Counts finished submissions and estimates the time left from the pace so far.

    Every finished submission is printed as a line; on a terminal a bar with the ETA is redrawn
    under those lines (on ``stream``, normally stderr, so the printed report stays clean).
    """

    def __init__(self, total, jobs, out=print, stream=None, clock=time.monotonic):
        self.total, self.jobs, self.out, self.clock = total, jobs, out, clock
        self.stream = stream if stream is not None else sys.stderr
        self.start = clock()
        self.done = 0
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def eta(self):
        """Seconds left, from the average pace so far (None before the first submission)."""
        if not self.done:
            return None
        return (self.clock() - self.start) / self.done * (self.total - self.done)

    def status(self, width=28):
        filled = int(width * self.done / self.total) if self.total else width
        eta = self.eta()
        left = "ETA --" if eta is None else ("done" if self.done == self.total else f"ETA {duration(eta)}")
        return (f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                f"{100 * self.done / max(self.total, 1):3.0f}%  {duration(self.clock() - self.start)} elapsed  {left}")

    def finished(self, report):
        self.done += 1
        flag = f"  needs attention ({len(report.attention())})" if report.attention() else ""
        eta = self.eta()
        when = "" if self.done == self.total or eta is None else f"  ETA {duration(eta)}"
        self._clear()
        self.out(f"[{self.done}/{self.total}{when}] {report.assignment} {report.student}: "
                 f"{report.score:g}/{report.max_score:g} ({report.seconds:.1f} s){flag}")
        self.draw()

    def draw(self):
        if self.tty:
            self.stream.write("\r" + self.status())
            self.stream.flush()

    def _clear(self):
        if self.tty:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def close(self):
        if self.tty:
            self._clear()
        self.out(f"graded {self.done} submission(s) in {duration(self.clock() - self.start)} "
                 f"with {self.jobs} job(s)")


# ---------------------------------------------------------------------- running the units

def grade_one(course, assignment, student):
    """``grade_submission``, never raising: a failure of ours becomes a ``grader-error`` report."""
    from .pipeline import grade_submission
    try:
        return grade_submission(course, assignment, student)
    except Exception as error:  # noqa: BLE001 - a bug of ours must not stop the class either
        return reporting.SubmissionReport(student, assignment, events=[
            events.event("grader-error", None, f"{type(error).__name__}: {error}")])


_worker_course = None


def _start_worker(root, overrides):
    global _worker_course
    from .course import Course
    signal.signal(signal.SIGINT, signal.SIG_IGN)      # Ctrl-C is the parent's to handle: it stops the workers
    _worker_course = Course(root, overrides)


def _work(unit):
    return grade_one(_worker_course, *unit)


def run(course, units, jobs, out=print, stream=None):
    """Grade ``units`` ([(assignment, student)]) with ``jobs`` processes; return their reports, in ``units`` order."""
    progress = Progress(len(units), jobs, out, stream)
    progress.draw()
    if jobs <= 1 or len(units) <= 1:
        reports = []
        for unit in units:
            reports.append(grade_one(course, *unit))
            progress.finished(reports[-1])
    else:
        reports = _run_pool(course, units, jobs, progress)
    progress.close()
    return reports


@contextlib.contextmanager
def _stopped_on_interrupt(pool):
    """Ctrl-C stops the workers at once (their kernels follow them) instead of letting them finish the queue."""
    try:
        yield
    except KeyboardInterrupt:
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise


def _run_pool(course, units, jobs, progress):
    """Workers in fresh processes ("spawn": nothing of this process's state, threads or kernels is copied).

    A worker that dies (killed from outside, out of memory) breaks the pool: the units it left are
    given to a new pool once; a unit that breaks a second pool is reported as a grader error.
    """
    results, tries = {}, {}
    todo = list(units)
    context = multiprocessing.get_context("spawn")
    while todo:
        broken = []
        pool = concurrent.futures.ProcessPoolExecutor(min(jobs, len(todo)), mp_context=context,
                                                      initializer=_start_worker,
                                                      initargs=(str(course.root), course.overrides))
        with _stopped_on_interrupt(pool):
            futures = {pool.submit(_work, unit): unit for unit in todo}
            for future in concurrent.futures.as_completed(futures):
                unit = futures[future]
                try:
                    report = future.result()
                except concurrent.futures.process.BrokenProcessPool:
                    broken.append(unit)
                    continue
                except Exception as error:  # noqa: BLE001 - e.g. a worker that could not load the course
                    report = reporting.SubmissionReport(unit[1], unit[0], events=[
                        events.event("grader-error", None, f"{type(error).__name__}: {error}")])
                results[unit] = report
                progress.finished(report)
        pool.shutdown()
        todo = []
        for unit in broken:
            tries[unit] = tries.get(unit, 0) + 1
            if tries[unit] < 2:
                todo.append(unit)
            else:
                results[unit] = reporting.SubmissionReport(unit[1], unit[0], events=[events.event(
                    "grader-error", None, "a grading worker died twice while grading this submission")])
                progress.finished(results[unit])
    return [results[unit] for unit in units]
