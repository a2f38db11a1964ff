"""Run student code quietly, reproducibly and watched, and put everything back afterwards.

While a window is open:

* warnings are ignored, numpy's floating-point errors are silent, and
  whatever the student prints (to stdout or stderr) is swallowed: nbgrader
  scores 0 for a test cell that writes to stderr, and a correct answer that
  only warns (a naive sigmoid) must keep full marks;
* numpy's global random generator is saved, seeded per call, and restored;
* names in the student's namespace may be rebound (``Dropout`` frozen, the
  activations replaced by the grader's own), and are restored;
* the reference functions are tripwired (see ``_delegation``; this module defines the exception).

It needs nothing else of the grader: the student kit ships it as it is.

Every call gets its own copies of the arguments; a pristine copy is kept
and compared afterwards, so a function that changes its inputs is caught.
Nothing here calls the grader's other modules: they are tripwired while
the window is open.
"""

import contextlib
import io
import warnings

import numpy as np

# Captured at import, before any student code: the window must not depend on names student code can rebind.
_array_equal = np.array_equal
_errstate = np.errstate
_get_state = np.random.get_state
_set_state = np.random.set_state
_seed = np.random.seed
_ndarray = np.ndarray
_catch_warnings = warnings.catch_warnings
_simplefilter = warnings.simplefilter
_redirect_stdout = contextlib.redirect_stdout
_redirect_stderr = contextlib.redirect_stderr
_StringIO = io.StringIO
_MISSING = object()


class Delegation(BaseException):
    """Raised by a tripwire (``_delegation``); a BaseException so that ``except Exception`` in student code cannot
    swallow it."""


class Call:
    """One call of student code: ``fn(*args, **kwargs)`` after seeding ``np.random`` with ``seed`` (None: don't)."""

    __slots__ = ("fn", "args", "kwargs", "seed")

    def __init__(self, fn, args, kwargs=None, seed=None):
        self.fn, self.args, self.kwargs, self.seed = fn, tuple(args), dict(kwargs or {}), seed


class Outcome:
    """What a call gave: ``value`` or ``error`` (an exception), and the positions of mutated arguments."""

    __slots__ = ("value", "error", "mutated")

    def __init__(self, value=None, error=None, mutated=()):
        self.value, self.error, self.mutated = value, error, tuple(mutated)

    @property
    def ok(self):
        return self.error is None


def copy(x):
    """A deep copy of an argument: arrays (keeping np.matrix), lists and tuples of them; others as they are."""
    if isinstance(x, _ndarray):
        return x.copy()
    if isinstance(x, list):
        return [copy(v) for v in x]
    if isinstance(x, tuple):
        return tuple(copy(v) for v in x)
    return x


def _same(a, b):
    if isinstance(a, _ndarray):
        return isinstance(b, _ndarray) and a.shape == b.shape and bool(_array_equal(a, b, equal_nan=True))
    if isinstance(a, (list, tuple)):
        return isinstance(b, type(a)) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return True


class Window:
    """Context manager: quiet, seeded, namespace-swapped and tripwired while open.

    Parameters
    ----------
    namespaces : list of dict, where the student's functions look up their globals
    swaps : dict name -> object, bound in every namespace while open
    tripwires : _delegation.Tripwires or None
    """

    def __init__(self, namespaces, swaps, tripwires):
        unique = {}
        for ns in namespaces:
            if ns is not None:
                unique[id(ns)] = ns
        self.namespaces = list(unique.values())
        self.swaps, self.tripwires = dict(swaps or {}), tripwires
        self._stack = None

    def __enter__(self):
        self._saved_rng = _get_state()
        self._saved_names = [(ns, name, ns.get(name, _MISSING)) for ns in self.namespaces for name in self.swaps]
        stack = contextlib.ExitStack()
        try:
            stack.enter_context(_catch_warnings())
            _simplefilter("ignore")
            stack.enter_context(_errstate(all="ignore"))
            stack.enter_context(_redirect_stdout(_StringIO()))
            stack.enter_context(_redirect_stderr(_StringIO()))
            for ns in self.namespaces:
                ns.update(self.swaps)
            if self.tripwires is not None:
                self.tripwires.arm()
        except BaseException:
            self._restore()
            stack.close()
            raise
        self._stack = stack
        return self

    def _restore(self):
        if self.tripwires is not None:
            self.tripwires.disarm()
        for ns, name, old in self._saved_names:
            if old is _MISSING:
                ns.pop(name, None)
            else:
                ns[name] = old
        _set_state(self._saved_rng)

    def __exit__(self, *exc):
        try:
            self._restore()
        finally:
            self._stack.close()
        return False


def run(calls, namespaces=(), swaps=None, tripwires=None):
    """Run each call in one window; return one Outcome per call.

    Parameters
    ----------
    calls : list of Call
    namespaces, swaps, tripwires : as for ``Window``

    Returns
    -------
    outcomes : list of Outcome, in the order of ``calls``
    """
    outcomes = []
    with Window(namespaces, swaps, tripwires):
        for call in calls:
            outcomes.append(_one(call))
    return outcomes


def _one(call):
    pristine = [copy(a) for a in call.args]
    if call.seed is not None:
        _seed(call.seed)
    try:
        value = call.fn(*call.args, **call.kwargs)
        error = None
    except Delegation as exc:
        value, error = None, exc
    except MemoryError:
        raise                        # the kernel's memory limit, not a result: the cell fails and says so
    except (Exception, SystemExit) as exc:
        value, error = None, exc
    mutated = [i for i, (a, b) in enumerate(zip(pristine, call.args)) if not _same(a, b)]
    return Outcome(value, error, mutated)


def run_repeated(fn, args, times, seed, namespaces=(), swaps=None, tripwires=None):
    """Call ``fn(*args)`` ``times`` times in one window after seeding ``np.random`` once; return the Outcomes.

    Used for Dropout, whose masks must be fresh on every call: seeding once
    makes the whole sequence of draws reproducible.
    """
    outcomes = []
    with Window(namespaces, swaps, tripwires):
        _seed(seed)
        for _ in range(times):
            try:
                outcomes.append(Outcome(fn(*args)))
            except Delegation as exc:
                outcomes.append(Outcome(error=exc))
                break
            except MemoryError:
                raise
            except (Exception, SystemExit) as exc:
                outcomes.append(Outcome(error=exc))
                break
    return outcomes
