"""The grading checks: one ``check_<name>`` per function the students write.

Every check has the same shape::

    check_<name>(student_function, namespace=None, *, hidden=False, seed=None, **options) -> str

* ``student_function`` is the student's function (``ReLU``, ``backprop``...).
* ``namespace`` is the notebook's ``globals()``; by default the function's
  own globals. The network checks rebind names in it while they run (the
  activations, ``Dropout``; ``backprop`` and friends for ``train``) and
  restore them afterwards.
* ``hidden=False`` runs the few fixed visible cases a student can run;
  ``hidden=True`` runs them, their twins and more, larger cases drawn from
  ``seed`` (an int written only in the instructor's hidden cell).

A passing check returns a short bilingual message (the notebook prints it).
A failing one raises ``AssertionError`` whose message is Chinese first, then
English: the recognised mistake and how to fix it, or the first differing
case (inputs, expected, got, relative error). A check never writes to
stdout or stderr, and never lets student code do so while it runs.

The student kits (``autograder.kit``) ship no reference: ``recording`` (instructor side, build time
only) runs the visible cases once and keeps their expected values, the stand-ins' answers and these
messages as data; the kit's own visible checks judge against that data. The modules that need no
reference (``_messages``, ``_compare``, ``_errors``, ``_dropout_masks``, ``_sandbox``) go into the kit
as they are.

In a notebook::

    # read-only first cell (imported before any student code runs)
    from autograder import checks
    # hidden part of a test cell
    checks.check_backprop(backprop, globals(), activation="sigmoid", ratio=0.2, hidden=True, seed=83741)
"""

import functools
import inspect
import sys
import warnings

import numpy as np

import reludrop_core  # noqa: F401  (imported first: the snapshot records it)

from . import (  # noqa: F401  (every module loaded before the snapshot and the tripwires)
    _cases,
    _compare,
    _delegation,
    _dropout_masks,
    _errors,
    _messages,
    _runner,
    _sandbox,
    _spec,
    _tamper,
    _trusted,
    activations,
    dropout,
    network,
    relu_dropout,
    training,
)

__all__ = [
    "check_ReLU", "check_ReLU_gradient", "check_sigmoid", "check_sigmoid_gradient",
    "check_softmax", "check_softmax_gradient", "check_forward_propagate", "check_cost_fcn",
    "check_backprop", "check_train", "check_Dropout", "check_forward_propagate_dropout",
    "check_ReLU_dropout_gradient",
]

_OWN_MODULES = [sys.modules[__name__]] + [
    m for name, m in sorted(sys.modules.items())
    if m is not None and (name.startswith("autograder.checks.") or name.startswith("reludrop_core"))
]
_TRIPWIRES = _delegation.Tripwires()
_catch_warnings, _simplefilter, _errstate = warnings.catch_warnings, warnings.simplefilter, np.errstate


#: The flavour keywords every check takes. The wrapper reads them into the context; the bodies see only ``ctx``.
_FLAVOUR = (inspect.Parameter("hidden", inspect.Parameter.KEYWORD_ONLY, default=False),
            inspect.Parameter("seed", inspect.Parameter.KEYWORD_ONLY, default=None))


def _public(impl, name, holder, tripwires):
    """The function a notebook calls: builds the check's context from ``hidden`` and ``seed``, then runs ``impl``.

    ``impl(fn, namespace=None, *, <its own options>, ctx)`` reads the flavour from ``ctx`` alone. The
    public signature is the body's, without ``ctx``, followed by ``hidden=False, seed=None``.
    """
    sig = inspect.signature(impl)
    if "ctx" not in sig.parameters or any(p.name in sig.parameters for p in _FLAVOUR):
        raise TypeError(f"{impl.__qualname__} must take ctx and leave hidden and seed to the wrapper")

    @functools.wraps(impl)
    def check(fn, namespace=None, *, hidden=False, seed=None, **options):
        # The whole check is quiet: nbgrader scores 0 for a test cell that writes to stderr, and
        # recognising an overflow means computing one.
        with _catch_warnings():
            _simplefilter("ignore")
            with _errstate(all="ignore"):
                ctx = _runner.Ctx(name, hidden, seed, holder[0], tripwires)
                return impl(fn, namespace, ctx=ctx, **options)

    own = [p for p in sig.parameters.values() if p.name != "ctx"]
    check.__signature__ = sig.replace(parameters=own + list(_FLAVOUR))
    del check.__wrapped__
    return check


# The snapshot is taken last, once the public names below exist, so that rebinding them is detected too;
# the checks reach it through this list, held in their closures.
_holder = []
check_ReLU = _public(activations.check_ReLU, "ReLU", _holder, _TRIPWIRES)
check_ReLU_gradient = _public(activations.check_ReLU_gradient, "ReLU_gradient", _holder, _TRIPWIRES)
check_sigmoid = _public(activations.check_sigmoid, "sigmoid", _holder, _TRIPWIRES)
check_sigmoid_gradient = _public(activations.check_sigmoid_gradient, "sigmoid_gradient", _holder, _TRIPWIRES)
check_softmax = _public(activations.check_softmax, "softmax", _holder, _TRIPWIRES)
check_softmax_gradient = _public(activations.check_softmax_gradient, "softmax_gradient", _holder, _TRIPWIRES)
check_forward_propagate = _public(network.check_forward_propagate, "forward_propagate", _holder, _TRIPWIRES)
check_cost_fcn = _public(network.check_cost_fcn, "cost_fcn", _holder, _TRIPWIRES)
check_backprop = _public(network.check_backprop, "backprop", _holder, _TRIPWIRES)
check_train = _public(training.check_train, "train", _holder, _TRIPWIRES)
check_Dropout = _public(dropout.check_Dropout, "Dropout", _holder, _TRIPWIRES)
check_forward_propagate_dropout = _public(dropout.check_forward_propagate_dropout, "forward_propagate_dropout",
                                          _holder, _TRIPWIRES)
check_ReLU_dropout_gradient = _public(relu_dropout.check_ReLU_dropout_gradient, "ReLU_dropout_gradient",
                                      _holder, _TRIPWIRES)
_holder.append(_tamper.Snapshot(_OWN_MODULES))
