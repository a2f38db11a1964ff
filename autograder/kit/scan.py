"""The scan every kit passes before it is handed out: no answers, no instructor files, nothing unverifiable.

``scan`` walks a kit folder, and every archive in it (recursively), and returns one readable problem per
thing a kit must not hold; an empty list means the kit is clean. A problem reads ``path: what``, with
``archive.zip!inner/path`` inside archives, in Chinese and then English (the instructor reads them).

What it looks for: instructor areas and files (``solutions/``, ``gradebook.db``, ``nbgrader_config.py``...);
compiled modules and any other file it cannot read as text; nbgrader's solution and hidden-test markers
and the hidden tests' seeds; and, in every ``.py`` file and notebook code cell, a forbidden function
with a body, any function with the same code as a reference implementation (``reference_functions``),
and imports of ``solutions`` or references to the grader's ``_trusted`` stand-ins.

Same code means the same ``ast.dump`` of the body once docstrings are dropped and the arguments and
locally assigned names are renamed by first appearance: renaming a copy does not hide it.
"""

import ast
import copy
import io
import json
import os
import pathlib
import re
import tarfile
import textwrap
import zipfile
import zlib

from . import rules
from .package import notebook_code

#: Path components of nbgrader's instructor areas.
INSTRUCTOR_AREAS = ("solutions", "source", "autograded", "submitted", "feedback")
INSTRUCTOR_FILES = ("nbgrader_config.py",)
DATABASES = (".db", ".sqlite", ".sqlite3")
COMPILED = (".pyc", ".pyo", ".so", ".pyd", ".dll", ".dylib")
ARCHIVES = (".zip", ".whl", ".tar", ".tar.gz", ".tgz")
IMAGES = {".png": b"\x89PNG\r\n\x1a\n", ".jpg": b"\xff\xd8\xff", ".jpeg": b"\xff\xd8\xff"}
MARKERS = {"BEGIN SOLUTION": r"BEGIN\s+SOLUTION", "END SOLUTION": r"END\s+SOLUTION",
           "BEGIN HIDDEN TESTS": r"BEGIN\s+HIDDEN\s+TESTS", "END HIDDEN TESTS": r"END\s+HIDDEN\s+TESTS",
           "BEGIN MARK SCHEME": r"BEGIN\s+MARK\s+SCHEME", "hidden=True": r"\bhidden\s*=\s*True\b"}
#: Archives inside archives are opened this deep, members read up to this size.
MAX_DEPTH = 4
MAX_BYTES = 256 * 2 ** 20
#: What ast.parse raises on code it cannot read (a NUL byte is a ValueError before Python 3.12).
_PARSE_ERRORS = (SyntaxError, ValueError, RecursionError)

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _source(lines, node):
    start = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    return textwrap.dedent("".join(lines[start - 1:node.end_lineno]))


