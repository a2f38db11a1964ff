"""Student implementations of the graded functions, as students really write them.

Each variant is a plain function with the handout's name (``def ReLU(z):``),
registered with ``@buggy("<diagnosis code>")`` or ``@correct()`` and a one-line
comment saying what it is. ``notebook(variant)`` rebuilds it, with the
functions it calls, inside a fresh dict that plays the notebook's
``globals()``: names such as ``softmax``, ``forward_propagate`` or ``Dropout``
are looked up there, so a check can rebind them as it would in a notebook.

The namespace starts from a correct notebook (``base``, in the handout's
np.matrix style with its defects fixed) or, for the handout's own code,
from ``handout``; the variant and its ``helpers`` replace the functions of
the same name.
"""

import builtins
import types

import numpy as np

REGISTRY = []


class Variant:
    """One student implementation.

    Attributes
    ----------
    fn : the function (its ``__name__`` is the handout's name)
    check : which check judges it ("ReLU", "backprop", ...)
    expect : the diagnosis code it must fail with, or None if it must pass
    options : keyword arguments for the check (activation, ratio)
    helpers : other student functions it needs in its namespace
    base : list of functions the namespace starts from
    env : extra globals (module-level state a student would have in the notebook)
    """

    def __init__(self, fn, check, expect, options, helpers, base, env):
        self.fn, self.check, self.expect = fn, check, expect
        self.options, self.helpers, self.base, self.env = options, tuple(helpers), base, dict(env or {})
        self.id = f"{check}:{fn.__module__.rsplit('.', 1)[-1]}:{fn.__code__.co_firstlineno}:{expect or 'ok'}"

    def notebook(self):
        """A fresh namespace with the base functions, the helpers and this variant; returns (ns, function)."""
        # A notebook's globals hold __builtins__; without it numpy's array methods (z.max()) raise KeyError.
        ns = {"__name__": "__main__", "__builtins__": builtins, "np": np, "numpy": np}
        ns.update(self.env)
        for f in list(self.base()) + list(self.helpers) + [self.fn]:
            ns[f.__name__] = types.FunctionType(f.__code__, ns, f.__name__, f.__defaults__, f.__closure__)
        return ns, ns[self.fn.__name__]


def _register(expect, check, helpers, base, env, options):
    def decorate(fn):
        from . import base as base_module

        REGISTRY.append(Variant(fn, check or fn.__name__, expect, options, helpers,
                                base or base_module.functions, env))
        return fn
    return decorate


def buggy(expect, check=None, helpers=(), base=None, env=None, **options):
    """Register a variant that must fail its check with diagnosis code ``expect``."""
    return _register(expect, check, helpers, base, env, options)


def correct(check=None, helpers=(), base=None, env=None, **options):
    """Register a variant that must pass its check, visible and hidden."""
    return _register(None, check, helpers, base, env, options)


def load():
    """Import every variant module (which fills REGISTRY) and return the variants."""
    from . import activations, dropout, handout, network, relu_dropout, training  # noqa: F401

    return list(REGISTRY)
