"""Copy detection for answer cells: compare normalised syntax trees, not text.

Each answer cell is parsed and brought to a canonical form, so that two cells
that differ only in how they are written get the same ``key``:

- comments, blank lines, spacing, IPython magics (``%timeit``, ``!ls``),
  docstrings and other bare constant statements, ``pass``, imports, type
  annotations, ``return None`` written as ``return``, and a bare ``return``
  at the end of a function are all dropped;
- statements the release already held (the starter cell) are removed, so
  starter code never counts as evidence;
- within each block, statements that do not depend on each other are put in
  one canonical order (a topological sort of their name dependencies that
  always takes the smallest ready statement, compared with local names
  erased);
- every name the cell binds (variables, parameters, loop variables, helper
  and graded function names) is renamed by order of first appearance. Names
  the cell does not bind (``np``, ``range``, functions of other cells),
  attributes (``.shape``, ``.T``) and keyword names (``axis=``) are kept.

Equal keys therefore mean the same program up to renaming. ``similarity``
scores near-copies with ``difflib`` on the canonical token stream, and
``telling`` ignores cells too small to be evidence: many honest students
write ``return np.maximum(0, z)``.

Limits: the method does not see through inlining a helper function,
``a * b`` written as ``b * a``, ``x += 1`` against ``x = x + 1``, a ``for``
loop against a comprehension, or a renamed import alias (imports are
dropped and the names they bind kept as written). Reordering trusts a
conservative model of side effects: calls other than numpy and pure builtins
keep their order among themselves and may change the names passed to them;
a function from another cell that mutates a global behind their back is not
seen.
"""

import difflib
import hashlib
from dataclasses import dataclass, field

from .canonical import canonical

#: Smallest cell (AST nodes of the student's code, ``def`` lines and
#: ``expr_context`` markers not counted) taken as evidence. Measured:
#: ``def ReLU(z): return np.maximum(0, z)`` 6, ``(z > 0).astype(float)`` 8,
#: sigmoid and its gradient 13, a 2-line stable softmax 28, a 3-line one 29;
#: the handout's 3-line ``cost_fcn`` glue 38, a 6-line forward pass loop 38,
#: 8-line forward passes 52-78, the reference forward pass 94, a 10-line
#: backprop 123. Everything up to the plain forward loop is what many honest
#: students write alike, so the line is drawn above it: a copied 6-line loop
#: goes unflagged rather than honest students being flagged.
MIN_SIZE = 60

#: Similarity from which two telling cells are worth a look as near-copies.
#: Measured on a 10-line backprop: its disguised copy with one ``print`` added
#: scores 0.986, one constant changed 0.99, one line dropped 0.931, one
#: ``/ m`` added (the bug fixed) 0.904. Three honest forward passes (enumerate
#: loop, layer stack, explicit layers) score 0.35-0.53 against each other, and
#: a forward pass against a backprop 0.21-0.35.
NEAR = 0.9


@dataclass(frozen=True)
class Normalised:
    """A cell's code in canonical form.

    Attributes
    ----------
    key : str
        Hex SHA-256 digest of the canonical dump; equal keys mean the same
        program up to the normalisations of this module.
    tokens : tuple of str
        The canonical dump as a token stream (node types and leaf values), for ``similarity``.
    size : int
        Meaningful AST nodes of the student-written code, starter code removed.
    source : str
        The original cell source.
    """

    key: str
    tokens: tuple = field(repr=False)
    size: int
    source: str = field(repr=False)


def normalise(source, starter="", functions=None):
    """Canonical form of an answer cell.

    Parameters
    ----------
    source : str
        The student's cell.
    starter : str
        The release's version of the same cell. Its statements, normalised,
        are removed from the student's at the same nesting: top-level
        statements, and statements of a function body with the same function
        name (a provided docstring, ``m = X.shape[0]``, the
        ``raise NotImplementedError()`` stub). A function left empty is dropped.
        Normalise the references with the same starter, so that they compare.
    functions : set of str, optional
        When given, keep only the top-level function definitions of these
        names (to compare one graded function with a module holding many).

    Returns
    -------
    Normalised or None
        None when the source does not parse or holds nothing after removing
        starter code. Never raises for a student's source.

    Raises
    ------
    ValueError
        If the starter code itself does not parse.
    """
    found = canonical(source, starter, functions)
    if found is None:
        return None
    dump, tokens, size = found
    return Normalised(hashlib.sha256(dump.encode()).hexdigest(), tokens, size, source)


