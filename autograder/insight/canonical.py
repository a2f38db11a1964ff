"""Answer cells in canonical form: the program, not how it is written (used by ``similarity``).

``canonical(source, starter, functions)`` parses a cell and brings it to one form: comments, blank lines,
spacing, IPython magics, docstrings and other bare constant statements, ``pass``, imports, type annotations,
``return None`` written as ``return`` and a final bare ``return`` are dropped; the starter's statements are
removed; within each block, statements that do not depend on each other are put in one canonical order (a
topological sort of their name dependencies that always takes the smallest ready statement, compared with
local names erased); every name the cell binds is renamed by order of first appearance. It returns the
canonical dump, its tokens and the size of what the student wrote. ``similarity``'s docstring gives the limits.
"""

import ast
import re

_MAGIC = re.compile(r"^\s*[%!]")

#: Fields left out of the canonical dump: they carry no meaning of their own.
_SKIP = frozenset({"ctx", "type_comment", "kind", "type_ignores"})

#: Fields that hold a name the cell may bind, by node type.
_IDENTS = {
    ast.Name: "id", ast.arg: "arg", ast.FunctionDef: "name", ast.AsyncFunctionDef: "name",
    ast.ClassDef: "name", ast.ExceptHandler: "name", ast.Global: "names", ast.Nonlocal: "names",
    ast.MatchAs: "name", ast.MatchStar: "name",
}

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef,
           ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_COMPS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)

#: Statements that never move: control flow, and whatever raises or leaves the block.
_BARRIERS = (ast.Return, ast.Raise, ast.Break, ast.Continue, ast.If, ast.For, ast.AsyncFor,
             ast.While, ast.Try, ast.TryStar, ast.With, ast.AsyncWith, ast.Match, ast.Assert,
             ast.Global, ast.Nonlocal, ast.ClassDef)
_BARRIER_PARTS = (ast.Yield, ast.YieldFrom, ast.Await, ast.Global, ast.Nonlocal)

#: Calls that neither mutate their arguments nor touch outside state.
_PURE_BUILTINS = frozenset({
    "abs", "all", "any", "bool", "dict", "divmod", "enumerate", "float", "int", "isinstance",
    "len", "list", "max", "min", "range", "reversed", "round", "set", "sorted", "str", "sum",
    "tuple", "zip",
})
_PURE_METHODS = frozenset({
    "all", "any", "argmax", "argmin", "astype", "copy", "cumsum", "dot", "flatten", "item",
    "max", "mean", "min", "prod", "ravel", "reshape", "round", "squeeze", "std", "sum",
    "tolist", "transpose", "var",
})
#: Methods of lists, dicts, sets and arrays that change only the object they are called on.
_MUTATING_METHODS = frozenset({
    "add", "append", "clear", "extend", "fill", "insert", "pop", "remove", "reverse",
    "setdefault", "sort", "update",
})
_NUMPY = frozenset({"np", "numpy"})
_CALLS = "<calls>"


def canonical(source, starter="", functions=None):
    """The canonical form of a cell: ``(dump, tokens, size)``, or None.

    Parameters
    ----------
    source, starter : str, the cell and the release's version of it
    functions : set of str or None, keep only the top-level definitions of these functions

    Returns
    -------
    (str, tuple of str, int) or None
        None when ``source`` does not parse (or nests too deeply) or holds nothing once the starter is removed.

    Raises
    ------
    ValueError
        If the starter code itself does not parse.
    """
    tree = _parse(source)
    if tree is None:
        return None
    base = _parse(starter)
    if base is None:
        raise ValueError("起始代码无法解析，请检查发布版的单元格。"
                         " The starter code does not parse: check the release cell.")
    try:
        return _canonical(tree, base, functions)
    except RecursionError:
        return None


# --- parsing and cleaning ---------------------------------------------------

