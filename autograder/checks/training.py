"""Check of train: the gradient-descent loop, full batch and mini-batch.

``train`` is judged on its loop alone: while it runs, the namespace's
``backprop`` and ``cost_fcn`` are recorders (correct ones that remember
every call), and ``forward_propagate`` and the activations are the
grader's own. The result must equal the reference ``reludrop_core.train``;
every recorded call must have received the handout's ``index``
(``np.cumsum(np.array(size[1:]) * np.array(size[:-1]))``, as a list,
ndarray or np.matrix row): the recorders cut the layers by ``size``, but a
student's own backprop and cost_fcn cut them by ``index``. The recorded calls tell
which mistake it is (a wrong index, computing on the whole set instead of
the mini-batch, a skipped batch, a wrong update, the cost recorded at the
wrong time, ratio not passed on).
"""

import numpy as np

import reludrop_core as core

from . import _messages as msg
from . import _trusted
from ._cases import generator, network
from ._compare import NotNumeric, as_array, close, rel_error
from ._runner import raised
from ._sandbox import Call
from .network import REFERENCE, TRUSTED_NAMES, _activation

D = msg.Diagnosis
NAMES = ("X", "Y", "params", "size", "alpha", "iters", "activate_fcn", "activate_fcn_gradient", "ratio", "step")

#: (size, m, alpha, iters, step, ratio) of the visible cases; the last only checks that ratio reaches backprop.
_VISIBLE = (([6, 5, 4], 6, 0.5, 4, -1, 0.0), ([6, 5, 4, 3], 7, 0.3, 3, 3, 0.0), ([5, 4, 3], 6, 0.2, 3, 2, 0.0),
            ([6, 5, 4], 5, 0.3, 2, 2, 0.5))


def _cases(activation, hidden, seed):
    rng = generator("train", False, None)
    specs = [(*v, f"#{i + 1}", int(rng.integers(2 ** 31))) for i, v in enumerate(_VISIBLE)]
    if hidden:
        rng = generator("train", True, seed)
        for i in range(5):
            size = [int(w) for w in rng.choice(np.arange(3, 10), size=int(rng.integers(3, 5)), replace=False)]
            m = int(rng.integers(4, 12))
            step = -1 if i == 0 else int(rng.integers(1, m))
            ratio = 0.4 if i == 4 else 0.0
            specs.append((size, m, round(float(rng.uniform(0.05, 0.5)), 3), int(rng.integers(3, 9)), step, ratio,
                          f"H{i + 1}", int(rng.integers(2 ** 31))))
    cases = []
    for size, m, alpha, iters, step, ratio, label, case_seed in specs:
        net = np.random.default_rng(case_seed)
        size, index, X, Y, params = network(net, size, m)
        f, g = _trusted.ACTIVATIONS[activation]
        cases.append({"label": label, "seed": case_seed, "args": (X, Y, params, size, alpha, iters, f, g, ratio, step),
                      "index": index, "activation": activation})
    return cases


def _style(args, style):
    X, Y, params, *rest = args
    if style == "matrix":
        return (np.asmatrix(X.copy()), np.asmatrix(Y.copy()), params.copy(), *rest)
    return (X.copy(), Y.copy(), params.copy(), *rest)


def check_train(train, namespace=None, *, activation="relu", ctx):
    """Check ``train(X, Y, params, size, alpha, iters, activate_fcn, activate_fcn_gradient, ratio=0., step=-1)``.

    Returns (params, cost): params (index[-1],) after ``iters`` epochs of gradient descent, one update per
    mini-batch of ``step`` rows taken in order (the last may be smaller; step = -1 is the full batch), each
    on its own slice; cost (iters,) ((iters, 1) and np.matrix accepted), cost[i] the loss without Dropout on
    all m samples at the parameters before epoch i's updates. The caller's params must not change. All
    arguments are passed positionally. ``backprop`` and ``cost_fcn`` in the namespace are recording references
    while it runs; every call must pass them index = np.cumsum(np.array(size[1:]) * np.array(size[:-1])) (any
    sequence type).
    """
    _activation(activation)
    ctx.verify()
    ctx.static(train, namespace)
    cases = _cases(activation, ctx.hidden, ctx.seed)
    for case in cases:
        found = _run_case(ctx, train, namespace, case)
        if found is not None:
            ctx.fail(found)
    return ctx.success(len(cases))


