"""Demonstration-only cells: what grading may skip, and the proof that skipping changes no grade.

The instructor tags a read-only cell of a source notebook ``demo-only`` (``TAG``) when it only teaches: a
training run over several seeds, a comparison, a plot. Students run it as before. Grading does not
(``c.GradingExecute.skip_demonstrations``): its outputs in the autograded notebook and the feedback
become the one line ``NOT_RUN``.

Which cells are skipped is decided by the instructor's source notebook, never by the student's copy
(the release carries no tags, and a tag a student adds is ignored): a cell is skipped when its grade
id is one the source notebook tags, it is read-only, and it is neither an answer nor a test. Read-only
cells get their source back from the gradebook before grading, so a skipped cell is always the
instructor's code.

Skipping must change no grade, so no cell that runs may read a name whose last binding before it
comes from a skipped cell. ``dependencies`` finds every such read without running anything, by
reading each cell's code (``analyse``):

* *reads*: names a cell loads before binding them itself, including the global names its classes,
  lambdas and comprehensions load (counted where they are written); a cell that names a function
  defined in the notebook (calls it, or hands it to a check) also reads what that function's body reads,
  and so on through the functions that one names, since a function looks its globals up when it is
  called;
* *writes*: names it binds (assignment, import, ``def``, ``class``, ``for``, ``with``, ``except``,
  ``del``, ``global`` in a function), and names whose object it changes through an attribute or an
  item (``params[0] = ...``, ``plt.rcParams[...] = ...``);
* *opaque*: the cell can bind or read anything (``exec``, ``eval``, ``globals()``, a star import,
  ``%run``, ``%time``, any cell magic such as ``%%time``): it counts as reading and writing every name.
  ``globals()`` handed to a check (``checks.check_ReLU(ReLU, globals(), ...)``) is not opaque: a check
  binds its stand-ins there and puts the names back;
* numpy's global random state (``np.random.seed``, ``np.random.rand``... as opposed to a
  ``Generator``) counts as one more name, ``RANDOM_STATE``.

Reads and writes are taken in the order the code is written, so a name bound only under an ``if``
counts as bound for what follows; a method that changes its object in place (``costs.append``) is
not seen. Release refuses a notebook where the analysis finds a dependency (``check_release``); at
grading time a student's notebook where it finds one is graded with every demonstration run
(``GradingExecute``), so a student who builds on a demonstration's variables loses nothing. The
remaining gaps (in-place methods, files, an ``if``) are covered by a test that grades the whole
variant catalogue with and without skipping (tests/test_demonstrations.py).
"""

import ast
from dataclasses import dataclass, field

from IPython.core.inputtransformer2 import TransformerManager
from nbgrader import utils

#: The tag (cell metadata ``tags``) of a demonstration-only cell in a source notebook.
TAG = "demo-only"

#: What a skipped cell shows in the autograded notebook and the feedback.
NOT_RUN = ("演示单元格：评分时没有运行（不计分），你运行 notebook 时它照常运行。/ "
           "Demonstration only: not run during grading (it earns no points); it runs as usual when you run the notebook.")

#: The pseudo-name for numpy's global random state.
RANDOM_STATE = "<numpy's global random state>"

#: Calls that can read or bind any name of the notebook.
_OPAQUE_CALLS = {"exec", "eval", "globals", "locals", "vars", "__import__", "execfile", "runpy"}
#: IPython line magics that only configure (anything else may run code given as a string: ``%run``, ``%time``...).
_HARMLESS_MAGICS = {"matplotlib", "config", "precision", "pprint", "xmode"}
#: Attributes of ``np.random`` that do not touch the global state.
_RANDOM_CLASSES = {"default_rng", "Generator", "RandomState", "SeedSequence", "PCG64", "MT19937", "Philox",
                   "SFC64", "BitGenerator"}


def _is_check(func):
    """``checks.<something>``: the grading checks, which read a namespace passed to them only for their own names."""
    return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "checks"


@dataclass
class Names:
    """What one cell's code reads and binds (see the module docstring)."""
    reads: set = field(default_factory=set)
    writes: set = field(default_factory=set)
    functions: dict = field(default_factory=dict)     # name -> (global reads, global writes) of a top-level def
    opaque: str = ""                        # why the cell can touch any name ("" when it cannot)


