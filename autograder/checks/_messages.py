"""Bilingual messages: what a failing check raises and what a passing one returns.

Every message a student reads starts with Simplified Chinese and then says
the same in English. A failure carries a short diagnosis code (for TAs and
tests) and, for an unrecognised mismatch, the first differing case.

The error a failing check raises also carries the same facts for machines
(``error.diagnosis``, see ``record``): grading keeps them in the autograded
notebook (``autograder.diagnoses``) so that the class report can group the
students by mistake without reading the messages.
"""

import hashlib

import numpy as np

#: Formatting functions captured when the grader is imported (see _tamper).
_array2string = np.array2string
_asarray = np.asarray


class Diagnosis:
    """A recognised (or unrecognised) mistake: a code, a Chinese and an English explanation.

    Parameters
    ----------
    code : str, e.g. ``"missing_1_over_m"``; stable, tests assert on it
    zh, en : str, what is wrong and how to fix it
    details : str, optional, the case that shows it (inputs, expected, got)
    behaviour : str, optional, a fingerprint of what the student's code returned on the check's cases
        (``behaviour``); by default, a fingerprint of ``details``
    """

    __slots__ = ("code", "zh", "en", "details", "behaviour")

    def __init__(self, code, zh, en, details="", behaviour=""):
        self.code, self.zh, self.en, self.details, self.behaviour = code, zh, en, details, behaviour

    def __repr__(self):
        return f"Diagnosis({self.code!r})"


def fail(name, diagnosis, hidden=False):
    """Build the AssertionError a check raises for ``diagnosis`` of the student's ``name``."""
    where = ("隐藏测试", "hidden test") if hidden else ("可见测试", "visible test")
    text = (f"{name}（{where[0]}）未通过：{diagnosis.zh}\n"
            f"{name} ({where[1]}) failed: {diagnosis.en}\n"
            f"诊断代码 / diagnosis code: {diagnosis.code}")
    if diagnosis.details:
        text += "\n" + diagnosis.details
    error = AssertionError(text)
    error.diagnosis = record(name, diagnosis, hidden)
    return error


def record(name, diagnosis, hidden=False):
    """The failure as data: ``{"function", "code", "hidden", "zh", "en", "behaviour"}`` (all str but ``hidden``).

    ``behaviour`` tells apart two unrecognised mistakes: students whose code gave the same results on the
    same cases share it.
    """
    return {"function": str(name), "code": diagnosis.code, "hidden": bool(hidden), "zh": diagnosis.zh,
            "en": diagnosis.en, "behaviour": diagnosis.behaviour or _digest(diagnosis.details)}


def behaviour(results):
    """A short fingerprint of a list of results: arrays rounded to 6 decimals, an exception by its type.

    Parameters
    ----------
    results : list of (ok, value): the value the code returned (``ok``) or the exception it raised
    """
    return _digest("\n".join(_piece(value) if ok else f"raised {type(value).__name__}" for ok, value in results))


def _piece(value):
    try:
        arr = np.round(_asarray(value, dtype=float), 6) + 0.0     # + 0.0: -0.0 and 0.0 alike
    except Exception:
        if isinstance(value, (list, tuple)):                       # a tuple of arrays of different shapes
            return "(" + ",".join(_piece(v) for v in value) + ")"
        return f"returned {type(value).__name__}"
    return f"{arr.shape}:{arr.tobytes().hex()}"


def _digest(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def success(name, n_cases, hidden=False):
    """The short string a passing check returns (the notebook prints it)."""
    where = ("隐藏", "hidden") if hidden else ("可见", "visible")
    return (f"✓ {name}：全部 {n_cases} 个{where[0]}用例通过。\n"
            f"✓ {name}: all {n_cases} {where[1]} cases pass.")


def show(value, limit=6):
    """A compact, printable form of an argument or a result (large arrays summarised)."""
    if isinstance(value, (list, tuple)) and value and all(hasattr(v, "shape") for v in value):
        return "[" + ", ".join(f"array{tuple(v.shape)}" for v in value) + "]"
    if isinstance(value, (list, tuple)) and all(isinstance(v, (int, float)) for v in value):
        return repr(list(value))
    if callable(value):
        return getattr(value, "__name__", type(value).__name__)
    try:
        arr = _asarray(value)
    except Exception:
        return repr(value)[:200]
    if arr.dtype == object:
        return repr(value)[:200]
    if arr.ndim == 0:
        return repr(arr.item())
    text = _array2string(arr, precision=4, threshold=2 * limit * limit, edgeitems=3,
                         max_line_width=100, suppress_small=False)
    return f"shape {arr.shape}:\n      " + text.replace("\n", "\n      ")


def case_details(label, inputs, expected=None, got=None, error=None, extra=()):
    """The first differing case, as a block of labelled lines.

    Parameters
    ----------
    label : str, which case (e.g. "#3")
    inputs : dict name -> value
    expected, got : values to show, or None
    error : float relative error, or None
    extra : iterable of (zh label, en label, text) lines to append
    """
    lines = [f"第一个不一致的用例 / first differing case {label}:"]
    for key, value in inputs.items():
        lines.append(f"  输入 / input {key} = {show(value)}")
    if expected is not None:
        lines.append(f"  期望 / expected = {show(expected)}")
    if got is not None:
        lines.append(f"  得到 / got = {show(got)}")
    if error is not None:
        lines.append(f"  相对误差 / relative error = {error:.3e}")
    for zh, en, text in extra:
        lines.append(f"  {zh} / {en}: {text}")
    return "\n".join(lines)


def mismatch(details):
    """The diagnosis for a mismatch that no known mistake explains."""
    return Diagnosis(
        "mismatch",
        "结果与参考答案不一致，且不像任何已知的常见错误。请对照下面的用例逐步检查你的计算。",
        "the result differs from the reference and matches none of the known mistakes. "
        "Step through the case below and compare each intermediate value.",
        details,
    )


def not_implemented(name):
    """The diagnosis for a function whose answer cell still holds the stub (it raised NotImplementedError)."""
    return Diagnosis(
        "not_implemented",
        f"{name} 还没有实现：答题单元格里还是 raise NotImplementedError()。请把这一行换成你的代码，运行答题单元格，再运行这个测试。",
        f"{name} is not written yet: its answer cell still says raise NotImplementedError(). Replace that line with "
        f"your code, run the answer cell, then run this test again.",
    )


def raised(exc_text, details):
    """The diagnosis for student code that raised an exception."""
    return Diagnosis(
        "exception",
        f"你的函数运行时出错：{exc_text}。请用下面的输入在 notebook 里单独调用它，看看哪一行出错。",
        f"your function raised {exc_text}. Call it on the input below in the notebook to see which line fails.",
        details,
    )
