"""The grading guard: runs inside the student's kernel while nbgrader autogrades it.

``autograder.sandbox.execute.GradingExecute`` calls it through ``user_expressions``
(never as a notebook cell, so it leaves no trace in the graded notebook):

* ``install()`` once, right after the kernel starts and before any cell runs:
  it records what grading relies on, while it is still pristine;
* ``record_names(names)`` after each read-only (locked) cell: the names that
  cell bound to a module or to a grading object (``np``, ``plt``, ``checks``);
* ``verify()`` before and after each graded test cell: it returns what was
  changed since, and puts it back;
* ``last_failure(ename, evalue)`` after a test cell that failed: the
  diagnosis the check attached to the error (``autograder.diagnoses``).

What is recorded and restored:

* the callables and submodules of every ``numpy``, ``autograder`` and
  ``reludrop_core`` module, the code and defaults of the functions of the
  last two, and their ``sys.modules`` entries;
* the builtins;
* IPython's methods (``showtraceback``, ``run_cell``...: nbgrader issue 1324,
  a student who silences tracebacks), its input and AST transformers, and the
  trace function;
* the notebook names recorded by ``record_names``.

A student who rebinds ``checks.check_ReLU`` or ``np.allclose`` gets 0 for the
next test cell (the preprocessor turns a non-empty ``verify()`` into an
error), the instructor is told, and every later test runs in a restored
environment, so the other answers keep the marks they earn.

Limit: this runs in the student's process, so code written to defeat this
module specifically can. The pipeline also scans the submitted code for the
constructs such code needs (``autograder.grading.scan``) and flags it for the
instructor.
"""

import builtins
import json
import sys
import types

_PACKAGES = ("numpy", "autograder", "reludrop_core")
_OWN_PACKAGES = ("autograder", "reludrop_core")
_state = {}


def _ours(name, packages):
    return any(name == p or name.startswith(p + ".") for p in packages)


def _is_function(obj):
    return isinstance(obj, types.FunctionType)


def _parts(fn):
    return fn.__code__, fn.__defaults__, fn.__kwdefaults__


def _ipython_shell():
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - always there in a Jupyter kernel
        return None
    return get_ipython()


def _shell_record(shell):
    if shell is None:
        return None
    classes = []
    for cls in type(shell).__mro__:
        classes.append((cls, {k: v for k, v in vars(cls).items() if _is_function(v)}))
    return {
        "shell": shell,
        "classes": classes,
        "instance": {k for k, v in vars(shell).items() if callable(v)},
        "lists": {name: list(getattr(shell, name)) for name in
                  ("input_transformers_cleanup", "input_transformers_post", "ast_transformers")
                  if isinstance(getattr(shell, name, None), list)},
        "manager": getattr(shell, "input_transformer_manager", None),
    }


def install():
    """Record the pristine grading environment; call once, before any notebook cell runs."""
    import numpy  # noqa: F401  (recorded below)

    import autograder.checks  # noqa: F401  (the notebooks import it in their first cell anyway)

    modules, functions = [], []
    for name, module in sorted(sys.modules.items()):
        if module is None or not _ours(name, _PACKAGES):
            continue
        modules.append((name, module, {k: v for k, v in vars(module).items()
                                       if callable(v) or isinstance(v, types.ModuleType)}))
        if _ours(name, _OWN_PACKAGES):
            for obj in list(vars(module).values()):
                members = [obj] if _is_function(obj) else (
                    [m.__func__ if isinstance(m, (staticmethod, classmethod)) else m for m in vars(obj).values()]
                    if isinstance(obj, type) else [])
                for fn in members:
                    if _is_function(fn) and getattr(fn, "__module__", None) == name:
                        functions.append((fn, _parts(fn)))
    _state.update(
        modules=modules,
        functions=functions,
        builtins=dict(vars(builtins)),
        shell=_shell_record(_ipython_shell()),
        trace=sys.gettrace(),
        names={},
    )
    return "installed"


def record_names(names):
    """Record the notebook names a read-only cell just bound to a module or a grading object."""
    shell = _ipython_shell()
    namespace = shell.user_ns if shell is not None else {}
    for name in names:
        if name in namespace and name not in _state["names"] and _protected(namespace[name]):
            _state["names"][name] = namespace[name]
    return json.dumps(sorted(_state["names"]))


def _protected(obj):
    """Modules (``np``, ``plt``, ``checks``) and the grader's own objects; not the core's functions
    (``init_params``, ``train``...): a student may redefine those for an experiment of their own."""
    if isinstance(obj, types.ModuleType):
        return True
    module = getattr(obj, "__module__", None)
    return isinstance(module, str) and _ours(module, ("autograder",)) and callable(obj)


def verify():
    """Return (as JSON) what was changed since ``install``, after putting it back."""
    if not _state:
        return json.dumps(["the grading guard was not installed"])
    changes = []
    for name, module, record in _state["modules"]:
        if sys.modules.get(name) is not module:
            changes.append(f"sys.modules[{name!r}]")
            sys.modules[name] = module
        current = vars(module)
        for key, obj in record.items():
            if current.get(key, _MISSING) is not obj:
                changes.append(f"{name}.{key}")
                setattr(module, key, obj)
    for fn, parts in _state["functions"]:
        if _parts(fn) != parts:
            changes.append(f"{fn.__module__}.{fn.__qualname__} (code)")
            fn.__code__, fn.__defaults__, fn.__kwdefaults__ = parts
    current = vars(builtins)
    for key, obj in _state["builtins"].items():
        if current.get(key, _MISSING) is not obj:
            changes.append(f"builtins.{key}")
            current[key] = obj
    changes += _verify_shell(_state["shell"])
    if sys.gettrace() is not _state["trace"]:
        changes.append("sys.settrace")
        sys.settrace(_state["trace"])
    shell = _ipython_shell()
    if shell is not None:
        for key, obj in _state["names"].items():
            if shell.user_ns.get(key, _MISSING) is not obj:
                changes.append(f"the notebook name {key!r}")
                shell.user_ns[key] = obj
    return json.dumps(changes)


def last_failure(ename, evalue):
    """The ``diagnosis`` record (JSON) of the error the test cell just raised, or ``null``.

    IPython keeps the cell's uncaught exception in ``sys.last_value``; it counts only when it is the error
    the cell's output shows (same type name, same message). It is cleared, so a later cell never reuses it.
    """
    error = getattr(sys, "last_value", None)
    sys.last_value = None
    if error is None or type(error).__name__ != ename or str(error) != evalue:
        return json.dumps(None)
    found = getattr(error, "diagnosis", None)
    return json.dumps(found if isinstance(found, dict) else None, ensure_ascii=False)


def _verify_shell(record):
    if record is None:
        return []
    changes, shell = [], record["shell"]
    for cls, methods in record["classes"]:
        for key, fn in methods.items():
            if vars(cls).get(key, _MISSING) is not fn:
                changes.append(f"IPython {cls.__name__}.{key}")
                setattr(cls, key, fn)
    for key in [k for k, v in vars(shell).items() if callable(v) and k not in record["instance"]]:
        changes.append(f"IPython shell.{key}")
        delattr(shell, key)
    for name, items in record["lists"].items():
        current = getattr(shell, name, None)
        if not isinstance(current, list) or len(current) != len(items) or any(a is not b for a, b in zip(current, items)):
            changes.append(f"IPython shell.{name}")
            setattr(shell, name, list(items))
    if getattr(shell, "input_transformer_manager", None) is not record["manager"]:
        changes.append("IPython shell.input_transformer_manager")
        shell.input_transformer_manager = record["manager"]
    return changes


_MISSING = object()