def _parse(source):
    try:
        return ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError, MemoryError):
        return None


class _Scope(ast.NodeVisitor):
    """Reads and writes of one scope, visited in the order Python evaluates it."""

    def __init__(self, bound=(), module=False):
        self.reads, self.writes, self.mutated, self.declared_global = set(), set(bound), set(), set()
        self.module = module
        self.functions, self.lambdas = {}, []        # name -> (reads, writes) of a module-level def; lambdas seen
        self.opaque = ""

    def read(self, name):
        if name not in self.writes:
            self.reads.add(name)

    # names
    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load):
            self.read(node.id)
        else:
            self.writes.add(node.id)

    def _base(self, node):
        while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
            node = node.value
        return node.id if isinstance(node, ast.Name) else None

    def _store_into(self, node):
        """``x.a = ...`` / ``x[i] = ...`` / ``del x[i]``: x is read and its object changed."""
        self.generic_visit(node)
        base = self._base(node)
        if base is not None:
            self.mutated.add(base)

    def visit_Attribute(self, node):
        if not isinstance(node.ctx, ast.Load):
            return self._store_into(node)
        self.generic_visit(node)

    def visit_Subscript(self, node):
        if not isinstance(node.ctx, ast.Load):
            return self._store_into(node)
        self.generic_visit(node)

    # statements whose fields Python evaluates in another order than ast lists them
    def visit_Assign(self, node):
        lambdas = len(self.lambdas)
        self.visit(node.value)
        for target in node.targets:
            self.visit(target)
        if isinstance(node.value, ast.Lambda) and len(self.lambdas) > lambdas and self.module:
            for target in node.targets:
                if isinstance(target, ast.Name):
                    self.functions[target.id] = self.lambdas[lambdas]

    def visit_AugAssign(self, node):
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self.read(node.target.id)
            self.writes.add(node.target.id)
        else:
            self._store_into(node.target)

    def visit_AnnAssign(self, node):
        if node.value is not None:
            self.visit(node.value)
        self.visit(node.annotation)
        self.visit(node.target)

    def visit_NamedExpr(self, node):
        self.visit(node.value)
        self.visit(node.target)

    def visit_For(self, node):
        self.visit(node.iter)
        self.visit(node.target)
        for stmt in node.body + node.orelse:
            self.visit(stmt)

    visit_AsyncFor = visit_For

    def visit_With(self, node):
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self.visit(item.optional_vars)
        for stmt in node.body:
            self.visit(stmt)

    visit_AsyncWith = visit_With

    def visit_ExceptHandler(self, node):
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self.writes.add(node.name)
        for stmt in node.body:
            self.visit(stmt)

    def visit_Import(self, node):
        for alias in node.names:
            self.writes.add(alias.asname or alias.name.split(".")[0])

    def visit_ImportFrom(self, node):
        for alias in node.names:
            if alias.name == "*":
                self.opaque = self.opaque or f"from {node.module} import *"
            else:
                self.writes.add(alias.asname or alias.name)

    def visit_Global(self, node):
        self.declared_global.update(node.names)

    def visit_Match(self, node):
        self.opaque = self.opaque or "a match statement"
        self.generic_visit(node)

    def visit_Call(self, node):
        func = node.func
        if _is_check(func):
            # checks.check_<name>(fn, globals(), ...) binds its stand-ins and puts the names back: not opaque
            for arg in node.args + [k.value for k in node.keywords]:
                if not (isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name) and arg.func.id == "globals"):
                    self.visit(arg)
            return self.visit(func)
        if isinstance(func, ast.Name) and func.id in _OPAQUE_CALLS:
            self.opaque = self.opaque or f"{func.id}()"
        if isinstance(func, ast.Attribute) and func.attr == "run_cell_magic":
            self.opaque = self.opaque or "a cell magic (its code is a string)"
        if isinstance(func, ast.Attribute) and func.attr == "run_line_magic" and node.args:
            magic = node.args[0]
            if not (isinstance(magic, ast.Constant) and magic.value in _HARMLESS_MAGICS):
                self.opaque = self.opaque or f"the magic %{getattr(magic, 'value', '?')}"
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute) and \
                func.value.attr == "random" and func.attr not in _RANDOM_CLASSES:
            if func.attr == "seed":
                self.writes.add(RANDOM_STATE)
            else:
                self.read(RANDOM_STATE)
                self.mutated.add(RANDOM_STATE)
        self.generic_visit(node)

    # nested scopes: a def's body counts where it is called (module level) or where it is written (inside one)
    def _nested(self, arguments, body):
        """A function's body: (the global names it reads, the global names it binds or changes)."""
        bound = [a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs] if arguments else []
        if arguments is not None:
            bound += [a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None]
        inner = _Scope(bound)
        for stmt in body:
            inner.visit(stmt)
        local = inner.writes - inner.declared_global
        writes = (inner.declared_global & (inner.writes | inner.mutated)) | (inner.mutated - local)
        self.opaque = self.opaque or inner.opaque
        return inner.reads - local, writes

    def _function(self, name, reads, writes):
        """A function (or class) bound to ``name``: at module level its body's effects count where it is
        called (``functions``: a function looks its globals up then); inside another function or a class
        they count here, where it is written."""
        self.writes.add(name)
        if self.module:
            self.functions[name] = (reads, writes)
        else:
            for read in reads:
                self.read(read)
            self.mutated |= writes

    def _absorb(self, inner, local):
        for name in inner.reads - local:
            self.read(name)
        self.writes |= inner.declared_global & (inner.writes | inner.mutated)
        self.mutated |= inner.mutated - local
        self.opaque = self.opaque or inner.opaque

    def _defaults(self, node):
        for expr in node.decorator_list + node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
            self.visit(expr)

    def visit_FunctionDef(self, node):
        self._defaults(node)
        reads, writes = self._nested(node.args, node.body)
        self._function(node.name, reads, writes)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        """A lambda counts where it is written, as if called there (and, bound to a name, where it is called)."""
        for expr in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
            self.visit(expr)
        reads, writes = self._nested(node.args, [ast.Expr(node.body)])
        for read in reads:
            self.read(read)
        self.mutated |= writes
        self.lambdas.append((reads, writes))

    def visit_ClassDef(self, node):
        """A class body runs where it is written; its methods run where the class (or an instance) is used."""
        for expr in node.decorator_list + node.bases + [k.value for k in node.keywords]:
            self.visit(expr)
        inner = _Scope()
        for stmt in node.body:
            inner.visit(stmt)
        local = inner.writes - inner.declared_global
        self._absorb(inner, local)
        self._function(node.name, inner.reads - local, inner.mutated - local)

    def _comprehension(self, node, parts):
        first, *rest = node.generators
        self.visit(first.iter)
        inner = _Scope()
        inner.visit(first.target)
        for test in first.ifs:
            inner.visit(test)
        for generator in rest:
            inner.visit(generator.iter)
            inner.visit(generator.target)
            for test in generator.ifs:
                inner.visit(test)
        for part in parts:
            inner.visit(part)
        self._absorb(inner, inner.writes)

    def visit_ListComp(self, node):
        self._comprehension(node, [node.elt])

    visit_SetComp = visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node):
        self._comprehension(node, [node.key, node.value])


