"""The kit's visible checks: run the student's function on the recorded cases and judge it by the data.

A check here runs each recorded visible case in one quiet window (``_sandbox``: prints, warnings and
numpy's global random state contained, the namespace's functions swapped for the kit's stand-ins and
restored), judges the results against the expected values recorded when the kit was built, and says:

* the recorded message of a pass, word for word the grader's;
* for a result that equals what a catalogued mistake returns on that case, the grader's own message
  for that mistake (recorded by running the real check on it);
* otherwise what needs no reference: the stub not replaced yet, an exception and where, a changed
  argument, a wrong shape, the first differing case with expected and got (per layer for backprop);
  and that more cases, and the recognition of more mistakes, come at grading.
"""

import numpy as np

from . import _messages as msg
from ._compare import NotNumeric, as_array, as_scalar, close, rel_error, scalar_close
from ._dropout_masks import judge_masks
from ._errors import mutated, raised
from ._replay import NotRecorded, standins
from ._sandbox import Call, run, run_repeated

D = msg.Diagnosis
#: A result counts as a catalogued mistake's when it is this close to it (the grader's fingerprints' tolerance).
MISTAKE_RTOL = 1e-6


class KitCheck:
    """One recorded visible check call: ``data`` as ``record.py`` wrote it (decoded)."""

    def __init__(self, data):
        self.name, self.kind, self.data = data["name"], data["kind"], data

    # ------------------------------------------------------------------ running

    def __call__(self, fn, namespace):
        if not callable(fn):
            raise msg.fail(self.name, D(
                "not_callable", f"传入的 {self.name} 不是函数：请传函数本身，例如 {self.name}，不要写成调用结果。",
                f"the {self.name} you passed is not a function: pass the function itself, not the result of calling it."))
        if self.kind == "dropout":
            return self._dropout(fn, namespace)
        cases = self.data["cases"]
        runs = [self._run(fn, namespace, case, "array") for case in cases]
        for outcome, _ in runs:
            if outcome.mutated:
                arg = cases[0]["names"][outcome.mutated[0]] if outcome.mutated[0] < len(cases[0]["names"]) else "#?"
                raise msg.fail(self.name, mutated(arg))
        passed = [o.ok and self._judge(case, o.value, st) for case, (o, st) in zip(cases, runs)]
        for i, ok in enumerate(passed):
            if ok:
                continue
            again = self._run(fn, namespace, cases[i], "matrix")       # the handout's np.matrix style
            if again[0].ok and self._judge(cases[i], again[0].value, again[1]):
                passed[i] = True
            elif not runs[i][0].ok and again[0].ok:
                runs[i] = again
        if all(passed):
            return self.data["success"]
        failing = [i for i, ok in enumerate(passed) if not ok]
        for i in failing:
            outcome, st = runs[i]
            if outcome.ok:
                for mistake in self.data["mistakes"]:
                    result = mistake["results"][i]
                    if result is not None and self._same_as(cases[i], outcome.value, st, result):
                        raise AssertionError(mistake["message"])
        i = failing[0]
        outcome, st = runs[i]
        case = cases[i]
        if not outcome.ok:
            if isinstance(outcome.error, NotRecorded):
                raise msg.fail(self.name, not_recorded(self.name, outcome.error, case["label"]))
            raise msg.fail(self.name, raised(self.name, outcome.error, msg.case_details(case["label"], inputs(case, st))))
        raise msg.fail(self.name, unrecognised(self._details(case, outcome.value, st)))

    def _run(self, fn, namespace, case, style):
        """(Outcome, stand-ins) of the student's function on ``case``: fresh replays, bound in the namespace."""
        st = standins(case["answers"])
        args = tuple(_style(_standins_in(a, st), style) for a in case["args"])
        swaps = {name: st[name] for name in self.data["swaps"]}
        own = getattr(fn, "__globals__", None)
        spaces = [ns for ns in (own, namespace) if ns is not None]
        (outcome,) = run([Call(fn, args, seed=case["seed"])], spaces, swaps, None)
        return outcome, st

    def _dropout(self, fn, namespace):
        own = getattr(fn, "__globals__", None)
        spaces = [ns for ns in (own, namespace) if ns is not None]
        for case in self.data["cases"]:
            outcomes = run_repeated(fn, (case["size"], case["ratio"]), case["draws"], case["seed"], spaces, None, None)
            found = judge_masks(case["size"], case["ratio"], outcomes, case["draws"], case["label"])
            if found is not None:
                raise msg.fail(self.name, found)
        return self.data["success"]

    # ------------------------------------------------------------------ judging

    def _judge(self, case, value, st, expected=None, rtol=None):
        """Does ``value`` equal the case's expected value (or ``expected``, for comparing with a mistake)?"""
        exp = case["expected"] if expected is None else expected
        info = case["info"]
        try:
            if self.kind == "array":
                return _close_nan(as_array(value), as_array(exp), rtol) if expected is not None else close(as_array(value), exp)
            if self.kind == "either":
                got = as_array(value)
                if expected is not None:
                    return _close_nan(got, as_array(exp), rtol)
                return _either(got, exp, info["either"], info["rtol"])
            if self.kind == "jacobian":
                if expected is not None:
                    return _close_nan(as_array(value), as_array(exp), rtol)
                return _jacobian(as_array(value), case["args"][0], info["errors"], exp)
            if self.kind == "layers":
                if expected is None and not _dropout_as_recorded(case, st):
                    return False
                return _layers(value, exp, rtol)
            if self.kind == "scalar":
                return scalar_close(as_scalar(value), float(exp) if expected is None else as_scalar(exp),
                                    rtol=rtol or 1e-7)
            if self.kind == "backprop":
                if expected is None and not _dropout_as_recorded(case, st):
                    return False
                return _backprop(value, exp, info["size"], expected is not None)
            if self.kind == "train":
                return _train(case, value, st) if expected is None else None
        except (NotNumeric, TypeError, ValueError, IndexError):
            return False
        raise ValueError(f"unknown kind {self.kind!r}")

    def _same_as(self, case, value, st, result):
        """Is the student's result on ``case`` the one a catalogued mistake returned there?"""
        if self.kind == "train":
            style, mistake_value, calls = result
            if calls != _train_calls(st):
                return False
            try:
                got_p, got_c = _train_result(value)
                exp_p, exp_c = _train_result(mistake_value)
            except (NotNumeric, TypeError, ValueError):
                return False
            return _close_nan(got_p, exp_p, MISTAKE_RTOL) and _close_nan(got_c.ravel(), exp_c.ravel(), MISTAKE_RTOL)
        return bool(self._judge(case, value, st, expected=result[1], rtol=MISTAKE_RTOL))

    # ------------------------------------------------------------------ messages

    def _details(self, case, value, st):
        label, shown = case["label"], inputs(case, st)
        exp = case["expected"]
        try:
            if self.kind in ("array", "either"):
                got = as_array(value)
                err = rel_error(got, exp) if got.shape == np.shape(exp) else None
                extra = [] if err is not None else [("形状", "shape", f"expected {np.shape(exp)}, got {got.shape}")]
                return msg.case_details(label, shown, exp, got, err, extra)
            if self.kind == "jacobian":
                e = case["info"]["errors"][0]
                J = as_array(value)
                got = _backward(J, e)
                note = [("说明", "note", "比较的是 e @ J（逐行），即它在反向传播中的作用 / compared: e @ J per row, "
                                         "what it does in backprop")]
                return msg.case_details(label, {**shown, "e": e}, exp[0], got if got is not None else J,
                                        rel_error(got, exp[0]) if got is not None else None, note)
            if self.kind == "layers":
                return _layers_details(case, value, st, shown)
            if self.kind == "scalar":
                got = as_scalar(value)
                return msg.case_details(label, shown, exp, got, rel_error(got, exp))
            if self.kind == "backprop":
                return _backprop_details(case, value, st, shown)
            if self.kind == "train":
                return _train_details(case, value, st, shown)
        except (NotNumeric, TypeError, ValueError, IndexError):
            pass
        return msg.case_details(label, shown, extra=[("返回值", "returned", msg.show(value))])


