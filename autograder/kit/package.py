"""The student package: ``reludrop_core`` cut down to what one notebook imports, and no answer in it.

A kit's notebook imports a few public names of the reference core (``from reludrop_core import ...``).
``write_package`` copies the core modules those names need, with every top-level function and class
that none of them reaches removed, and writes an ``__init__.py`` that exports exactly those names.
The cut is by source lines, so what stays keeps its comments and docstrings verbatim.

"Reaches" is by name, through the whole package: a function needs every top-level function, class
and constant it names, whether defined beside it, imported from a sibling (``from .x import y``, at
the top or inside the function) or used as ``_checks.f``. If that closure holds a function the kit
must not hold (``rules.forbidden_core``), no package is written: ``KitError`` says which imported
name needs which function, and which assignment grades it.
"""

import ast
import collections
import json
import pathlib
import textwrap

from . import rules

PACKAGE = "reludrop_core"
CORE = rules.ROOT / PACKAGE

#: The core modules a student package may copy (never experiments.py or __main__.py).
MODULES = ("_checks", "data", "activations", "network", "dropout", "gradcheck", "training", "plots")

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def notebook_code(notebook):
    """The code cells of a notebook as Python source, IPython lines (``%...``, ``!...``) blanked.

    Parameters
    ----------
    notebook : dict, a notebook read with ``json``

    Returns
    -------
    cells : list of (int, str), each code cell's number in the notebook (from 0) and its source;
        a blanked line stays as an empty line, so line numbers still match the cell's
    """
    cells = []
    for number, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n")]
        cells.append((number, "\n".join(lines)))
    return cells


def _import_error(notebook_path, number, what_zh, what_en):
    return rules.KitError(f"{notebook_path} 第 {number} 个单元格：{what_zh}\n"
                          f"{notebook_path}, cell {number}: {what_en}")


def imported_names(notebook_path):
    """The names a notebook imports with ``from reludrop_core import (...)`` in its code cells.

    Parameters
    ----------
    notebook_path : str or pathlib.Path of an .ipynb file

    Returns
    -------
    names : list of str, in the order the notebook first imports them, each once

    Raises
    ------
    rules.KitError
        A code cell does not parse, or imports the core in a way a student package cannot serve
        (``import reludrop_core``, a submodule, ``*``).
    """
    notebook = json.loads(pathlib.Path(notebook_path).read_text(encoding="utf-8"))
    names = []
    for number, source in notebook_code(notebook):
        try:
            tree = ast.parse(source)
        except SyntaxError as exc:
            raise _import_error(notebook_path, number, f"无法解析：{exc.msg}（第 {exc.lineno} 行）。",
                                f"cannot be parsed: {exc.msg} (line {exc.lineno}).") from None
        imports = [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
        for node in sorted(imports, key=lambda node: (node.lineno, node.col_offset)):
            if isinstance(node, ast.ImportFrom) and node.level:
                continue
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if not any(m.split(".")[0] == PACKAGE for m in modules):
                continue
            if isinstance(node, ast.Import) or node.module != PACKAGE:
                raise _import_error(
                    notebook_path, number,
                    f"第 {node.lineno} 行的导入方式学生包无法提供：请写成 from {PACKAGE} import 名字。",
                    f"line {node.lineno} imports the package in a way a student package cannot serve: "
                    f"write from {PACKAGE} import NAME.")
            for alias in node.names:
                if alias.name == "*":
                    raise _import_error(notebook_path, number, f"第 {node.lineno} 行是 import *：请列出导入的名字。",
                                        f"line {node.lineno} is import *: list the names it imports.")
                if alias.name not in names:
                    names.append(alias.name)
    return names


class _Module:
    """One core module: its lines, its top-level statements and what each top-level name is bound to."""

    def __init__(self, name, path):
        self.name = name
        self.text = path.read_text(encoding="utf-8")
        self.lines = self.text.splitlines(keepends=True)
        self.tree = ast.parse(self.text, filename=str(path))
        self.defs = {}        # name -> top-level def or class
        self.constants = {}   # name -> top-level assignment
        self.aliases = {}     # name -> (module, name) imported from a sibling; (module, None) for a module
        for stmt in self.tree.body:
            if isinstance(stmt, _DEFS):
                self.defs[stmt.name] = stmt
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for target in targets:
                    for node in ast.walk(target):
                        if isinstance(node, ast.Name):
                            self.constants[node.id] = stmt
            elif isinstance(stmt, ast.ImportFrom) and stmt.level:
                for alias in stmt.names:
                    self.aliases[alias.asname or alias.name] = _sibling(self.name, stmt, alias.name)


def _sibling(module, stmt, name):
    """What ``from .x import name`` (``stmt``) in core module ``module`` imports: (module, name) or (module, None).

    Raises ``rules.KitError`` for an import of a module that a student package never holds.
    """
    target, member = (stmt.module, name) if stmt.module else (name, None)
    if stmt.level != 1 or target not in MODULES:
        raise rules.KitError(f"{PACKAGE}/{module}.py 第 {stmt.lineno} 行导入了学生包不含的模块 {target!r}。\n"
                             f"{PACKAGE}/{module}.py line {stmt.lineno} imports {target!r}, which a student "
                             f"package never holds.")
    return target, member


def _load_core():
    return {name: _Module(name, CORE / f"{name}.py") for name in MODULES}


def _resolve(modules, module, name):
    """The (module, name) that ``name`` in ``module`` is defined as, following sibling imports; None if external."""
    mod = modules[module]
    if name in mod.defs or name in mod.constants:
        return module, name
    if name in mod.aliases:
        target, member = mod.aliases[name]
        return (target, None) if member is None else _resolve(modules, target, member)
    return None


def _whole(modules, module):
    return {(module, name) for name in [*modules[module].defs, *modules[module].constants]}


def _references(modules, module, node):
    """Every (module, name) of the package that the code of ``node`` names (see the module docstring)."""
    found, bases = set(), set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name):
            key = _resolve(modules, module, sub.value.id)
            if key is not None and key[1] is None:       # _checks.f: only f
                bases.add(id(sub.value))
                member = _resolve(modules, key[0], sub.attr)
                found |= {member} if member else set()
        elif isinstance(sub, ast.ImportFrom) and sub.level and sub is not node:   # imported inside a function
            for alias in sub.names:
                target, member = _sibling(module, sub, alias.name)
                found |= _whole(modules, target) if member is None else {_resolve(modules, target, member)}
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and id(sub) not in bases:
            key = _resolve(modules, module, sub.id)
            if key is not None:
                found |= _whole(modules, key[0]) if key[1] is None else {key}
    found.discard(None)
    return found


