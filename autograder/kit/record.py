"""The visible checks of one assignment, recorded as data for its student kit.

For every visible check call in the release notebook's test cells (``checks.check_backprop(backprop,
globals(), activation="sigmoid", ratio=0.2)``), ``autograder.checks.recording`` runs the reference
answers (the solution cells of ``solutions/``, in a notebook-like namespace) and every catalogued
student implementation of that function (``autograder.variants``) on the visible cases. The result,
encoded by ``runtime.codec``, is the kit's ``visible_cases.json``: cases, expected values, the
stand-ins' recorded answers, the grader's messages. No code of the reference goes into it.
"""

import ast
import builtins
import inspect
import json

from .. import checks, variants
from ..checks import recording
from . import rules
from . import codec

_FLAVOUR = ("hidden", "seed")


def visible_calls(assignment, root=rules.ROOT):
    """The (name, options) of every visible check call in the release notebook's test cells, in order."""
    nb = json.loads(rules.release_notebook(assignment, root).read_text(encoding="utf-8"))
    calls = []
    for cell in nb["cells"]:
        if cell["cell_type"] != "code" or not cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            continue
        for node in ast.walk(ast.parse(_python("".join(cell["source"])))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "checks"
                    and node.func.attr.startswith("check_")):
                options = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
                call = (node.func.attr[len("check_"):], options)
                if call not in calls:
                    calls.append(call)
    return calls


def _python(source):
    """A notebook cell's source without its IPython lines (%magic, !shell)."""
    return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))


def defaults(name):
    """The options of ``checks.check_<name>`` and their defaults (activation=..., ratio=...)."""
    sig = inspect.signature(getattr(checks, f"check_{name}"))
    return {p.name: p.default for p in sig.parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name not in _FLAVOUR}


def reference_namespace(assignment, root=rules.ROOT):
    """A notebook's globals() holding the reference answers: the imports cell, then every solution cell and
    every read-only cell that defines a function (``train`` in 03), as the source notebook has them."""
    nb = json.loads(rules.source_notebook(assignment, root).read_text(encoding="utf-8"))
    ns = {"__name__": "__main__", "__builtins__": builtins}
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        source = _python("".join(cell["source"]))
        if cell["cell_type"] != "code" or meta.get("grade") or "demo-only" in cell.get("metadata", {}).get("tags", []):
            continue
        if meta.get("grade_id") == "imports" or meta.get("solution") or (meta.get("locked") and "def " in source):
            exec(compile(source, f"<{assignment}:{meta.get('grade_id', 'cell')}>", "exec"), ns)
    return ns


def _same_options(name, a, b):
    base = defaults(name)
    return dict(base, **a) == dict(base, **b)


def implementations(assignment, name, options, root=rules.ROOT):
    """[(label, function, namespace)]: the reference answer first, then the catalogue's implementations."""
    ns = reference_namespace(assignment, root)
    found = [("reference", ns[name], ns)]
    for v in variants.load():
        if v.check == name and _same_options(name, v.options, options):
            vns, fn = v.notebook()
            found.append((v.id, fn, vns))
    return found


def record_assignment(assignment, root=rules.ROOT):
    """The kit's visible_cases.json content (a JSON-ready dict) for ``assignment``."""
    calls = []
    for name, options in visible_calls(assignment, root):
        data = recording.record(name, options, implementations(assignment, name, options, root),
                                getattr(checks, f"check_{name}"))
        calls.append({"name": name, "options": options, **data})
    return {"version": 1, "assignment": assignment,
            "defaults": {name: defaults(name) for name, _ in visible_calls(assignment, root)},
            "calls": codec.encode(calls)}


def summary(data):
    """{name: (cases, recorded mistakes)} of a recorded assignment, for the builder's report."""
    out = {}
    for call in data["calls"]:
        call = codec.decode(call)
        out[call["name"]] = (len(call["cases"]), len(call["mistakes"]))
    return out