def similarity(a, b):
    """Score in [0, 1] between two normalised cells.

    Parameters
    ----------
    a, b : Normalised

    Returns
    -------
    float
        1.0 exactly when ``a.key == b.key``; otherwise the ``difflib``
        ratio of their tokens rounded to 3 decimals, kept strictly below 1.0.
    """
    if a.key == b.key:
        return 1.0
    return _score(difflib.SequenceMatcher(None, a.tokens, b.tokens, autojunk=False).ratio())


def telling(n, min_size=MIN_SIZE):
    """Is the cell big enough to be evidence of copying?

    Parameters
    ----------
    n : Normalised
    min_size : int

    Returns
    -------
    bool
        ``n.size >= min_size``.
    """
    return n.size >= min_size


def groups(cells, min_size=MIN_SIZE, threshold=1.0):
    """Clusters of students whose telling cells are alike.

    Parameters
    ----------
    cells : dict of student id -> Normalised or None
        None entries (blank or unparsable cells) are ignored.
    min_size : int
        Cells smaller than this are never evidence (see ``telling``).
    threshold : float
        Pairs with ``similarity >= threshold`` are linked (single linkage);
        1.0 links exact copies only, ``NEAR`` near-copies too.

    Returns
    -------
    list of (list of student id, float)
        Clusters of two or more students, sorted, with the minimum pairwise
        similarity inside the cluster; largest clusters first, then by students.
    """
    kept = {s: n for s, n in cells.items() if n is not None and telling(n, min_size)}
    students = sorted(kept)
    parent = {s: s for s in students}
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    for i, s in enumerate(students):
        matcher.set_seq2(kept[s].tokens)
        for t in students[i + 1:]:
            if _find(parent, s) != _find(parent, t) and _linked(kept[t], kept[s], matcher, threshold):
                parent[_find(parent, t)] = _find(parent, s)
    clusters = {}
    for s in students:
        clusters.setdefault(_find(parent, s), []).append(s)
    found = [(members, _min_similarity([kept[s] for s in members]))
             for members in clusters.values() if len(members) > 1]
    return sorted(found, key=lambda group: (-len(group[0]), group[0]))


def against_reference(cells, references, min_size=MIN_SIZE, threshold=1.0):
    """Students whose telling cells match a reference solution.

    Parameters
    ----------
    cells : dict of student id -> Normalised or None
    references : list of Normalised or None
        The instructor's solution cell, the course package's implementation, ...
    min_size : int
    threshold : float

    Returns
    -------
    list of (student id, float)
        Each flagged student with the best similarity to any reference,
        highest first, then by student.
    """
    refs = [r for r in references if r is not None]
    flagged = []
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    for student, n in cells.items():
        if n is None or not refs or not telling(n, min_size):
            continue
        if any(n.key == r.key for r in refs):
            flagged.append((student, 1.0))
            continue
        matcher.set_seq2(n.tokens)
        near = [r for r in refs if _linked(r, n, matcher, threshold)]
        if near:
            flagged.append((student, max(similarity(n, r) for r in near)))
    return sorted(flagged, key=lambda pair: (-pair[1], pair[0]))


def _find(parent, s):
    """Root of ``s`` in a union-find forest."""
    while parent[s] != s:
        parent[s] = parent[parent[s]]
        s = parent[s]
    return s


def _linked(a, b, matcher, threshold):
    """Is ``similarity(a, b) >= threshold``? ``matcher`` holds ``b.tokens`` as its second sequence.

    The cheap upper bounds of ``difflib`` are tried before the ratio itself.
    """
    if a.key == b.key:
        return True
    if threshold > 0.999:
        return False
    matcher.set_seq1(a.tokens)
    return all(_score(bound()) >= threshold
               for bound in (matcher.real_quick_ratio, matcher.quick_ratio, matcher.ratio))


def _score(ratio):
    """A ``difflib`` ratio as a similarity between different keys: 3 decimals, below 1.0."""
    return min(round(ratio, 3), 0.999)


def _min_similarity(members):
    """Smallest pairwise similarity among the cells of one cluster (cells with one key compared once)."""
    distinct = list({n.key: n for n in members}.values())
    least = 1.0
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    for i, b in enumerate(distinct):
        matcher.set_seq2(b.tokens)
        for a in distinct[i + 1:]:
            matcher.set_seq1(a.tokens)
            least = min(least, _score(matcher.ratio()))
    return least
