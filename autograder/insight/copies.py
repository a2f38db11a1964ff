"""Answer cells that look copied: the same code in two or more students' notebooks, or the instructor's.

Each answer cell is compared in canonical form (``similarity.normalise``: names, comments, spacing,
docstrings and the order of independent statements do not count), after removing the starter code the
release already held. Only cells with enough code of the student's own to be telling count
(``similarity.MIN_SIZE``), so the short obvious answers many honest students share are never flagged.
A flag is for the instructor to review, side by side: never a grade.
"""

import ast
import functools
import pathlib

import reludrop_core

from ..kit.rules import IMPLEMENTS
from . import similarity

#: Cells longer than this are not compared (a pasted data dump is no answer to compare).
MAX_SOURCE = 100_000


def normalised(source, starter="", functions=None):
    """``similarity.normalise`` that never fails on a hostile cell: None when it cannot be read."""
    if not isinstance(source, str) or len(source) > MAX_SOURCE:
        return None
    return _normalised(source, starter, frozenset(functions) if functions is not None else None)


@functools.lru_cache(maxsize=4096)
def _normalised(source, starter, functions):
    """Cached: the students who hand in the very same cell (often the reference itself) cost one parse."""
    try:
        return similarity.normalise(source, starter, functions)
    except (RecursionError, MemoryError, ValueError, TypeError):
        return None


def core_references(function, package=reludrop_core):
    """The course package's implementations of ``function`` (its ``IMPLEMENTS`` helpers), as sources of one
    ``def function(...)`` each."""
    names = set(IMPLEMENTS.get(function, (function,)))
    found = []
    for path in sorted(pathlib.Path(package.__file__).parent.glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and node.name in names:
                name, node.name = f"{package.__name__}.{path.stem}.{node.name}", function
                found.append((name, ast.unparse(node)))
    return found


def similar(assignment, function, sources, starter, reference, threshold=None, min_size=None):
    """The flags for one graded function.

    Parameters
    ----------
    assignment, function : str
    sources : dict student -> the answer cell as submitted
    starter : str, the release's version of the cell
    reference : list of (name, source): the solution cell and the package's implementations
    threshold : float, lowest similarity flagged (default ``similarity.NEAR``)
    min_size : int, smallest cell compared (default ``similarity.MIN_SIZE``)

    Returns
    -------
    list of dict: assignment, function, students, kind ("identical": students alike; "reference": students
    alike the instructor's, one entry per reference and score), score, and for "reference" the reference's name
    """
    threshold = similarity.NEAR if threshold is None else threshold
    min_size = similarity.MIN_SIZE if min_size is None else min_size
    whole = {s: normalised(src, starter) for s, src in sources.items()}
    out = [{"assignment": assignment, "function": function, "students": list(students), "kind": "identical",
            "score": score}
           for students, score in similarity.groups(whole, min_size=min_size, threshold=threshold)]
    own = {s: normalised(src, starter, {function}) for s, src in sources.items()}
    refs = [(name, normalised(src, starter, {function})) for name, src in reference]
    refs = [(name, n) for name, n in refs if n is not None]
    matched = {}
    for student, score in similarity.against_reference(own, [n for _, n in refs], min_size=min_size,
                                                       threshold=threshold):
        best = next((name for name, n in refs if n.key == own[student].key), None) or \
            max(refs, key=lambda r: similarity.similarity(own[student], r[1]))[0]
        matched.setdefault((best, score), []).append(student)
    # Students alike because each has the reference are one finding, not two.
    same_as_reference = {s for (_, score), students in matched.items() if score == 1.0 for s in students}
    out = [f for f in out if not (f["score"] == 1.0 and set(f["students"]) <= same_as_reference)]
    out += [{"assignment": assignment, "function": function, "students": sorted(students), "kind": "reference",
             "score": score, "reference": best} for (best, score), students in matched.items()]
    return out
