"""Read a student's code (without running it) for what tampering with grading needs.

The grading guard (``autograder.sandbox.guard``) puts back what student code changes
at run time, but it runs in the student's process. This scan looks at the
submitted source for the constructs such code needs: rebinding ``np`` or
``checks``, assigning attributes of numpy, the grader, ``sys`` or IPython,
reaching frames, code objects or ``sys.modules``, swallowing
``KeyboardInterrupt``, shell escapes. A finding does not cost points by
itself: it is shown to the instructor as "needs attention".

Honest answers (plain numpy functions, ``np.random.seed``, ``%timeit``)
give no finding.
"""

import ast
import re

#: Names a student cell must not rebind.
PROTECTED_NAMES = {"np", "numpy", "checks", "autograder", "get_ipython", "__builtins__", "__import__",
                   "reludrop_core"}
#: Modules whose attributes a student cell must not assign.
PROTECTED_ROOTS = {"np", "numpy", "checks", "autograder", "sys", "builtins", "__builtins__", "reludrop_core",
                   "IPython", "warnings"}
#: Modules an answer has no business importing.
SUSPICIOUS_MODULES = {"builtins", "ctypes", "gc", "importlib", "signal", "faulthandler", "autograder.guard",
                      "autograder.sandbox.guard"}
#: Attributes that reach into the interpreter or IPython.
SUSPICIOUS_ATTRIBUTES = {
    "showtraceback", "_showtraceback", "input_transformers_post", "input_transformers_cleanup",
    "ast_transformers", "input_transformer_manager", "run_cell", "run_cell_async", "user_ns", "user_global_ns",
    "__code__", "__globals__", "__closure__", "cell_contents", "f_globals", "f_locals", "f_back", "f_lineno",
    "__kwdefaults__", "__defaults__", "settrace", "setprofile", "_getframe", "excepthook", "modules", "_exit",
}
SUSPICIOUS_CALLS = {"setattr", "delattr", "exec", "eval", "compile", "__import__"}
_MAGIC = re.compile(r"^\s*%")


def scan(source):
    """Return a list of findings (short English phrases) for one cell's source; empty when nothing is suspicious."""
    findings = []
    python_lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("!"):
            findings.append(f"shell command: {stripped[:60]}")
            python_lines.append("")
        elif _MAGIC.match(line):
            python_lines.append("")           # %timeit, %matplotlib...: IPython's own, harmless
        else:
            python_lines.append(line)
    try:
        tree = ast.parse("\n".join(python_lines))
    except SyntaxError:
        return findings                       # the kernel reports it; nothing to read
    for node in ast.walk(tree):
        findings += _node_findings(node)
    return sorted(set(findings))


def _root(node):
    """The name at the root of ``a.b[c].d`` (or ``get_ipython`` for ``get_ipython().x``), else None."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    if isinstance(node, ast.Call):
        node = node.func
        return node.id if isinstance(node, ast.Name) and node.id in {"get_ipython", "globals", "vars"} else None
    return node.id if isinstance(node, ast.Name) else None


def _targets(node):
    if isinstance(node, (ast.Assign,)):
        return node.targets
    if isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.NamedExpr)):
        return [node.target]
    if isinstance(node, ast.Delete):
        return node.targets
    if isinstance(node, (ast.For, ast.AsyncFor)):
        return [node.target]
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return [item.optional_vars for item in node.items if item.optional_vars is not None]
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [ast.Name(id=node.name)]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return [ast.Name(id=(alias.asname or alias.name).split(".")[0]) for alias in node.names]
    return []


def _flatten(target):
    if isinstance(target, (ast.Tuple, ast.List)):
        for elt in target.elts:
            yield from _flatten(elt)
    elif isinstance(target, ast.Starred):
        yield from _flatten(target.value)
    else:
        yield target


def _node_findings(node):
    found = []
    for target in _targets(node):
        for t in _flatten(target):
            if isinstance(t, ast.Name) and t.id in PROTECTED_NAMES and not _imports_itself(node, t.id):
                found.append(f"rebinds {t.id}")
            elif isinstance(t, (ast.Attribute, ast.Subscript)):
                root = _root(t)
                if root in PROTECTED_ROOTS or root in {"get_ipython", "globals", "vars"}:
                    found.append(f"assigns {ast.unparse(t)[:60]}")
    if isinstance(node, ast.Import):
        found += [f"imports {a.name}" for a in node.names if a.name in SUSPICIOUS_MODULES]
    elif isinstance(node, ast.ImportFrom) and node.module:
        if node.module in SUSPICIOUS_MODULES or node.module.startswith("autograder.") \
                or any(a.name.startswith("_") for a in node.names if node.module.startswith("autograder")):
            found.append(f"imports from {node.module}")
    elif isinstance(node, ast.Attribute) and node.attr in SUSPICIOUS_ATTRIBUTES:
        if not (node.attr == "modules" and _root(node) != "sys"):
            found.append(f"uses .{node.attr}")
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in SUSPICIOUS_CALLS:
        found.append(f"calls {node.func.id}()")
    elif isinstance(node, ast.Name) and node.id in {"get_ipython", "__builtins__"} and isinstance(node.ctx, ast.Load):
        found.append(f"uses {node.id}")
    elif isinstance(node, ast.ExceptHandler) and node.type is not None:
        caught = {n.id for n in ast.walk(node.type) if isinstance(n, ast.Name)}
        for name in sorted(caught & {"KeyboardInterrupt", "BaseException", "SystemExit"}):
            found.append(f"catches {name}")
    return found


def _imports_itself(node, name):
    """``import numpy as np`` / ``from autograder import checks`` bind the real thing: not a rebinding."""
    if isinstance(node, ast.Import):
        return any((a.asname or a.name.split(".")[0]) == name and a.name in {"numpy", "autograder", "reludrop_core"}
                   and (a.asname in (None, "np") if a.name == "numpy" else a.asname is None) for a in node.names)
    if isinstance(node, ast.ImportFrom):
        return node.module == "autograder" and any(a.name == "checks" and a.asname in (None, "checks")
                                                   for a in node.names)
    return False
