"""Delegation: does the student's function reach the reference instead of computing?

Two ways to find out, both needed:

* statically, before running anything: the global names, closure cells and
  defaults that the student's function (and the student's functions it
  calls, through the same namespace) refers to; a name bound to a function
  of the reference core or of the grader is delegation;
* dynamically, while the student's code runs: every function of the core's
  computing modules and of the grader (except the sandbox and the trusted
  stand-ins it hands to student code) has its code object swapped for a
  tripwire, so a call that reaches them however it was found (an alias, a
  list, ``sys.modules``) is recorded and stopped.
"""

import sys
import types

from ._sandbox import Delegation  # noqa: F401  (re-exported: the tripwires raise it, the sandbox stops at it)

#: Core modules that compute what is graded; reaching any of their functions is delegation.
CORE_MODULES = ("reludrop_core.activations", "reludrop_core.network", "reludrop_core.dropout",
                "reludrop_core.training", "reludrop_core.gradcheck", "reludrop_core.experiments")
#: Grader modules that student code may legitimately run: they are never tripwired.
SAFE_MODULES = ("autograder.checks._sandbox", "autograder.checks._trusted")
#: Core plumbing a notebook may import and a student may call: it computes nothing that is graded
#: (where each layer's weights sit in ``params``, drawing initial weights).
ALLOWED = frozenset({"reludrop_core.network.layer_index", "reludrop_core.network.unpack_params",
                     "reludrop_core.network._unpack", "reludrop_core.network.pack_params",
                     "reludrop_core.network.init_params"})

_STATIC_DEPTH = 6




def _is_reference_object(obj):
    """A module or callable of the core's computing modules or of the grader."""
    if isinstance(obj, types.ModuleType):
        return obj.__name__ in CORE_MODULES or obj.__name__.startswith("autograder")
    module = getattr(obj, "__module__", None)
    if not callable(obj) or not isinstance(module, str) or _where(obj) in ALLOWED:
        return False
    return module in CORE_MODULES or module.startswith("autograder")


def _code_names(code):
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def static_references(fn, extra_namespace=None, swapped=()):
    """Reference objects that ``fn`` (or a student function it names) refers to.

    A notebook imports what earlier notebooks built (``softmax``,
    ``forward_propagate``...) from the core; the names a check swaps for its
    own stand-ins while the student's code runs (``swapped``) never reach the
    core, so they are not counted.

    Parameters
    ----------
    fn : callable, the student's function
    extra_namespace : dict or None, the notebook namespace (names are also looked up there)
    swapped : collection of str, global names the check rebinds while the student's code runs

    Returns
    -------
    found : list of str, ``"name -> module.qualname"`` for each reference object reached
    """
    found, seen = [], set()

    def visit(f, depth):
        if id(f) in seen or depth > _STATIC_DEPTH:
            return
        seen.add(id(f))
        if _is_reference_object(f):
            found.append(f"{getattr(f, '__name__', f)} -> {_where(f)}")
            return
        if isinstance(f, types.MethodType):
            f = f.__func__
        if not isinstance(f, types.FunctionType):
            return
        scopes = [f.__globals__] + ([extra_namespace] if extra_namespace is not None else [])
        values = []
        for name in sorted(_code_names(f.__code__) - set(swapped)):
            for scope in scopes:
                if name in scope:
                    values.append((name, scope[name]))
                    break
        values += [("<closure>", c.cell_contents) for c in (f.__closure__ or ()) if _full(c)]
        values += [("<default>", d) for d in (f.__defaults__ or ())]
        values += [("<default>", d) for d in (f.__kwdefaults__ or {}).values()]
        for name, value in values:
            if _is_reference_object(value):
                found.append(f"{name} -> {_where(value)}")
            elif isinstance(value, types.FunctionType) and value.__globals__ is f.__globals__:
                visit(value, depth + 1)

    visit(fn, 0)
    return found


def _full(cell):
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


def _where(obj):
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', getattr(obj, '__name__', '?'))}"


def _tripwire(*args, **kwargs):
    __autograder_tripwire__()  # noqa: F821  (injected into the module's globals while armed)


class Tripwires:
    """Swap the code of every reference function for a tripwire, and back.

    ``arm()`` and ``disarm()`` are cheap (a few dozen attribute writes), so a
    check arms them only while student code runs.
    """

    def __init__(self):
        self.hits = []
        self._targets = []        # (function, original code, tripwire code)
        self._modules = []
        for name in sorted(sys.modules):
            module = sys.modules[name]
            if module is None or not (name in CORE_MODULES or name.startswith("autograder")):
                continue
            if name in SAFE_MODULES or name == "autograder.checks._delegation":
                continue
            self._modules.append(module)
            for obj in list(vars(module).values()):
                if (isinstance(obj, types.FunctionType) and obj.__module__ == name and not obj.__closure__
                        and _where(obj) not in ALLOWED):
                    trip = _tripwire.__code__.replace(co_name=obj.__name__, co_qualname=obj.__qualname__)
                    self._targets.append((obj, obj.__code__, trip))

    def _hit(self):
        frame = sys._getframe(1)
        self.hits.append(f"{frame.f_globals.get('__name__', '?')}.{frame.f_code.co_qualname}")
        raise Delegation(self.hits[-1])

    def arm(self):
        for module in self._modules:
            vars(module)["__autograder_tripwire__"] = self._hit
        for fn, _, trip in self._targets:
            fn.__code__ = trip

    def disarm(self):
        for fn, code, _ in self._targets:
            fn.__code__ = code
        for module in self._modules:
            vars(module).pop("__autograder_tripwire__", None)
