"""The life of one check: verify, run the student's code on the cases, judge, name the mistake.

A check has two phases. First every case runs in one sandbox window
(tripwires armed, nothing of the grader but the sandbox and the trusted
stand-ins may run). Then, the window closed and the record of numpy and
the grader verified again, the results are compared with the reference
and, if one differs, the mistake is recognised or the first differing case
is shown.
"""

import numbers

from . import _messages as msg
from ._cases import check_id  # noqa: F401  (re-exported for the check modules)
from ._compare import NotNumeric  # noqa: F401  (re-exported)
from ._errors import exception_text, mutated, raised  # noqa: F401  (re-exported for the check modules)
from ._delegation import Delegation, static_references
from ._sandbox import Call, run
from ._spec import not_numeric
from ._tamper import tampering


class Ctx:
    """Everything a check needs besides the student's function: flavour, seed, and the guards.

    Parameters
    ----------
    name : str, the student's function as the handout names it ("backprop")
    hidden : bool, the hidden flavour (more and larger cases)
    seed : int or None, the hidden cases' seed (required when hidden)
    snapshot : _tamper.Snapshot, tripwires : _delegation.Tripwires
    """

    def __init__(self, name, hidden, seed, snapshot, tripwires):
        if hidden and (seed is None or isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise ValueError("隐藏测试需要一个整数 seed（写在教师版的隐藏单元格里）。\n"
                             "the hidden flavour needs an integer seed (written in the instructor's hidden cell).")
        self.name, self.hidden, self.seed = name, bool(hidden), None if seed is None else int(seed)
        self.snapshot, self.tripwires = snapshot, tripwires
        self.tripwires.hits.clear()

    def fail(self, diagnosis):
        raise msg.fail(self.name, diagnosis, self.hidden)

    def success(self, n_cases):
        return msg.success(self.name, n_cases, self.hidden)

    def verify(self):
        """Fail with 'tampering detected' if numpy or the grader was rebound since import."""
        changes = self.snapshot.changes()
        if changes:
            self.fail(tampering(changes))

    def static(self, fn, namespace, extra=(), swapped=()):
        """Fail if ``fn`` (or the student functions named in ``extra``) refers to the reference.

        ``swapped``: names the check rebinds to its own stand-ins while the student's code runs.
        """
        if not callable(fn):
            self.fail(msg.Diagnosis(
                "not_callable", f"传入的 {self.name} 不是函数：请传函数本身，例如 {self.name}，不要写成调用结果。",
                f"the {self.name} you passed is not a function: pass the function itself, not the result of calling it."))
        found = static_references(fn, namespace, swapped)
        for other in extra:
            found += static_references(other, namespace, swapped)
        if found:
            self.fail(delegation(found))

    def run(self, calls, fn, namespace, swaps=None, names=()):
        """Run ``calls`` in one window and apply the checks that do not need the reference."""
        outcomes = run(calls, namespaces(fn, namespace), swaps, self.tripwires)
        self.after(outcomes, names)
        return outcomes

    def after(self, outcomes, names=()):
        """After a window: delegation, tampering, then mutated inputs."""
        hits = list(self.tripwires.hits)
        self.tripwires.hits.clear()
        if hits or any(isinstance(o.error, Delegation) for o in outcomes):
            self.fail(delegation(hits or [str(o.error) for o in outcomes if isinstance(o.error, Delegation)]))
        self.verify()
        for o in outcomes:
            if o.mutated:
                arg = names[o.mutated[0]] if o.mutated[0] < len(names) else f"#{o.mutated[0]}"
                self.fail(mutated(arg))


def namespaces(fn, namespace):
    """Where the student's function looks up its globals, and the namespace passed to the check."""
    own = getattr(fn, "__globals__", None)
    return [ns for ns in (own, namespace) if ns is not None]


def delegation(found):
    where = "; ".join(dict.fromkeys(found))
    return msg.Diagnosis(
        "delegation",
        f"你的函数调用了参考实现（{where}），而不是自己完成计算，本题记 0 分。"
        f"请删除对 reludrop_core 或评分模块 autograder 的调用，用 numpy 自己写出计算过程。",
        f"your function calls the reference implementation ({where}) instead of computing the result "
        f"itself, so it scores 0. Remove the calls to reludrop_core or to the grading module and write "
        f"the computation yourself in numpy.",
    )


def cached(label):
    return msg.Diagnosis(
        "cached",
        f"你的函数在公开的可见用例上正确，但对同样形状、数值只差几个百分点的输入（用例 {label}）给出了错误结果："
        f"看起来像是为固定输入返回了预先存好的答案。请写出对任意输入都成立的计算。",
        f"your function is right on the published visible cases but wrong on inputs of the same shape whose "
        f"values differ by a few per cent (case {label}): it looks like it returns stored answers for fixed "
        f"inputs. Write a computation that holds for every input.",
    )


def value_check(ctx, fn, namespace, spec):
    """Run the standard pipeline for a function judged case by case against expected values.

    ``spec`` provides: ``cases(ctx)`` -> list of Case; ``swaps`` (dict);
    ``judge(case, value)`` -> bool; ``diagnose(case, outcome)`` -> Diagnosis
    or None; ``details(case, outcome)`` -> str; and optionally ``extra``
    (student functions also scanned for delegation).
    """
    ctx.verify()
    swapped = set(spec.swaps or ()) | set(getattr(spec, "swapped_per_case", ()))
    ctx.static(fn, namespace, getattr(spec, "extra", ()), swapped)
    cases = spec.cases(ctx)
    outcomes = _run_cases(ctx, fn, namespace, spec, cases, range(len(cases)), "array")
    passed = [o.ok and _judge(spec, c, o) for c, o in zip(cases, outcomes)]
    retry = [i for i, p in enumerate(passed) if not p]
    if retry:  # an implementation written for np.matrix (the handout's style) gets matrix inputs
        again = _run_cases(ctx, fn, namespace, spec, cases, retry, "matrix")
        for i, o in zip(retry, again):
            if o.ok and _judge(spec, cases[i], o):
                passed[i] = True
            elif not outcomes[i].ok and o.ok:
                outcomes[i] = o
    if all(passed):
        return ctx.success(len(cases))
    failing = [i for i, p in enumerate(passed) if not p]
    # Right on every published input but wrong on its twin: no honest mistake does that.
    if ctx.hidden:
        visible_ok = all(p for c, p in zip(cases, passed) if c.kind == "visible")
        twins_bad = [cases[i] for i in failing if cases[i].kind == "twin"]
        if visible_ok and twins_bad:
            d = cached(twins_bad[0].label)
            j = cases.index(twins_bad[0])
            d.details = spec.details(cases[j], outcomes[j])
            ctx.fail(d)
    for i in failing:
        if outcomes[i].ok:
            found = _diagnose(spec, cases[i], outcomes[i])
            if found is not None:
                if not found.details:
                    found.details = spec.details(cases[i], outcomes[i])
                ctx.fail(found)
    diagnose_error = getattr(spec, "diagnose_error", None)
    for i in failing:
        if not outcomes[i].ok and diagnose_error is not None:
            found = diagnose_error(cases[i], outcomes[i].error)
            if found is not None:
                found.details = found.details or spec.details(cases[i], outcomes[i])
                ctx.fail(found)
    i = failing[0]
    o = outcomes[i]
    details = spec.details(cases[i], o)
    unexplained = raised(ctx.name, o.error, details) if not o.ok else msg.mismatch(details)
    # No known mistake: what the code gave on every case tells this student's mistake from another's.
    unexplained.behaviour = msg.behaviour([(o.ok, o.value if o.ok else o.error) for o in outcomes])
    ctx.fail(unexplained)


def _run_cases(ctx, fn, namespace, spec, cases, which, style):
    """Run the cases at positions ``which`` with arguments in ``style``: one window, or one per case when
    the spec binds something per case (a fresh Dropout recorder)."""
    names = cases[0].names
    per_case = getattr(spec, "case_swaps", None)
    if per_case is None:
        return ctx.run([Call(fn, cases[i].args_for(style), seed=cases[i].seed) for i in which],
                       fn, namespace, spec.swaps, names)
    outcomes = []
    for i in which:
        swaps = dict(spec.swaps or {})
        swaps.update(per_case(cases[i]))
        outcomes += ctx.run([Call(fn, cases[i].args_for(style), seed=cases[i].seed)], fn, namespace, swaps, names)
    return outcomes


def _judge(spec, case, outcome):
    try:
        return bool(spec.judge(case, outcome.value))
    except NotNumeric:
        return False


def _diagnose(spec, case, outcome):
    """The spec's diagnosis; a result that is not numeric is a diagnosis of its own, and a fingerprint that
    cannot be evaluated on an odd result (wrong shape, wrong type) is simply not recognised."""
    try:
        return spec.diagnose(case, outcome)
    except NotNumeric as exc:
        return not_numeric(str(exc))
    except Exception:
        return None