# --- cases ----------------------------------------------------------------------------------------------------------

def _standins_in(value, st):
    if type(value).__name__ == "StandInRef":
        return st[value.id]
    if isinstance(value, list):
        return [_standins_in(v, st) for v in value]
    if isinstance(value, tuple):
        return tuple(_standins_in(v, st) for v in value)
    return value.copy() if isinstance(value, np.ndarray) else value


def _style(value, style):
    """An argument as the style wants it: "array" as recorded, "matrix" with its 2-D arrays as np.matrix."""
    if style == "matrix":
        if isinstance(value, np.ndarray) and value.ndim == 2:
            return np.asmatrix(value)
        if isinstance(value, list):
            return [_style(v, style) for v in value]
    return value


def inputs(case, st):
    """The case's arguments by name, for messages (a stand-in shows as its name, as the grader's do)."""
    return {name: _standins_in(value, st) for name, value in zip(case["names"], case["args"])}


def _dropout_as_recorded(case, st):
    """With Dropout in play: were the masks drawn by the same calls as the reference's (so the recorded
    expected value holds)?"""
    recorded = case.get("dropout_calls")
    if recorded is None:
        return True
    drawn = [[n, r] for n, r, _ in st["Dropout"].calls]
    return drawn[:len(recorded)] == [list(c) for c in recorded]