def reference_functions(forbidden_names, forbidden_core, root=rules.ROOT):
    """(label, source) of every reference implementation of a function the kit must not hold.

    Parameters
    ----------
    forbidden_names : set of str, graded functions the kit must not implement (``rules.forbidden``)
    forbidden_core : set of str, core functions the kit must not hold (``rules.forbidden_core``)
    root : pathlib.Path of the course folder (its solutions/)

    Returns
    -------
    references : list of (str, str)
        The top-level functions of ``reludrop_core`` named in ``forbidden_core``, every function and class of
        ``autograder/checks/_trusted.py``, and the functions named in ``forbidden_names`` in the cells of
        ``solutions/*/*.ipynb`` that hold a solution region; labels read ``path:name``.
    """
    root = pathlib.Path(root)
    # The packages are read where they are installed (this repository), the solutions in the course folder
    # (the same folder, unless the course was copied elsewhere, e.g. into the instructor's home on a JupyterHub).
    packages = rules.ROOT
    found = []
    for path in sorted((packages / "reludrop_core").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines(keepends=True)
        for node in ast.parse(text).body:
            if isinstance(node, (*_FUNCTIONS, ast.ClassDef)) and node.name in forbidden_core:
                found.append((f"{path.relative_to(packages).as_posix()}:{node.name}", _source(lines, node)))
    trusted = packages / "autograder" / "checks" / "_trusted.py"
    text = trusted.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    for node in ast.parse(text).body:
        if isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
            found.append((f"{trusted.relative_to(packages).as_posix()}:{node.name}", _source(lines, node)))
    for path in sorted(root.glob("solutions/*/*.ipynb")):
        label = path.relative_to(root).as_posix()
        for number, source in notebook_code(json.loads(path.read_text(encoding="utf-8"))):
            if not re.search(MARKERS["BEGIN SOLUTION"], source):
                continue
            try:
                tree = ast.parse(source)
            except _PARSE_ERRORS as exc:
                zh, en = _unparsable(exc)
                raise rules.KitError(f"{label} 第 {number} 个单元格：{zh}\n{label}, cell {number}: {en}") from None
            lines = source.splitlines(keepends=True)
            for node in ast.walk(tree):
                if isinstance(node, _FUNCTIONS) and node.name in forbidden_names:
                    found.append((f"{label} cell {number}:{node.name}", _source(lines, node)))
    return found


def _stub_statement(stmt):
    """Is ``stmt`` a docstring, ``pass``, ``...`` or ``raise NotImplementedError`` (bare, empty or with a message)?"""
    if isinstance(stmt, ast.Pass):
        return True
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
        return isinstance(stmt.value.value, str) or stmt.value.value is Ellipsis
    if not isinstance(stmt, ast.Raise) or stmt.cause is not None:
        return False
    exc, args = (stmt.exc.func, stmt.exc.args + stmt.exc.keywords) if isinstance(stmt.exc, ast.Call) else (stmt.exc, [])
    return (isinstance(exc, ast.Name) and exc.id == "NotImplementedError"
            and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args))


def _is_stub(body):
    """Is a function body a stub: only docstrings, ``pass``, ``...`` and ``raise NotImplementedError()``?"""
    return bool(body) and all(_stub_statement(stmt) for stmt in body)


def _drop_docstring(body):
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return body[1:]
    return body


class _Renamer(ast.NodeTransformer):
    """Renames the names in ``local`` to _0, _1, ... by first appearance; leaves attributes and the rest."""

    def __init__(self, local):
        self.local, self.names = local, {}

    def new(self, name):
        if name in self.local:
            return self.names.setdefault(name, f"_{len(self.names)}")
        return name

    def visit_Name(self, node):
        node.id = self.new(node.id)
        return node

    def visit_arg(self, node):
        node.arg = self.new(node.arg)
        return self.generic_visit(node)

    def visit_ExceptHandler(self, node):
        node.name = node.name and self.new(node.name)
        return self.generic_visit(node)

    def visit_FunctionDef(self, node):
        node.name = self.new(node.name)
        node.body = _drop_docstring(node.body) or [ast.Pass()]
        return self.generic_visit(node)

    visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef


def _normalised(node):
    """The ``ast.dump`` of a def's or lambda's body, normalised as the module docstring says; None for a stub."""
    body = [ast.Return(value=node.body)] if isinstance(node, ast.Lambda) else node.body
    if _is_stub(body):
        return None
    body = copy.deepcopy(_drop_docstring(body))
    args = node.args
    params = [a.arg for a in (*args.posonlyargs, *args.args, args.vararg, *args.kwonlyargs, args.kwarg) if a]
    local, declared = set(params), set()
    for sub in ast.walk(ast.Module(body=body, type_ignores=[])):
        if isinstance(sub, ast.Name) and not isinstance(sub.ctx, ast.Load):
            local.add(sub.id)
        elif isinstance(sub, ast.arg):
            local.add(sub.arg)
        elif isinstance(sub, (*_FUNCTIONS, ast.ClassDef)) or isinstance(sub, ast.ExceptHandler) and sub.name:
            local.add(sub.name)
        elif isinstance(sub, (ast.Global, ast.Nonlocal)):
            declared.update(sub.names)
    renamer = _Renamer(local - declared)
    for name in params:                          # the arguments first, in signature order
        renamer.new(name)
    return ast.dump(ast.Module(body=[renamer.visit(stmt) for stmt in body], type_ignores=[]))


