"""What a value check declares: its cases, how to judge one, how to recognise mistakes.

Each graded function has one ``Spec`` subclass; ``_runner.value_check``
drives it. A spec computes the reference lazily, outside the sandbox.
"""

import numpy as np

from . import _messages as msg
from ._cases import Case, generator, twin
from ._compare import NotNumeric, as_array, rel_error

_isfinite = np.isfinite
_all = np.all
_abs = np.abs


class Spec:
    """Base class: subclasses set ``name``, ``names`` and write ``visible``, ``hidden_cases``, ``expected``."""

    name = ""
    names = ("z",)
    perturb = (0,)          # argument positions a twin nudges
    swaps = None            # namespace names bound to trusted stand-ins while the student's code runs
    extra = ()

    def visible(self, rng):
        raise NotImplementedError

    def hidden_cases(self, rng):
        raise NotImplementedError

    def expected(self, case):
        raise NotImplementedError

    def cases(self, ctx):
        """The visible cases; hidden: the visible ones, their twins and the hidden ones drawn from ``ctx.seed``."""
        visible = [self.case(c, f"#{i + 1}", "visible", i) for i, c in enumerate(self.visible(generator(self.name, False, None)))]
        if not ctx.hidden:
            return visible
        rng = generator(self.name, True, ctx.seed)
        hidden = [self.case(c, f"H{i + 1}", "hidden", int(rng.integers(2 ** 31)))
                  for i, c in enumerate(self.hidden_cases(rng))]
        return visible + [self.twin(c, rng) for c in visible] + hidden

    def case(self, args, label, kind, seed):
        """A Case from what ``visible`` and ``hidden_cases`` return: a tuple of arguments.

        A spec whose cases carry what the arguments do not show (a Dropout mask) overrides it.
        """
        return Case(label, kind, self.names, args, seed=seed)

    def twin(self, case, rng):
        """The twin of a visible case: the arguments at positions ``perturb`` nudged by up to 5 %.

        A spec whose arguments depend on one another (a = ReLU(z) * mask) overrides it to keep them consistent.
        """
        return twin(case, rng, self.perturb)

    def reference(self, case):
        """The expected value, computed once per case."""
        if "expected" not in case.info:
            case.info["expected"] = self.expected(case)
        return case.info["expected"]

    def got(self, value):
        return as_array(value)

    def diagnose(self, case, outcome):
        return None

    def details(self, case, outcome):
        if not outcome.ok:
            return msg.case_details(case.label, case.inputs())
        expected = self.reference(case)
        try:
            got = self.got(outcome.value)
        except NotNumeric as exc:
            return msg.case_details(case.label, case.inputs(), expected, extra=[("返回值", "returned", str(exc))])
        err = rel_error(got, expected) if got.shape == np.shape(expected) else None
        extra = [] if err is not None else [("形状", "shape", f"expected {np.shape(expected)}, got {got.shape}")]
        return msg.case_details(case.label, case.inputs(), expected, got, err, extra)


def matches(got, alt, rtol=1e-6, atol=1e-12):
    """True when ``got`` equals the alternative ``alt`` where ``alt`` is finite and is non-finite where ``alt`` is."""
    got, alt = np.asarray(got, dtype=np.float64), np.asarray(alt, dtype=np.float64)
    if got.shape != alt.shape:
        return False
    fin = _isfinite(alt)
    if not np.array_equal(fin, _isfinite(got)):
        return False
    return bool(_all(_abs(got[fin] - alt[fin]) <= atol + rtol * _abs(alt[fin])))


def first_match(got, alternatives):
    """The first (code, zh, en) whose alternative array ``got`` matches, as a Diagnosis, or None."""
    for code, alt, zh, en in alternatives:
        if alt is not None and matches(got, alt):
            return msg.Diagnosis(code, zh, en)
    return None


def wrong_shape(expected_shape, got_shape, hint_zh="", hint_en=""):
    return msg.Diagnosis(
        "wrong_shape",
        f"返回值的形状是 {got_shape}，应为 {expected_shape}。{hint_zh}",
        f"the result has shape {got_shape} but should have shape {expected_shape}. {hint_en}".rstrip(),
    )


def not_numeric(text):
    return msg.Diagnosis(
        "not_numeric",
        f"返回值不是数值数组（{text}）。请返回 numpy 数组。",
        f"the result is not a numeric array ({text}). Return a numpy array.",
    )