# --- judges ---------------------------------------------------------------------------------------------------------

def _close_nan(got, exp, rtol):
    """Equal within ``rtol`` where ``exp`` is finite, and non-finite exactly where ``exp`` is."""
    got, exp = np.asarray(got, dtype=np.float64), np.asarray(exp, dtype=np.float64)
    if got.shape != exp.shape:
        return False
    fin = np.isfinite(exp)
    if not np.array_equal(fin, np.isfinite(got)):
        return False
    return bool(np.all(np.abs(got[fin] - exp[fin]) <= 1e-12 + (rtol or 1e-7) * np.abs(exp[fin])))


def _either(got, exp, alt, rtol):
    if got.shape != np.shape(exp) or not np.all(np.isfinite(got)):
        return False
    a = np.abs(got - exp) <= 1e-12 + rtol * np.abs(exp)
    b = np.abs(got - alt) <= 1e-12 + rtol * np.abs(alt)
    return bool(np.all(a | b))


def _backward(J, e):
    m, k = e.shape
    if J.shape == (m, k, k):
        return np.einsum("ij,ijl->il", e, J)
    if J.shape == (m, k):
        return e * J
    return None


def _jacobian(J, z, errors, expected):
    got = [_backward(J, e) for e in errors]
    return all(g is not None and close(g, x) for g, x in zip(got, expected))


def _layers(value, exp, rtol=None):
    z_got, a_got = value
    z_got, a_got = [as_array(z) for z in z_got], [as_array(a) for a in a_got]
    z_exp, a_exp = exp
    if len(z_got) != len(z_exp) or len(a_got) != len(a_exp):
        return False
    if rtol is not None:
        return all(_close_nan(g, e, rtol) for g, e in zip(z_got + a_got, list(z_exp) + list(a_exp)))
    return all(close(g, e) for g, e in zip(z_got + a_got, list(z_exp) + list(a_exp)))


def _unpack(flat, size):
    layers, start = [], 0
    for rows, cols in zip(size[1:], size[:-1]):
        layers.append(flat[start:start + rows * cols].reshape(rows, cols))
        start += rows * cols
    return layers


def _backprop_parts(value, size):
    cost, grad = value
    grad = as_array(grad)
    total = sum(a * b for a, b in zip(size[1:], size[:-1]))
    if grad.size != total or (grad.ndim == 2 and 1 not in grad.shape) or grad.ndim > 2:
        return as_scalar(cost), grad, None
    return as_scalar(cost), grad, _unpack(grad.ravel(), size)