def _generic(node):
    """Is a body too plain to be anyone's implementation (no call, no arithmetic: ``self.calls = []``)?"""
    kinds = (ast.Call, ast.BinOp, ast.BoolOp, ast.UnaryOp, ast.Compare, ast.Subscript)
    body = [node.body] if isinstance(node, ast.Lambda) else node.body
    return not any(isinstance(sub, kinds) for stmt in body for sub in ast.walk(stmt))


def _functions(tree, prefix=""):
    """(qualified name, node) of every def in ``tree`` (methods and nested defs too) and every assigned lambda."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
            if isinstance(node, _FUNCTIONS):
                yield prefix + node.name, node
            yield from _functions(node, f"{prefix}{node.name}.")
        else:
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Lambda):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        yield prefix + target.id, node.value
            yield from _functions(node, prefix)


def _reference_table(references):
    """{normalised body: (function name, label)} of the references' functions and methods."""
    table = {}
    for label, source in references:
        where, top = label.rsplit(":", 1)
        for qualname, node in _functions(ast.parse(textwrap.dedent(source))):
            dump = _normalised(node)
            if dump is not None and not _generic(node):
                table.setdefault(dump, (qualname, label if qualname == top else f"{where}:{qualname}"))
    return table


class _Rules:
    """What ``scan`` looks for, prepared once: the forbidden names, the references' bodies and the seeds."""

    def __init__(self, forbidden_names, references, secrets):
        self.forbidden = set(forbidden_names)
        self.references = _reference_table(references)
        self.secrets = tuple(int(s) for s in secrets)
        self.seed_text = [re.compile(rf"\bseed[\"']?\s*[=:]\s*{s}(?!\d)") for s in self.secrets]


def _mentions_trusted(node):
    names = []
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    elif isinstance(node, ast.ImportFrom):
        names = [node.module or ""] + [a.name for a in node.names]
    elif isinstance(node, ast.Name):
        names = [node.id]
    elif isinstance(node, ast.Attribute):
        names = [node.attr]
    elif isinstance(node, ast.Constant) and isinstance(node.value, str) and re.fullmatch(r"[\w.]+", node.value):
        names = [node.value]                    # importlib.import_module("autograder.checks._trusted")
    return any("_trusted" in name.split(".") for name in names)


def _python_problems(tree, rules_):
    """(line, Chinese, English) of each problem in one parsed .py file or code cell."""
    found = []
    for qualname, node in _functions(tree):
        name = qualname.rsplit(".", 1)[-1]
        body = [ast.Return(value=node.body)] if isinstance(node, ast.Lambda) else node.body
        if name in rules_.forbidden and not _is_stub(body):
            found.append((node.lineno, f"定义了 {name}，而本套件中它只能是空壳（文档字符串、pass、... 或 "
                                       f"raise NotImplementedError()）",
                          f"defines {name} with a body, where this kit may only hold a stub (docstring, pass, "
                          f"... or raise NotImplementedError())"))
        same = rules_.references.get(_normalised(node))
        if same:
            found.append((node.lineno, f"{qualname} 实现了 {same[0]}（与 {same[1]} 的代码相同）",
                          f"{qualname} implements {same[0]} (same code as {same[1]})"))
    for node in ast.walk(tree):
        imported = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom):        # from solutions..., from .solutions..., from . import solutions
            imported = [node.module or ""] + [a.name for a in node.names] * bool(node.level)
        if isinstance(node, (ast.Import, ast.ImportFrom)) and any("solutions" in m.split(".") for m in imported):
            found.append((node.lineno, "从 solutions 导入", "imports from solutions"))
        if _mentions_trusted(node):
            found.append((node.lineno, "引用了评分程序的 _trusted", "refers to the grader's _trusted"))
        if isinstance(node, ast.Constant) and type(node.value) is int and node.value in rules_.secrets:
            found.append((node.lineno, f"含有隐藏测试的随机种子 {node.value}",
                          f"holds the hidden tests' seed {node.value}"))
    return sorted(set(found))