def _run_case(ctx, train, namespace, case):
    outcome = None
    for style in ("array", "matrix"):
        recorder = _trusted.RecordingBackprop(case["seed"])
        swaps = dict(TRUSTED_NAMES, forward_propagate=_trusted.forward_propagate, cost_fcn=recorder.cost,
                     backprop=recorder)
        (o,) = ctx.run([Call(train, _style(case["args"], style), seed=case["seed"])], train, namespace, swaps, NAMES)
        if o.ok and _judge(case, o.value, recorder):
            return None
        if outcome is None or (not outcome[0].ok and o.ok):
            outcome = (o, recorder)
    o, recorder = outcome
    if not o.ok:
        return raised("train", o.error, _details(case, None, recorder))
    try:
        result = _result(o.value)
    except (NotNumeric, TypeError, ValueError):
        return D("train_returns", "train 应返回 (params, cost)：训练后的参数（长度 index[-1]）和每轮一个值的代价历史。",
                 "train must return (params, cost): the trained parameters (length index[-1]) and one cost per epoch.",
                 _details(case, None, recorder))
    found = _diagnose(case, result, recorder)
    if found is None:
        return msg.mismatch(_details(case, result, recorder))
    found.details = _details(case, result, recorder)
    return found


def _result(value):
    params, cost = value
    params, cost = as_array(params), as_array(cost)
    return params.ravel(), cost


def _expected(case):
    if "expected" not in case:
        X, Y, params, size, alpha, iters, _, _, ratio, step = case["args"]
        f, g = REFERENCE[case["activation"]]
        case["expected"] = core.train(X, Y, params, size, alpha, iters, f, g, 0.0, step)
    return case["expected"]


def _judge(case, value, recorder):
    try:
        params, cost = _result(value)
    except (NotNumeric, TypeError, ValueError):
        return False
    iters, ratio = case["args"][5], case["args"][8]
    if _wrong_index(case, recorder) is not None:
        return False
    if cost.size != iters or (cost.ndim == 2 and 1 not in cost.shape) or cost.ndim > 2:
        return False
    if ratio > 0:
        updates = _update_calls(recorder.calls)
        return bool(updates) and all(c["ratio"] == ratio for c in updates)
    exp_params, exp_cost = _expected(case)
    return params.shape == exp_params.shape and rel_error(params, exp_params) <= 1e-7 and close(cost.ravel(), exp_cost, rtol=1e-7)


def _batches(m, step):
    step = m if step == -1 else step
    return [(j, min(j + step, m)) for j in range(0, m, step)]


def _trajectory(case):
    """The reference loop, batch by batch: params before each epoch and each batch, and the losses."""
    X, Y, params, size, alpha, iters, _, _, _, step = case["args"]
    f, g = REFERENCE[case["activation"]]
    index = case["index"]
    p = params.copy()
    before, batch_costs, after = [], [], []
    for _ in range(iters):
        before.append(core.cost_fcn(p, size, index, X, Y, f))
        costs = []
        for a, b in _batches(X.shape[0], step):
            c, grad = core.backprop(p, size, index, X[a:b], Y[a:b], f, g)
            costs.append(c)
            p = p - alpha * grad
        batch_costs.append(costs)
        after.append(core.cost_fcn(p, size, index, X, Y, f))
    return np.array(before), batch_costs, np.array(after)