def _parse(source):
    """The module tree of ``source``, magic lines blanked if it needs that, or None if it does not parse."""
    for attempt in (source, "\n".join("" if _MAGIC.match(line) else line for line in source.splitlines())):
        try:
            return ast.parse(attempt)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    return None


class _Cleaner(ast.NodeTransformer):
    """Drop what does not change the program: docstrings, ``pass``, imports, annotations."""

    def visit_Expr(self, node):
        return None if isinstance(node.value, ast.Constant) else self.generic_visit(node)

    def visit_Pass(self, node):
        return None

    def visit_Import(self, node):
        return None

    visit_ImportFrom = visit_Import

    def visit_AnnAssign(self, node):
        if node.value is None:
            return None
        return self.generic_visit(ast.Assign(targets=[node.target], value=node.value))

    def visit_arg(self, node):
        node.annotation = None
        return node

    def visit_Return(self, node):
        if isinstance(node.value, ast.Constant) and node.value.value is None:
            node.value = None
        return self.generic_visit(node)

    def visit_FunctionDef(self, node):
        node.returns = None
        self.generic_visit(node)
        while node.body and isinstance(node.body[-1], ast.Return) and node.body[-1].value is None:
            node.body.pop()
        return node

    visit_AsyncFunctionDef = visit_FunctionDef


def _canonical(tree, base, functions):
    """``canonical`` on parsed trees."""
    for t in (tree, base):
        _Cleaner().visit(t)
        if functions is not None:
            t.body = [s for s in t.body if isinstance(s, _DEFS) and s.name in functions]
    size = _remove_starter(tree, base)
    if not tree.body:
        return None
    _Scopes(tree).rename(unique=True)
    _order(tree, {}, _bound_names(tree))
    _Scopes(tree).rename()
    return _dump(tree), tuple(_tokens(tree)), size


def _remove_starter(tree, base):
    """Remove the starter's statements from ``tree``; return the size of what the student wrote.

    A top-level function counts its body only: the ``def`` line is the
    handout's API, the same in every notebook, so it is no evidence, and the
    size does not depend on whether the release held it.
    """
    given = {_dump(s) for s in base.body}
    bodies = {s.name: {_dump(b) for b in s.body} for s in base.body if isinstance(s, _DEFS)}
    kept, size = [], 0
    for stmt in tree.body:
        if _dump(stmt) in given:
            continue
        if isinstance(stmt, _DEFS):
            stmt.body = [b for b in stmt.body if _dump(b) not in bodies.get(stmt.name, ())]
            if not stmt.body:
                continue
            size += sum(_count(b) for b in stmt.body)
        else:
            size += _count(stmt)
        kept.append(stmt)
    tree.body = kept
    return size


def _count(node):
    """Number of AST nodes under ``node``, ``Load``/``Store``/``Del`` markers not counted."""
    return sum(not isinstance(n, ast.expr_context) for n in ast.walk(node))


# --- canonical dump ---------------------------------------------------------

def _dump(node, label=None):
    """Unambiguous text of a tree: fields named, empty ones omitted; ``label`` maps bound names."""
    if isinstance(node, list):
        return "[" + ", ".join(_dump(item, label) for item in node) + "]"
    if not isinstance(node, ast.AST):
        return repr(node)
    parts = []
    for name, value in _fields(node, label):
        parts.append(f"{name}={_dump(value, label)}")
    return f"{type(node).__name__}({', '.join(parts)})"


def _tokens(node):
    """Node types and leaf values of a tree in dump order."""
    if isinstance(node, list):
        for item in node:
            yield from _tokens(item)
    elif isinstance(node, ast.AST):
        yield type(node).__name__
        for _, value in _fields(node, None):
            yield from _tokens(value)
    else:
        yield repr(node)


def _fields(node, label):
    """The (name, value) pairs a dump shows, with the identifier field passed through ``label``."""
    ident = _IDENTS.get(type(node))
    for name in node._fields:
        value = getattr(node, name, None)
        if name in _SKIP or value is None or (isinstance(value, list) and not value):
            continue
        if label is not None and name == ident:
            value = [label(v) for v in value] if isinstance(value, list) else label(value)
        yield name, value