def _unparsable(exc):
    what = getattr(exc, "msg", None) or str(exc) or exc.__class__.__name__
    if getattr(exc, "lineno", None):
        return (f"无法解析为 Python，因而无法核查：{what}（第 {exc.lineno} 行）",
                f"cannot be parsed as Python, so it cannot be verified: {what} (line {exc.lineno})")
    return (f"无法解析为 Python，因而无法核查：{what}",
            f"cannot be parsed as Python, so it cannot be verified: {what}")


def _text_problems(name, text, rules_):
    """(Chinese, English) of each problem of one text file: markers, seeds, and the code of .py files and notebooks."""
    searched = text
    if name.endswith((".ipynb", ".json")):              # what JSON escapes hide (\u0042EGIN) shows once decoded
        try:
            searched += "\n" + json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            pass
    found = [(f"含有答案或隐藏测试的标记 {marker!r}", f"holds the solution or hidden-test marker {marker!r}")
             for marker, pattern in MARKERS.items() if re.search(pattern, searched)]
    found += [(f"含有隐藏测试的随机种子 seed={s}", f"holds the hidden tests' seed seed={s}")
              for s, pattern in zip(rules_.secrets, rules_.seed_text) if pattern.search(searched)]
    if name.endswith(".py"):
        try:
            tree = ast.parse(text)
        except _PARSE_ERRORS as exc:
            return found + [_unparsable(exc)]
        found += [(f"第 {line} 行：{zh}", f"line {line}: {en}") for line, zh, en in _python_problems(tree, rules_)]
    elif name.endswith(".ipynb"):
        try:
            cells = notebook_code(json.loads(text))
        except (ValueError, AttributeError, TypeError) as exc:
            return found + [("无法读取为 notebook，因而无法核查",
                             f"cannot be read as a notebook, so it cannot be verified ({exc.__class__.__name__})")]
        for number, source in cells:
            try:
                tree = ast.parse(source)
            except _PARSE_ERRORS as exc:
                zh, en = _unparsable(exc)
                found.append((f"第 {number} 个单元格：{zh}", f"cell {number}: {en}"))
                continue
            found += [(f"第 {number} 个单元格第 {line} 行：{zh}", f"cell {number}, line {line}: {en}")
                      for line, zh, en in _python_problems(tree, rules_)]
    return found


def _area(parts):
    """The index of the first path component that is an instructor area or ``__pycache__``, or None."""
    for i, part in enumerate(parts):
        if part.lower() in INSTRUCTOR_AREAS or part == "__pycache__":
            return i
    return None


def _by_name(name):
    """(Chinese, English) of why a file or folder of this name is no kit's business, or None."""
    lower = name.lower()
    if lower in INSTRUCTOR_AREAS:
        return f"教师区（{name}）", f"the instructor's area ({name})"
    if name == "__pycache__" or lower.endswith(COMPILED):
        return "编译后的模块或二进制库，无法核查", "a compiled module or binary library, which cannot be verified"
    if lower in INSTRUCTOR_FILES or lower.endswith(DATABASES):
        return (f"教师的文件（{name}：成绩库或 nbgrader 设置）",
                f"an instructor's file ({name}: a gradebook or nbgrader's settings)")
    return None


def _members(name, data):
    """(member path, bytes or None, (Chinese, English) problem or None) of a zip or tar archive; None for a folder."""
    if name.endswith((".zip", ".whl")):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in archive.infolist():
                if info.is_dir():
                    yield info.filename, None, None
                elif info.file_size > MAX_BYTES:
                    yield info.filename, None, ("太大，无法核查", "too large to verify")
                else:
                    yield info.filename, archive.read(info), None
        return
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
        for info in archive.getmembers():
            if info.isdir():
                yield info.name, None, None
            elif not info.isfile():
                yield info.name, None, ("压缩包中的链接或特殊文件", "a link or special file inside an archive")
            elif info.size > MAX_BYTES:
                yield info.name, None, ("太大，无法核查", "too large to verify")
            else:
                yield info.name, archive.extractfile(info).read(), None


