"""Grading many submissions at once: N worker processes on this machine, reports in class order.

The unit of work stays ``grading.submission.grade_submission(course, assignment, student)``
(nbgrader's Python API, one student's submission of one assignment). ``--jobs N``: N worker
processes, each with its own ``Course`` (its own ``NbGraderAPI``), each taking the next unit in class
order when it is free; ``--jobs 1`` grades in this process. The reports come back in class order
whatever order the units finish in.
"""

import concurrent.futures
import contextlib
import multiprocessing
import os
import signal

from .. import events
from ..grading import report as reporting
from ..grading.course import Course
from ..grading.submission import grade_one
from .progress import Progress


def default_jobs():
    """One worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


_worker_course = None


def _start_worker(root, overrides):
    global _worker_course
    signal.signal(signal.SIGINT, signal.SIG_IGN)      # Ctrl-C is the parent's to handle: it stops the workers
    _worker_course = Course(root, overrides)


def _work(unit):
    return grade_one(_worker_course, *unit)


def run(course, units, jobs, out=print, stream=None, check=None):
    """Grade ``units`` ([(assignment, student)]) with ``jobs`` processes; return their reports, in ``units`` order.

    ``check()``, when given, runs after every finished unit; what it raises stops the batch (the workers too).
    """
    progress = Progress(len(units), jobs, out, stream)
    progress.draw()
    check = check or (lambda: None)
    if jobs <= 1 or len(units) <= 1:
        reports = []
        for unit in units:
            reports.append(grade_one(course, *unit))
            progress.finished(reports[-1])
            check()
    else:
        reports = _run_pool(course, units, jobs, progress, check)
    progress.close()
    return reports


@contextlib.contextmanager
def _stopped_on_interrupt(pool):
    """Ctrl-C (or a stop of the batch) ends the workers at once, their sandboxes with them, instead of
    letting them finish the queue."""
    try:
        yield
    except BaseException:
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise


def _run_pool(course, units, jobs, progress, check):
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
                check()
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