def _diagnose(case, result, recorder):
    X, Y, params, size, alpha, iters, _, _, ratio, step = case["args"]
    m = X.shape[0]
    got_params, cost = result
    calls = recorder.calls
    wrong = _wrong_index(case, recorder)
    if wrong is not None:
        return wrong
    if cost.size != iters or cost.ndim > 2 or (cost.ndim == 2 and 1 not in cost.shape):
        return D("train_cost_length", f"代价历史应每轮一个值，共 iters = {iters} 个，你返回了形状 {cost.shape}。",
                 f"the cost history must have one entry per epoch, iters = {iters}, but has shape {cost.shape}.")
    batches = _batches(m, step)
    if ratio > 0:
        if not calls:
            return D("train_backprop_not_called", "train 没有调用 backprop 计算梯度。", "train does not call backprop for the gradient.")
        passed = sorted({c["ratio"] for c in _update_calls(calls)})
        return D("train_ratio_not_passed", f"train 没有把 ratio = {ratio} 传给 backprop（收到的是 {passed}）：Dropout 就不会生效。",
                 f"train does not pass ratio = {ratio} on to backprop (it received {passed}), so Dropout never happens.")
    if calls and len(batches) > 1 and all(c["X"].shape[0] == m for c in calls):
        return D("train_minibatch_whole_set",
                 "小批量训练时每次仍在整个数据集上计算梯度（讲义代码的缺陷：切出了 xs, ys 却把 X, Y 传给 backprop，"
                 "而且每轮只更新一次）。请在内层循环里对每个小批量调用 backprop(g, size, index, xs, ys, ...) 并更新 g。",
                 "with mini-batches the gradient is still computed on the whole set (the handout's defect: it slices xs, "
                 "ys but passes X, Y to backprop, and updates once per epoch). Call backprop(g, size, index, xs, ys, ...) "
                 "for each mini-batch inside the inner loop and update g there.")
    sizes = [c["X"].shape[0] for c in calls]
    if calls and len(batches) > 1:
        per_epoch = [b - a for a, b in batches]
        if sizes == per_epoch[:-1] * iters:
            return D("train_skips_last_batch", "每轮漏掉了最后一个小批量：循环应为 for j in range(0, m, step)，最后一批可以不满 step 行。",
                     "each epoch skips the last mini-batch: loop for j in range(0, m, step); the last batch may have fewer "
                     "than step rows.")
    updates = _updates(calls)
    if len(updates) >= 2:
        (p0, x0, y0), (p1, _, _) = updates[0], updates[1]
        f, g = REFERENCE[case["activation"]]
        grad = core.backprop(p0, size, case["index"], x0, y0, f, g)[1]
        d = p1 - p0
        for code, alt, zh, en in (
            ("train_ascent", alpha * grad, "参数更新的符号反了：梯度下降是 g = g - alpha * grad。",
             "the update has the wrong sign: gradient descent is g = g - alpha * grad."),
            ("train_alpha_missing", -grad, "更新时没有乘学习率 alpha：g = g - alpha * grad。",
             "the update leaves out the learning rate alpha: g = g - alpha * grad."),
        ):
            if rel_error(d, alt) <= 1e-6:
                return D(code, zh, en)
    elif calls and len(updates) == 1 and iters > 1:
        return D("train_no_update", "参数没有被更新：每次都用同一组参数调用 backprop。请写 g = g - alpha * grad，并用新的 g 继续。",
                 "the parameters never change: backprop is called with the same parameters every time. Write "
                 "g = g - alpha * grad and carry on with the new g.")
    exp_params, exp_cost = _expected(case)
    if rel_error(got_params, exp_params) <= 1e-7:
        before, batch_costs, after = _trajectory(case)
        got = cost.ravel()
        for code, alt, zh, en in (
            ("train_cost_after_update", after, "代价记录的时机错了：cost[i] 应是第 i 轮更新之前（用更新前的参数）的损失，你记录的是更新之后的。",
             "the cost is recorded at the wrong time: cost[i] is the loss before epoch i's updates, but you record it after them."),
            ("train_cost_batch_average", np.array([np.mean(c) for c in batch_costs]),
             "代价历史记录的是各小批量损失的平均：cost[i] 应是第 i 轮开始时在全部 m 个样本上的损失，如 cost_fcn(g, size, index, X, Y, ...)。",
             "the cost history holds the average of the mini-batch losses: cost[i] is the loss on all m samples at the "
             "start of epoch i, e.g. cost_fcn(g, size, index, X, Y, ...)."),
            ("train_cost_last_batch", np.array([c[-1] for c in batch_costs]),
             "代价历史记录的是每轮最后一个小批量的损失：cost[i] 应是第 i 轮开始时在全部 m 个样本上的损失。",
             "the cost history holds each epoch's last mini-batch loss: cost[i] is the loss on all m samples at the start of epoch i."),
            ("train_cost_first_batch", np.array([c[0] for c in batch_costs]),
             "代价历史记录的是每轮第一个小批量的损失：cost[i] 应是第 i 轮开始时在全部 m 个样本上的损失。",
             "the cost history holds each epoch's first mini-batch loss: cost[i] is the loss on all m samples at the start of epoch i."),
        ):
            if len(batches) == 1 and code != "train_cost_after_update":
                continue
            if got.shape == alt.shape and close(got, alt, rtol=1e-6):
                return D(code, zh, en)
    return None