# --- canonical statement order ----------------------------------------------

def _bound_names(tree):
    """Every name the cell binds anywhere: assigned, a parameter, a def, an ``except ... as``."""
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Load):
                bound.add(node.id)
        elif not isinstance(node, ast.Global | ast.Nonlocal) and getattr(node, _IDENTS.get(type(node), ""), None):
            bound.add(getattr(node, _IDENTS[type(node)]))
    return bound


def _params(args):
    """Positional labels for a function's parameters: rename-independent names for sort keys."""
    every = args.posonlyargs + args.args + [args.vararg] + args.kwonlyargs + [args.kwarg]
    return {a.arg: f"<a{i}>" for i, a in enumerate(every) if a is not None}


def _order(node, params, bound):
    """Put every block under ``node`` in canonical order, innermost blocks first."""
    if isinstance(node, _DEFS):
        params = _params(node.args)
    for child in ast.iter_child_nodes(node):
        _order(child, params, bound)
    for name in ("body", "orelse", "finalbody"):
        block = getattr(node, name, None)
        if isinstance(block, list) and block and isinstance(block[0], ast.stmt):
            setattr(node, name, _order_block(block, params, bound))


def _order_block(block, params, bound):
    """The block with each run of movable statements sorted; barriers stay where they are."""
    closures = _def_closures(block)
    out, run = [], []
    for stmt in block:
        if _is_barrier(stmt):
            out += _sort_run(run, block, params, bound, closures) + [stmt]
            run = []
        else:
            run.append(stmt)
    return out + _sort_run(run, block, params, bound, closures)


def _sort_run(run, block, params, bound, closures):
    """Topological sort of ``run`` that always takes the ready statement with the smallest key.

    The key is the statement's dump with local names erased (parameters by
    position), then, to break ties, the dumps of the block's statements that
    use the names it writes, with those names marked.
    """
    access = [_access(s, bound, closures) for s in run]
    before = [{i for i in range(j) if _conflict(access[i], access[j])} for j in range(len(run))]
    erase = _labeller(params, bound, ())
    primary = [_dump(s, erase) for s in run]
    done, out = set(), []
    while len(out) < len(run):
        ready = [i for i in range(len(run)) if i not in done and before[i] <= done]
        least = min(primary[i] for i in ready)
        tied = [i for i in ready if primary[i] == least]
        pick = tied[0] if len(tied) == 1 else min(
            tied, key=lambda i: (_uses(run[i], access[i][1], block, params, bound), i))
        done.add(pick)
        out.append(run[pick])
    return out


def _uses(stmt, writes, block, params, bound):
    """Sorted dumps of the other statements of the block that read ``writes``, those names marked."""
    mark = _labeller(params, bound, writes)
    return tuple(sorted(_dump(t, mark) for t in block
                        if t is not stmt and writes & {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}))


def _labeller(params, bound, marked):
    """Name labels for sort keys: marked names '@', parameters by position, other bound names '?'."""
    def label(name):
        if name in marked:
            return "@"
        return params.get(name, "?" if name in bound else name)
    return label


def _is_barrier(stmt):
    """Does the statement keep its place: control flow, leaving the block, or scope declarations?"""
    return isinstance(stmt, _BARRIERS) or any(isinstance(n, _BARRIER_PARTS) for n in ast.walk(stmt))


def _conflict(first, second):
    """Must these two (reads, writes) pairs keep their order: read-write, write-read or write-write?"""
    (r1, w1), (r2, w2) = first, second
    return bool(w1 & (r2 | w2) or r1 & w2)