def _graph(modules):
    """{(module, name): the (module, name)s it needs}, a module's other top-level statements counted for each."""
    edges = {}
    for name, mod in modules.items():
        shared = set()
        for stmt in mod.tree.body:
            if not isinstance(stmt, _DEFS) and not (isinstance(stmt, ast.ImportFrom) and stmt.level):
                shared |= _references(modules, name, stmt)
        for key in _whole(modules, name):
            node = mod.defs.get(key[1]) or mod.constants[key[1]]
            edges[key] = (_references(modules, name, node) | shared) - {key}
    return edges


def _walk(edges, roots, stop):
    """Breadth-first from ``roots``, not going past a key in ``stop``; returns {key: the key it was reached from}."""
    parent = {root: None for root in roots}
    queue = collections.deque(roots)
    while queue:
        key = queue.popleft()
        if key in stop:
            continue
        for nxt in sorted(edges[key]):
            if nxt not in parent:
                parent[nxt] = key
                queue.append(nxt)
    return parent


def _public(modules):
    """{public name: (module, name)} from the core's own __init__.py."""
    tree = ast.parse((CORE / "__init__.py").read_text(encoding="utf-8"))
    table = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and stmt.level == 1 and stmt.module in MODULES:
            for alias in stmt.names:
                table[alias.asname or alias.name] = _resolve(modules, stmt.module, alias.name)
    return table


def _forbidden_error(edges, roots, forbidden_keys):
    lines_zh, lines_en = [], []
    for public, root in sorted(roots.items()):
        parent = _walk(edges, [root], forbidden_keys)
        for key in sorted(k for k in parent if k in forbidden_keys):
            path, step = [], key
            while step is not None:
                path.append(step[1])
                step = parent[step]
            owner = rules.owner(key[1]) or "?"
            if key == root:
                lines_zh.append(f"  {public} 本身由 {owner} 评分")
                lines_en.append(f"  {public} is itself graded by {owner}")
            else:
                chain = " -> ".join(reversed(path))
                lines_zh.append(f"  {public} 需要 {key[1]}（由 {owner} 评分）：{chain}")
                lines_en.append(f"  {public} needs {key[1]} (graded by {owner}): {chain}")
    return rules.KitError(
        "学生包不能包含答案尚未公布的作业所评分的函数，而 notebook 导入的这些名字需要它们：\n"
        + "\n".join(lines_zh)
        + "\n若该作业在本次作业之前，请公布它的参考答案（nbgrader_config.py 中的 c.StudentKit.released_solutions，"
          "或构建时加 --released 作业名）；否则请让 notebook 不再导入这些名字。\n"
        + "A student package cannot hold functions graded by an assignment whose solutions are not released, "
          "and these names the notebook imports need them:\n"
        + "\n".join(lines_en)
        + "\nIf that assignment comes before this one, release its solutions (c.StudentKit.released_solutions in "
          "nbgrader_config.py, or --released ASSIGNMENT); otherwise the notebook must stop importing these names.")


def _span(lines, stmt):
    """The 0-based line range [start, end) of a top-level def: its decorators, the comment lines right above it
    and the indented comment lines right after it included."""
    start = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])]) - 1
    while start > 0 and lines[start - 1].lstrip().startswith("#") and not lines[start - 1][0].isspace():
        start -= 1
    end = stmt.end_lineno
    while end < len(lines) and lines[end][:1].isspace() and lines[end].lstrip().startswith("#"):
        end += 1
    return start, end