#: Ways to get index wrong: (what it computes from size, Chinese hint, English hint).
_INDEX_MISTAKES = (
    (lambda w: np.cumsum(w[1:] * w[:1]), "看起来你把 size[:-1] 写成了 size[:1]。", "It looks like you wrote size[:1] for size[:-1]."),
    (lambda w: w[1:] * w[:-1], "你漏了 np.cumsum：index[i] 是第 i 层权重在 params 中的结束位置（累加），不是该层的大小。",
     "np.cumsum is missing: index[i] is where layer i's weights end in params (a running total), not the layer's size."),
    (lambda w: np.concatenate([[0], np.cumsum(w[1:] * w[:-1])]),
     "index 不应以 0 开头：它有 L 项，每层一项（该层的结束位置）；讲义的 backprop 用 index[i] 切出第 i 层。",
     "index must not start with 0: it has L entries, one per layer (where it ends); the handout's backprop cuts "
     "layer i at index[i]."),
)


def _wrong_index(case, recorder):
    """The ``train_wrong_index`` diagnosis if a call of backprop or cost_fcn got another index than the handout's,
    else None (``recorder``: the run's RecordingBackprop, whose ``cost`` recorded the cost_fcn calls)."""
    expected = np.asarray(case["index"], dtype=np.float64)
    wrong = [(name, c["index"]) for name, calls in (("backprop", recorder.calls), ("cost_fcn", recorder.cost.calls))
             for c in calls
             if c["index"] is None or c["index"].shape != expected.shape or not np.array_equal(c["index"], expected)]
    if not wrong:
        return None
    name, bad = wrong[0]
    size = case["args"][3]
    widths = np.array(size, dtype=np.float64)
    shown_zh, shown_en = ("不是数值的对象", "something that is not numbers") if bad is None else (_ints(bad), _ints(bad))
    hint_zh, hint_en = next(((zh, en) for alt, zh, en in _INDEX_MISTAKES
                             if bad is not None and np.array_equal(alt(widths), bad)), ("", ""))
    return D("train_wrong_index",
             f"train 传给 {name} 的 index 不对：size = {list(size)} 时应为 np.cumsum(np.array(size[1:]) * "
             f"np.array(size[:-1])) = {_ints(expected)}，收到的是 {shown_zh}。{hint_zh}",
             f"train passes {name} a wrong index: for size = {list(size)} it is np.cumsum(np.array(size[1:]) * "
             f"np.array(size[:-1])) = {_ints(expected)}, but {name} received {shown_en}. {hint_en}".rstrip())


def _ints(values):
    """A flat array of numbers as a list, whole numbers written as ints."""
    return [int(v) if float(v).is_integer() else float(v) for v in values]


def _update_calls(calls):
    """The calls after which the parameters change (and the last call): the ones whose gradient is used."""
    return [c for c, nxt in zip(calls, calls[1:] + [None])
            if nxt is None or not np.array_equal(c["params"], nxt["params"])]


def _updates(calls):
    """The calls whose parameters differ from the previous call's: one per update (a repeated call is a cost evaluation)."""
    out = []
    for c in calls:
        if not out or not np.array_equal(out[-1][0], c["params"]):
            out.append((c["params"], c["X"], c["Y"]))
    return out


def _details(case, result, recorder):
    X, Y, params, size, alpha, iters, _, _, ratio, step = case["args"]
    inputs = {"X": X, "Y": Y, "params": params, "size": size, "alpha": alpha, "iters": iters,
              "activate_fcn": case["activation"], "ratio": ratio, "step": step}
    extra = [("backprop 调用", "backprop calls",
              f"{len(recorder.calls)} 次，每次的样本数 / rows per call: {[c['X'].shape[0] for c in recorder.calls][:24]}"),
             ("期望的小批量", "expected batches", f"{_batches(X.shape[0], step)} × {iters}")]
    if result is None or ratio > 0:
        return msg.case_details(case["label"], inputs, extra=extra)
    got_params, cost = result
    exp_params, exp_cost = _expected(case)
    extra.insert(0, ("参数相对误差", "relative error of params",
                     f"{rel_error(got_params, exp_params):.3e}" if got_params.shape == exp_params.shape else f"shape {got_params.shape}"))
    return msg.case_details(case["label"], inputs, exp_cost, cost.ravel(),
                            rel_error(cost.ravel(), exp_cost) if cost.size == exp_cost.size else None, extra)