def analyse(source):
    """The names one cell's code reads and writes (``Names``). A cell that does not parse runs nothing; one
    nested too deeply to read here is opaque."""
    try:
        tree = _parse(source)
        if tree is None:
            return Names()
        scope = _Scope(module=True)
        for stmt in tree.body:
            scope.visit(stmt)
    except RecursionError:
        return Names(opaque="code nested too deeply to read")
    return Names(reads=scope.reads, writes=scope.writes | scope.mutated, functions=scope.functions,
                 opaque=scope.opaque)


def _through_functions(reads, functions):
    """(reads, writes) of using the names ``reads``: plus what every notebook function they name reads and
    writes when called, and so on through the functions those name."""
    found, writes, todo = set(reads), set(), list(reads)
    while todo:
        body_reads, body_writes = functions.get(todo.pop(), ((), ()))
        writes |= set(body_writes)
        for name in body_reads:
            if name not in found:
                found.add(name)
                todo.append(name)
    return found, writes


def is_demonstration(cell):
    """Does a source-notebook cell carry the tag?"""
    return TAG in cell.get("metadata", {}).get("tags", [])


def tag_problems(nb):
    """[(cell, why)]: tagged cells that may not be (answers, tests, manually graded, editable ones)."""
    problems = []
    for index, cell in enumerate(nb.cells):
        if not is_demonstration(cell):
            continue
        name = cell_name(cell, index)
        if utils.is_grade(cell) or utils.is_solution(cell) or utils.is_task(cell):
            problems.append((name, "it is an answer, test or manually graded cell: only read-only cells may be "
                                   f"{TAG}"))
        elif cell.cell_type != "code":
            problems.append((name, f"it is a {cell.cell_type} cell: only code cells run"))
        elif not utils.is_locked(cell):
            problems.append((name, "it is not read-only: mark it read-only (nbgrader 'Read-only', which gives it a "
                                   "grade id), so grading runs the instructor's code and knows which cell it is"))
    return problems