def _import_text(stmt, aliases, multiline):
    names = [a.name if a.asname is None else f"{a.name} as {a.asname}" for a in aliases]
    head = "from ." + (stmt.module or "") + " import "
    if multiline or len(head) + len(", ".join(names)) > 110:
        return head + "(\n" + "".join(f"    {n},\n" for n in names) + ")\n"
    return head + ", ".join(names) + "\n"


def _cut(mod, needed):
    """The source of ``mod`` with the defs not in ``needed`` removed and its sibling imports pruned to what stays."""
    kept = [s for s in mod.tree.body
            if not (isinstance(s, ast.ImportFrom) and s.level)
            and not (isinstance(s, _DEFS) and (mod.name, s.name) not in needed)]
    used = {n.id for s in kept for n in ast.walk(s) if isinstance(n, ast.Name)}
    edits = []                                  # (start, end, replacement)
    for stmt in mod.tree.body:
        if isinstance(stmt, _DEFS) and (mod.name, stmt.name) not in needed:
            edits.append((*_span(mod.lines, stmt), ""))
        elif isinstance(stmt, ast.ImportFrom) and stmt.level:
            aliases = [a for a in stmt.names if (a.asname or a.name) in used]
            text = _import_text(stmt, aliases, stmt.end_lineno > stmt.lineno) if aliases else ""
            edits.append((stmt.lineno - 1, stmt.end_lineno, text))
    out, position = [], 0
    for start, end, text in sorted(edits):
        out.append("".join(mod.lines[position:start]) + text)
        position = end
    out.append("".join(mod.lines[position:]))
    text = "".join(out)
    while "\n\n\n\n" in text:                   # at most two blank lines where code was taken out
        text = text.replace("\n\n\n\n", "\n\n\n")
    return text.rstrip() + "\n"


def _init_text(by_module):
    contents = "\n".join(textwrap.fill(f"{module} : {', '.join(names)}", 100, subsequent_indent="    ")
                         for module, names in sorted(by_module.items()))
    original = ast.get_docstring(ast.parse((CORE / "__init__.py").read_text(encoding="utf-8"))) or ""
    letters = original[original.find("Letters used"):] if "Letters used" in original else ""
    doc = (f"{PACKAGE}：本课程的学生包，课程参考包裁剪后只留下本次作业的 notebook 导入的名字及其所需的代码；\n"
           f"你要自己实现的函数不在其中。\n"
           f"{PACKAGE}: the course's student package, the course's reference package cut down to the names this\n"
           f"assignment's notebook imports and the code they need; the functions you implement are not in it.\n\n"
           f"内容 / Contents\n---------------\n{contents}\n" + (f"\n{letters}\n" if letters else ""))
    imports = "".join(_import_text(ast.ImportFrom(module=module, level=1), [ast.alias(n) for n in names], False)
                      for module, names in sorted(by_module.items()))
    every = sorted(n for names in by_module.values() for n in names)
    listing = textwrap.fill(", ".join(f'"{n}"' for n in every), 100, initial_indent="    ", subsequent_indent="    ")
    return f'"""{doc}"""\n\n{imports}\n__all__ = [\n{listing},\n]\n'


def write_package(dest, names, forbidden_core):
    """Write ``dest/reludrop_core/``: the core modules that ``names`` need, pruned, and an ``__init__.py``.

    Parameters
    ----------
    dest : pathlib.Path, the kit folder (created if missing; ``dest/reludrop_core`` must not exist yet)
    names : iterable of str, public names of reludrop_core the notebook imports (``imported_names``)
    forbidden_core : set of str, core functions the kit must not hold (``rules.forbidden_core``)

    Returns
    -------
    written : list of str, the public names the package exports, sorted

    Raises
    ------
    rules.KitError
        A name is not public in reludrop_core, ``dest/reludrop_core`` already exists, or a name needs a
        function in ``forbidden_core`` (the message names each such name, the function and its assignment).
    """
    modules = _load_core()
    public = _public(modules)
    unknown = sorted(set(names) - set(public))
    if unknown:
        raise rules.KitError(f"{PACKAGE} 没有这些公开的名字：{', '.join(unknown)}。\n"
                             f"{PACKAGE} has no public names {', '.join(unknown)}.")
    roots = {name: public[name] for name in set(names)}
    edges = _graph(modules)
    forbidden_keys = {key for key in edges if key[1] in forbidden_core and key[1] in modules[key[0]].defs}
    reached = _walk(edges, list(roots.values()), forbidden_keys)
    if forbidden_keys & set(reached):
        raise _forbidden_error(edges, roots, forbidden_keys)
    target = pathlib.Path(dest) / PACKAGE
    if target.exists():
        raise rules.KitError(f"{target} 已经存在：请换一个空的目标文件夹。\n"
                             f"{target} already exists: write the kit to an empty folder.")
    target.mkdir(parents=True)
    for name in MODULES:
        if any(key[0] == name for key in reached):
            (target / f"{name}.py").write_text(_cut(modules[name], set(reached)), encoding="utf-8")
    by_module = collections.defaultdict(list)
    for public_name, (module, _) in sorted(roots.items()):
        by_module[module].append(public_name)
    (target / "__init__.py").write_text(_init_text(by_module), encoding="utf-8")
    return sorted(roots)