def _backprop(value, exp, size, loose):
    cost, _, layers = _backprop_parts(value, size)
    if isinstance(exp, tuple) and len(exp) == 2 and isinstance(exp[1], list):
        exp_cost, exp_layers = exp
    else:                                       # a mistake's own (cost, flat grad)
        exp_cost, grad, exp_layers = _backprop_parts(exp, size)
        if exp_layers is None:
            return False
    if layers is None:
        return False
    tol = MISTAKE_RTOL if loose else 1e-7
    return (all(rel_error(a, b) <= tol for a, b in zip(layers, exp_layers))
            and scalar_close(cost, float(exp_cost), rtol=1e-6 if loose else 1e-7))


def _train_result(value):
    params, cost = value
    return as_array(params).ravel(), as_array(cost)


def _train_calls(st):
    def index(c):
        try:
            return np.array(c["index"], dtype=np.float64).ravel().tolist()
        except (TypeError, ValueError):
            return None
    return {"backprop": [index(c) for c in st["backprop"].calls],
            "cost_fcn": [index(c) for c in st["cost_fcn"].calls],
            "ratios": [float(c["ratio"]) for c in st["backprop"].calls]}


def _train(case, value, st):
    params, cost = _train_result(value)
    info = case["info"]
    calls = _train_calls(st)
    if any(ix != info["index"] for ix in calls["backprop"] + calls["cost_fcn"]):
        return False
    iters, ratio = info["iters"], info["ratio"]
    if cost.size != iters or (cost.ndim == 2 and 1 not in cost.shape) or cost.ndim > 2:
        return False
    if ratio > 0:
        return bool(calls["ratios"]) and all(r == ratio for r in _update_ratios(st))
    exp_params, exp_cost = case["expected"]
    return (params.shape == exp_params.shape and rel_error(params, exp_params) <= 1e-7
            and close(cost.ravel(), exp_cost, rtol=1e-7))


def _update_ratios(st):
    """The ratio of each backprop call whose gradient was used (the parameters changed after it, or the last)."""
    calls = st["backprop"].calls
    params = [np.asarray(c["params"], dtype=np.float64).ravel() for c in calls]
    return [float(c["ratio"]) for j, c in enumerate(calls)
            if j == len(calls) - 1 or not np.array_equal(params[j], params[j + 1])]


# --- details ------------------------------------------------------------------------------------------------------

def _layers_details(case, value, st, shown):
    z_got, a_got = value
    z_got, a_got = [as_array(z) for z in z_got], [as_array(a) for a in a_got]
    z_exp, a_exp = case["expected"]
    extra = []
    if case.get("dropout_calls") is not None:
        extra.append(("Dropout 调用", "Dropout calls", f"(size, ratio) = {[(n, r) for n, r, _ in st['Dropout'].calls]}"))
    for i in range(max(len(z_exp), len(z_got))):
        for label, got, exp in ((f"z_out[{i}]", z_got, z_exp), (f"a_out[{i}]", a_got, a_exp)):
            if i >= len(got) or i >= len(exp):
                return msg.case_details(case["label"], shown, extra=[(
                    "层数", "layers", f"z_out/a_out 应各有 {len(z_exp)} 项，得到 {len(z_got)}、{len(a_got)} / "
                                     f"z_out and a_out must have {len(z_exp)} entries each, got {len(z_got)} and {len(a_got)}")] + extra)
            if not close(got[i], exp[i]):
                err = rel_error(got[i], exp[i]) if got[i].shape == np.shape(exp[i]) else None
                return msg.case_details(case["label"], shown, exp[i], got[i], err, [("第一处不同", "first difference", label)] + extra)
    return msg.case_details(case["label"], shown, extra=extra)