def cell_name(cell, index):
    """A cell's grade id, or its position ("cell 12") when it has none."""
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or f"cell {index + 1}"


def dependencies(sources, skipped):
    """[(reader, name, writer)]: a cell that runs reads ``name``, last bound before it by the skipped cell ``writer``.

    ``sources`` are the code cells' sources in notebook order, ``skipped`` the set of their indices that are
    not run; ``reader`` and ``writer`` are indices into ``sources``. ``name`` is ``"*"`` where an opaque
    cell is involved (it can read or bind anything).
    """
    last, functions, opaque_writer, found = {}, {}, None, []
    for index, source in enumerate(sources):
        names = analyse(source)
        reads, called_writes = _through_functions(names.reads, {**functions, **names.functions})
        if index not in skipped:
            if opaque_writer is not None and (reads or names.opaque):
                found.append((index, "*", opaque_writer))
            elif names.opaque and any(w in skipped for w in last.values()):
                found.append((index, "*", max(w for w in last.values() if w in skipped)))
            found += [(index, name, last[name]) for name in sorted(reads) if last.get(name) in skipped]
        for name in names.writes | called_writes:
            last[name] = index
        for name in names.writes:
            functions.pop(name, None)
        functions.update(names.functions)
        if index in skipped and names.opaque:
            opaque_writer = index
    return found


def describe(nb, found, indices):
    """Sentences for ``dependencies``' findings; ``indices`` maps their indices to the notebook's cell indices."""
    def name(i):
        return cell_name(nb.cells[indices[i]], indices[i])
    return [f"{name(reader)} reads {'names' if what == '*' else repr(what)} that only {name(writer)} "
            f"({TAG}) binds" for reader, what, writer in found]


def check_release(nb, skipped_ids=None):
    """Problems that forbid releasing a source notebook: misplaced tags, and cells that run and depend on skipped ones.

    ``skipped_ids`` defaults to the grade ids of the notebook's own tagged cells. Returns a list of sentences.
    """
    problems = [f"{name}: {why}" for name, why in tag_problems(nb)]
    if problems:
        return problems
    code = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    ids = skipped_ids if skipped_ids is not None else demonstration_ids(nb)
    skipped = {k for k, i in enumerate(code) if cell_name(nb.cells[i], i) in ids}
    found = dependencies([nb.cells[i].source for i in code], skipped)
    return describe(nb, found, code)


def demonstration_ids(nb):
    """The grade ids of a source notebook's tagged read-only cells (what grading may skip)."""
    return {cell.metadata.nbgrader["grade_id"] for cell in nb.cells
            if is_demonstration(cell) and utils.is_locked(cell) and not utils.is_grade(cell)
            and not utils.is_solution(cell) and cell.metadata.get("nbgrader", {}).get("grade_id")}


def skippable(nb, ids):
    """Indices of the cells of ``nb`` (a student's notebook, read-only cells restored) that grading skips,
    and the problems that forbid skipping them ([] when it is safe).

    A cell is skipped when its grade id is in ``ids`` (from the source notebook), it is read-only and it is
    neither an answer nor a test. The student's code is analysed as the release check analyses the
    instructor's: if a cell that runs reads what only a skipped cell binds, nothing is skipped.
    """
    skip = [i for i, cell in enumerate(nb.cells)
            if cell.cell_type == "code" and cell_name(cell, i) in ids and utils.is_locked(cell)
            and not utils.is_grade(cell) and not utils.is_solution(cell)]
    if not skip:
        return [], []
    code = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    skipped = {k for k, i in enumerate(code) if i in skip}
    found = dependencies([nb.cells[i].source for i in code], skipped)
    if found:
        return [], describe(nb, found, code)
    return skip, []