def _access(stmt, bound, closures):
    """Names a movable statement reads and writes.

    A ``def`` only binds its name (its body runs when called); a statement
    that names a function defined in the block reads and writes every free
    name of that function. Subscript and attribute assignment write the base
    name; ``lst.append(x)`` and the like write ``lst``; any other call but
    numpy's and pure builtins' writes the names passed to it, the object
    whose method it is, and the pseudo-name ``<calls>``, so such calls keep
    their order among themselves.
    """
    if isinstance(stmt, _DEFS):
        outer = stmt.decorator_list + stmt.args.defaults + [d for d in stmt.args.kw_defaults if d]
        return {n.id for e in outer for n in ast.walk(e) if isinstance(n, ast.Name)}, {stmt.name}
    reads, writes = set(), set()
    for node in ast.walk(stmt):
        if isinstance(node, ast.Name):
            (reads if isinstance(node.ctx, ast.Load) else writes).add(node.id)
        elif isinstance(node, ast.Attribute | ast.Subscript) and not isinstance(node.ctx, ast.Load):
            writes |= _root(node)
        elif isinstance(node, ast.AugAssign):
            reads |= _root(node.target)
        elif isinstance(node, ast.Call):
            writes |= _call_writes(node, bound)
    for name in reads & closures.keys():
        reads |= closures[name]
        writes |= closures[name]
    reads |= writes & {_CALLS}
    return reads, writes


def _call_writes(call, bound):
    """Names a call may change: ``out=`` arrays always; the receiver of ``append`` and the like;
    the arguments, the receiver and ``<calls>`` for any other call that is not pure."""
    writes = {n.id for k in call.keywords if k.arg == "out" for n in ast.walk(k.value) if isinstance(n, ast.Name)}
    if _pure(call.func, bound):
        return writes
    if isinstance(call.func, ast.Attribute) and call.func.attr in _MUTATING_METHODS:
        return writes | _root(call.func.value)
    args = call.args + [k.value for k in call.keywords]
    writes |= {a.id for a in args if isinstance(a, ast.Name)} | {_CALLS}
    if isinstance(call.func, ast.Attribute):
        writes |= _root(call.func.value)
    return writes


def _pure(func, bound):
    """Is ``func`` a numpy function (not ``np.random``), a pure builtin or a pure array method?"""
    if isinstance(func, ast.Name):
        return func.id in _PURE_BUILTINS and func.id not in bound
    if not isinstance(func, ast.Attribute):
        return False
    if func.attr in _PURE_METHODS:
        return True
    chain = [func.attr]
    while isinstance(func.value, ast.Attribute):
        func = func.value
        chain.append(func.attr)
    root = func.value
    return isinstance(root, ast.Name) and root.id in _NUMPY and root.id not in bound and "random" not in chain


def _root(node):
    """The name at the base of ``a.b[i].c``, as a set (empty when the base is not a name)."""
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Starred):
        node = node.value
    return {node.id} if isinstance(node, ast.Name) else set()