def _backprop_details(case, value, st, shown):
    size = case["info"]["size"]
    shown = {k: v for k, v in shown.items() if k != "activate_fcn_gradient"}
    cost, grad, layers = _backprop_parts(value, size)
    if not _dropout_as_recorded(case, st):
        calls = [(n, r) for n, r, _ in st["Dropout"].calls]
        return msg.case_details(case["label"], shown, extra=[
            ("Dropout 调用", "Dropout calls", f"(size, ratio) = {calls}，应为 / expected {[tuple(c) for c in case['dropout_calls']]}")])
    exp_cost, exp_layers = case["expected"]
    extra = [("代价", "cost", f"expected {float(exp_cost):.10g}, got {cost:.10g}")]
    if layers is None:
        extra.append(("梯度形状", "gradient shape", f"expected ({sum(np.size(t) for t in exp_layers)},), got {grad.shape}"))
        return msg.case_details(case["label"], shown, extra=extra)
    errs = ", ".join(f"thetas[{i}]: {rel_error(a, b):.2e}" for i, (a, b) in enumerate(zip(layers, exp_layers)))
    extra.append(("各层梯度相对误差", "relative error per layer", errs))
    bad = next((i for i, (a, b) in enumerate(zip(layers, exp_layers)) if rel_error(a, b) > 1e-7), None)
    if bad is not None:
        return msg.case_details(case["label"], shown, exp_layers[bad], layers[bad], rel_error(layers[bad], exp_layers[bad]),
                                [("显示的层", "layer shown", f"dJ/dthetas[{bad}]")] + extra)
    return msg.case_details(case["label"], shown, extra=extra)


def _train_details(case, value, st, shown):
    params, cost = _train_result(value)
    info = case["info"]
    calls = _train_calls(st)
    extra = [("backprop 调用", "backprop calls",
              f"{len(calls['backprop'])} 次，每次的样本数 / rows per call: "
              f"{[np.shape(c['X'])[0] for c in st['backprop'].calls][:24]}")]
    wrong = [ix for ix in calls["backprop"] + calls["cost_fcn"] if ix != info["index"]]
    if wrong:
        extra.append(("index", "index", f"expected {info['index']}, received {wrong[0]}"))
    if info["ratio"] > 0:
        return msg.case_details(case["label"], shown, extra=extra)
    exp_params, exp_cost = case["expected"]
    extra.insert(0, ("参数相对误差", "relative error of params",
                     f"{rel_error(params, exp_params):.3e}" if params.shape == exp_params.shape else f"shape {params.shape}"))
    return msg.case_details(case["label"], shown, exp_cost, cost.ravel(),
                            rel_error(cost.ravel(), exp_cost) if cost.size == np.size(exp_cost) else None, extra)


# --- what only the kit says -----------------------------------------------------------------------------------------

GRADING_ZH = "评分时会用参考实现和更多用例检查，并指出更多常见错误。"
GRADING_EN = "At grading, more cases are checked with the reference, and more mistakes are recognised."


def unrecognised(details):
    """A result that differs from the recorded expected value and from every catalogued mistake's."""
    return D("mismatch",
             "结果与期望值不一致，且不像本学生包认识的任何常见错误。请对照下面的用例逐步检查你的计算。" + GRADING_ZH,
             "the result differs from the expected value and matches none of the mistakes this kit knows. "
             "Step through the case below and compare each intermediate value. " + GRADING_EN,
             details)


def not_recorded(name, error, label):
    """The student's code called a stand-in with an input that no recorded run produced."""
    return D("needs_grading",
             f"你的 {name} 在用例 {label} 中调用 {error.standin} 时，传入的值与正确的计算过程不同（{error.what}）："
             f"学生包里只有正确计算的中间结果，没有参考实现，所以这里无法指出具体错误。"
             f"请检查传给 {error.standin} 的值是怎样算出来的。" + GRADING_ZH,
             f"in case {label} your {name} calls {error.standin} with values the correct computation never produces "
             f"({error.what}): the kit holds the correct intermediate results only, no reference implementation, so it "
             f"cannot name the mistake. Check how the values you pass to {error.standin} are computed. " + GRADING_EN)
