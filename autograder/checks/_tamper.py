"""Tamper detection: is everything the grader relies on still what it was at import?

The notebook imports the grader in its read-only first cell, before any
student code runs. At that moment we record every attribute of numpy's
modules that the grader (and the reference core) calls, the builtins it
uses, and every name, code object and default of the grader's and the
core's own modules. A check verifies that record before it computes
anything and again after the student's code has run; a student who
rebinds ``np.allclose`` or one of our helpers gets 0 with a message that
says so, never a false pass.

Limit: a student who rebinds the public ``checks.check_X`` name itself
replaces the function the hidden cell calls; nothing inside the process can
run before that replacement. See the report in the docs.
"""

import builtins
import sys
import types

import numpy as np

from ._messages import Diagnosis

#: numpy modules whose callables we (or the core) use, directly or through numpy's own internals.
_NUMPY_MODULES = (
    "numpy", "numpy.linalg", "numpy.random",
    "numpy._core.numeric", "numpy._core.fromnumeric", "numpy._core._methods",
    "numpy._core.arrayprint", "numpy._core.shape_base", "numpy.lib._function_base_impl",
    "numpy.lib._shape_base_impl", "numpy.matrixlib.defmatrix", "numpy.linalg._linalg",
)

_BUILTINS = (
    "abs", "all", "any", "bool", "callable", "dict", "enumerate", "float", "getattr", "hasattr",
    "id", "int", "isinstance", "issubclass", "iter", "len", "list", "map", "max", "min", "next",
    "object", "range", "repr", "round", "setattr", "sorted", "str", "sum", "tuple", "type", "vars",
    "zip", "Exception", "BaseException", "AssertionError", "ValueError", "TypeError",
)
# Not recorded: the warnings module (pytest and IPython legitimately rebind warnings._showwarnmsg_impl
# inside catch_warnings(record=True)); the sandbox captured the few stdlib functions it needs at import.


def _module_record(module, callables_only):
    record = {}
    for name, obj in vars(module).items():
        if callables_only and not (callable(obj) or isinstance(obj, types.ModuleType)):
            continue
        record[name] = obj
    return record


def _function_parts(fn):
    cells = tuple(c.cell_contents if _cell_full(c) else None for c in (fn.__closure__ or ()))
    return fn.__code__, fn.__defaults__, fn.__kwdefaults__, cells


def _cell_full(cell):
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


class Snapshot:
    """What the grader relies on, recorded once, and a way to compare against it."""

    def __init__(self, own_modules):
        self.modules = []        # (module, record of name -> object)
        self.functions = []      # (function, its parts)
        for name in _NUMPY_MODULES:
            module = sys.modules.get(name)
            if module is not None:
                self.modules.append((module, _module_record(module, callables_only=True)))
        self.builtins = {name: getattr(builtins, name) for name in _BUILTINS}
        for module in own_modules:
            self.modules.append((module, _module_record(module, callables_only=False)))
            for obj in list(vars(module).values()):
                for fn in _functions_of(obj, module.__name__):
                    self.functions.append((fn, _function_parts(fn)))

    def changes(self):
        """Return a list of what was rebound since the snapshot (empty when nothing was)."""
        found = []
        for module, record in self.modules:
            current = vars(module)
            for name, obj in record.items():
                if current.get(name, _MISSING) is not obj:
                    found.append(f"{module.__name__}.{name}")
        for name, obj in self.builtins.items():
            if getattr(builtins, name, _MISSING) is not obj:
                found.append(f"builtins.{name}")
        for fn, parts in self.functions:
            if _function_parts(fn) != parts:
                found.append(f"{fn.__module__}.{fn.__qualname__} (code or defaults)")
        return found


_MISSING = object()


def _functions_of(obj, module_name):
    """Functions defined in ``module_name``: plain functions and the methods of its classes."""
    if isinstance(obj, types.FunctionType) and obj.__module__ == module_name:
        yield obj
    elif isinstance(obj, type) and obj.__module__ == module_name:
        for member in vars(obj).values():
            if isinstance(member, (staticmethod, classmethod)):
                member = member.__func__
            if isinstance(member, types.FunctionType):
                yield member


def tampering(changes):
    """The diagnosis for a rebound numpy function or grader helper."""
    listed = ", ".join(changes[:5]) + (" ..." if len(changes) > 5 else "")
    return Diagnosis(
        "tampering",
        f"检测到篡改：评分所依赖的函数被重新绑定了（{listed}）。请删除修改 numpy 或评分模块的代码，"
        f"重启内核并重新运行全部单元格。",
        f"tampering detected: functions the grader relies on were rebound ({listed}). Remove the code "
        f"that changes numpy or the grading module, restart the kernel and run all cells again.",
    )