def _archive_problems(shown, name, data, rules_, depth):
    if depth >= MAX_DEPTH:
        return [(shown, (f"压缩包嵌套超过 {MAX_DEPTH} 层", f"archives nested more than {MAX_DEPTH} deep"))]
    found, areas = [], set()
    try:
        for member, content, problem in _members(name, data):
            parts = [p for p in member.replace("\\", "/").split("/") if p not in ("", ".")]
            if member.startswith(("/", "\\")) or ".." in parts or not parts:
                problem = problem or ("压缩包中的路径指向包外", "a path inside the archive that points outside it")
            cut = None if problem else _area(parts)
            if cut is not None:
                area = "/".join(parts[:cut + 1])
                if area not in areas:
                    areas.add(area)
                    found.append((f"{shown}!{area}", _by_name(parts[cut])))
            elif problem:
                found.append((f"{shown}!{member}", problem))
            elif content is not None:
                found += _file_problems(f"{shown}!{'/'.join(parts)}", parts[-1], content, rules_, depth + 1)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, tarfile.TarError, OSError, EOFError, zlib.error,
            RuntimeError, NotImplementedError) as exc:    # damaged, encrypted or compressed in an unknown way
        found.append((shown, ("无法作为压缩包读取", f"cannot be read as an archive ({exc.__class__.__name__})")))
    return found


def _file_problems(shown, name, data, rules_, depth):
    """(where, (Chinese, English)) of each problem of one file named ``name`` holding ``data``."""
    reason = _by_name(name)
    if reason:
        return [(shown, reason)]
    lower = name.lower()
    if lower.endswith(ARCHIVES):
        return _archive_problems(shown, lower, data, rules_, depth)
    suffix = os.path.splitext(lower)[1]
    if suffix in IMAGES:
        bad = [] if data.startswith(IMAGES[suffix]) else [
            (shown, (f"扩展名是 {suffix}，内容却不是这种图片", f"named {suffix} but not an image of that kind"))]
        return bad + [(shown, p) for p in _text_problems(lower, data.decode("latin-1"), rules_)]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = "\x00"
    if "\x00" in text:
        return [(shown, ("不是 UTF-8 文本，也不是图片或压缩包，无法核查",
                         "not UTF-8 text, an image or an archive, so it cannot be verified"))]
    return [(shown, p) for p in _text_problems(lower, text, rules_)]


def scan(kit_dir, forbidden_names, references, secrets=()):
    """Every problem in a kit: what it must not hold, or what cannot be verified.

    Parameters
    ----------
    kit_dir : str or pathlib.Path, the kit folder
    forbidden_names : set of str, functions the kit must not implement (``rules.forbidden``)
    references : list of (str, str), (label, source) of their reference implementations (``reference_functions``)
    secrets : iterable of int, the hidden tests' seeds

    Returns
    -------
    problems : list of str, ``path: 中文 / English`` (``archive.zip!inner/path: ...`` inside archives), paths
        relative to ``kit_dir``, in walking order; an empty list means the kit is clean
    """
    rules_ = _Rules(forbidden_names, references, secrets)
    root = pathlib.Path(kit_dir)
    found = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in [*dirs, *sorted(files)]:
            path = pathlib.Path(folder) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                found.append((rel, ("符号链接", "a symbolic link: a kit holds real files only")))
            elif name in dirs:
                reason = _by_name(name)
                found += [(rel, reason)] if reason else []
            elif not path.is_file():
                found.append((rel, ("特殊文件（管道、设备……）", "a special file (a pipe, a device...)")))
            else:
                try:
                    data = path.read_bytes()
                except OSError as exc:
                    found.append((rel, ("无法读取，因而无法核查",
                                        f"cannot be read, so it cannot be verified ({exc})")))
                    continue
                found += _file_problems(rel, name, data, rules_, 0)
        dirs[:] = [d for d in dirs if not _by_name(d) and not (pathlib.Path(folder) / d).is_symlink()]
    return [f"{where}: {zh} / {en}" for where, (zh, en) in found]