def _def_closures(block):
    """For each function defined in the block, the free names it uses, through the block's other defs."""
    free = {}
    for stmt in block:
        if isinstance(stmt, _DEFS):
            local = set(_params(stmt.args)) | {n.id for n in ast.walk(stmt)
                                               if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
            free[stmt.name] = {n.id for n in ast.walk(stmt) if isinstance(n, ast.Name)} - local
    changed = True
    while changed:
        changed = False
        for name, names in free.items():
            more = set().union(*(free[f] for f in names & free.keys())) - names
            if more:
                names |= more
                changed = True
    return free


# --- renaming ---------------------------------------------------------------

class _Scopes:
    """Which scope binds each name of a cell, and the renaming by order of first appearance."""

    def __init__(self, tree):
        self.module = tree
        self.local = {tree: set()}
        self.parent = {tree: None}
        self.declared = {}
        self.seen = []
        self._scan(tree, tree)

    def rename(self, unique=False):
        """Rename every bound name to ``$k``, k counting identities in order of first appearance.

        With ``unique``, to ``name@k`` instead, k numbering scopes: that only
        takes shadowing away, so that a name means one variable in the whole cell.
        """
        scopes = {scope: i for i, scope in enumerate(self.local)}
        names = {}
        for node, scope, index in self.seen:
            field_name = _IDENTS[type(node)]
            value = getattr(node, field_name)
            old = value[index] if index is not None else value
            home = self._resolve(scope, old)
            if home is None:
                continue
            new = names.setdefault((home, old), f"{old}@{scopes[home]}" if unique else f"${len(names)}")
            if index is None:
                setattr(node, field_name, new)
            else:
                value[index] = new

    def _scan(self, node, scope):
        """Record binding and use of names under ``node``, in source order, ``scope`` enclosing it."""
        if isinstance(node, _SCOPES):
            return self._scan_scope(node, scope)
        if isinstance(node, ast.Global | ast.Nonlocal):
            kind = "global" if isinstance(node, ast.Global) else "nonlocal"
            for i, name in enumerate(node.names):
                self.declared.setdefault(scope, {})[name] = kind
                self.seen.append((node, scope, i))
            return
        if isinstance(node, ast.NamedExpr):
            self._bind(self._function_scope(scope), node.target.id)
            self.seen.append((node.target, self._function_scope(scope), None))
            return self._scan(node.value, scope)
        ident = _IDENTS.get(type(node))
        if ident and getattr(node, ident):
            if not (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)):
                self._bind(scope, getattr(node, ident))
            self.seen.append((node, scope, None))
        for child in ast.iter_child_nodes(node):
            self._scan(child, scope)

    def _scan_scope(self, node, scope):
        """Scan a function, lambda, class or comprehension: outer parts in ``scope``, the rest inside."""
        inner = node
        self.local[inner], self.parent[inner] = set(), scope
        if isinstance(node, _COMPS):
            self._scan(node.generators[0].iter, scope)
            for i, gen in enumerate(node.generators):
                for part in [gen.target] + ([gen.iter] if i else []) + gen.ifs:
                    self._scan(part, inner)
            for name in ("elt", "key", "value"):
                if getattr(node, name, None) is not None:
                    self._scan(getattr(node, name), inner)
            return
        if not isinstance(node, ast.Lambda):
            self._bind(scope, node.name)
            self.seen.append((node, scope, None))
        outer = list(getattr(node, "decorator_list", []))
        if isinstance(node, ast.ClassDef):
            outer += node.bases + [k.value for k in node.keywords]
        else:
            outer += node.args.defaults + [d for d in node.args.kw_defaults if d is not None]
        for part in outer:
            self._scan(part, scope)
        if not isinstance(node, ast.ClassDef):
            for a in node.args.posonlyargs + node.args.args + [node.args.vararg] \
                    + node.args.kwonlyargs + [node.args.kwarg]:
                if a is not None:
                    self._scan(a, inner)
        for part in node.body if isinstance(node.body, list) else [node.body]:
            self._scan(part, inner)

    def _bind(self, scope, name):
        """Note that ``name`` is bound in ``scope`` (or the module, if declared global there)."""
        kind = self.declared.get(scope, {}).get(name)
        if kind == "global":
            self.local[self.module].add(name)
        elif kind is None:
            self.local[scope].add(name)

    def _function_scope(self, scope):
        """The nearest scope that is not a comprehension (where a walrus binds)."""
        while isinstance(scope, _COMPS):
            scope = self.parent[scope]
        return scope

    def _resolve(self, scope, name):
        """The scope whose ``name`` this is, or None for a name the cell does not bind."""
        start = scope
        while scope is not None:
            if self.declared.get(scope, {}).get(name) == "global":
                return self.module if name in self.local[self.module] else None
            skip = isinstance(scope, ast.ClassDef) and scope is not start
            if not skip and name in self.local[scope]:
                return scope
            scope = self.parent[scope]
        return None
