"""Checks of Dropout and forward_propagate_dropout.

``Dropout(size, ratio)`` is judged without relying on one way of drawing
(``np.random.permutation``, ``np.random.choice(size, num, replace=False)``,
a shuffle or a Generator all pass): on every call exactly
``num = round(size * (1 - ratio))`` nodes are kept, each with the gain
``size / num`` (so the sum is ``size``); masks are fresh on every call; and
over N calls every node is kept with a frequency within a Hoeffding bound
of ``num / size`` whose false-failure probability is below 1e-9
(deterministic: numpy's global generator is seeded once before the calls).

``forward_propagate_dropout`` is judged with ``Dropout`` frozen: the
namespace's ``Dropout`` is replaced by a recorder handing out exact masks
while the check runs, and restored after.
"""

import numpy as np

import reludrop_core as core

from . import _messages as msg
from . import _trusted
from ._cases import generator, network, unpack
from ._compare import close
from ._dropout_masks import FALSE_FAILURE, hoeffding_bound, judge_masks, keep_count  # noqa: F401  (re-exported)
from ._runner import namespaces, value_check
from ._sandbox import run_repeated
from ._spec import matches
from .network import REFERENCE, TRUSTED_NAMES, ForwardSpec, _activation, _NetworkSpec

D = msg.Diagnosis


# --- Dropout --------------------------------------------------------------------------------------------------

_VISIBLE_DROPOUT = ((10, 0.3, 1000), (7, 0.4, 40), (9, 0.25, 40), (10, 0.9, 40), (20, 0.2, 40), (5, 0.0, 5))


def _dropout_cases(hidden, seed):
    rng = generator("Dropout", False, None)
    cases = [(size, ratio, draws, int(rng.integers(2 ** 31)), f"#{i + 1}")
             for i, (size, ratio, draws) in enumerate(_VISIBLE_DROPOUT)]
    if hidden:
        rng = generator("Dropout", True, seed)
        for i in range(6):
            size = int(rng.integers(8, 40))
            while True:
                ratio = round(float(rng.uniform(0.1, 0.7)), 2)
                frac = size * (1 - ratio) % 1
                if 0.05 < frac < 0.45 or 0.55 < frac < 0.95:   # no ties, and round differs from int()
                    break
            cases.append((size, ratio, 2000 if i < 2 else 40, int(rng.integers(2 ** 31)), f"H{i + 1}"))
    return cases


def check_Dropout(Dropout, namespace=None, *, ctx):
    """Check ``Dropout(size, ratio) -> ym``, ym of shape (size,) ((1, size) and (size, 1) accepted).

    ratio is the fraction of nodes DROPPED. Every call keeps exactly num = round(size * (1 - ratio)) nodes,
    each with the gain size / num (0 elsewhere, so ym.sum() == size); masks are fresh on each call; each
    node is kept with frequency near num / size (binomial bound, false failure < 1e-9); ratio 0 keeps all.
    """
    ctx.verify()
    ctx.static(Dropout, namespace)
    cases = _dropout_cases(ctx.hidden, ctx.seed)

    for size, ratio, draws, case_seed, label in cases:
        outcomes = run_repeated(Dropout, (size, ratio), draws, case_seed, namespaces(Dropout, namespace), None,
                                ctx.tripwires)
        ctx.after(outcomes)
        found = judge_masks(size, ratio, outcomes, draws, label)
        if found is not None:
            ctx.fail(found)
    return ctx.success(len(cases))


# --- forward_propagate_dropout ------------------------------------------------------------------------------------------

class ForwardDropoutSpec(ForwardSpec):
    name = "forward_propagate_dropout"
    names = ("X", "thetas", "activate_fcn", "ratio")
    swaps = TRUSTED_NAMES

    def __init__(self, activation):
        _NetworkSpec.__init__(self, _activation(activation))

    def make(self, rng, size, m, act):
        size, _, X, _, params = network(rng, size, m)
        ratio = round(float(rng.uniform(0.2, 0.6)), 2)
        return (X, unpack(params, size), _trusted.ACTIVATIONS[act][0], ratio)

    swapped_per_case = ("Dropout",)   # frozen for each case by case_swaps

    def case_swaps(self, case):
        case.info["dropout"] = _trusted.FrozenDropout(case.seed)
        return {"Dropout": case.info["dropout"]}

    def masks(self, case):
        X, thetas, _, ratio = case.args
        widths = [t.shape[0] for t in thetas[:-1]]
        calls = case.info["dropout"].calls
        if len(calls) < len(widths):
            return None
        if any(n != w or r != ratio for (n, r, _), w in zip(calls, widths)):
            return None
        return [mask for _, _, mask in calls[:len(widths)]]

    def expected(self, case):
        masks = self.masks(case)
        if masks is None:
            return None
        return core.forward_propagate_masked(case.args[0], case.args[1], REFERENCE[self._act(case)][0], masks)

    def reference(self, case):
        return self.expected(case)

    def judge(self, case, value):
        return self.reference(case) is not None and super().judge(case, value)

    def diagnose(self, case, outcome):
        X, thetas, _, ratio = case.args
        f = REFERENCE[self._act(case)][0]
        calls = case.info["dropout"].calls
        z_got, a_got = self.got(outcome.value)
        L = len(thetas)
        plain = core.forward_propagate(X, thetas, f)
        if self.masks(case) is None:
            if not calls:
                if len(a_got) == L + 1 and all(close(a, b) for a, b in zip(a_got, plain[1])):
                    return D("dropout_not_applied", "前向传播没有做 Dropout：每个隐层都要乘以 Dropout(theta.shape[0], ratio)。",
                             "the forward pass does no Dropout: multiply every hidden layer by Dropout(theta.shape[0], ratio).")
                return D("dropout_not_called",
                         "没有调用 Dropout(size, ratio)：请用你写好的 Dropout 函数为每个隐层生成掩码，不要另写随机代码。",
                         "Dropout(size, ratio) is never called: use your Dropout function to make each hidden layer's mask "
                         "instead of drawing random numbers again.")
            if any(abs(r - (1 - ratio)) < 1e-12 and abs(r - ratio) > 1e-12 for _, r, _ in calls):
                return D("dropout_ratio_inverted_call", "调用 Dropout 时把 ratio 写成了 1 - ratio：ratio 就是丢弃的占比，直接传入。",
                         "Dropout was called with 1 - ratio: ratio already is the fraction dropped; pass it as it is.")
            if calls[0][0] == X.shape[1]:
                return D("dropout_on_input", "Dropout 作用到了输入层：只对隐层做 Dropout，输入 X 和输出层保持不变。",
                         "Dropout is applied to the input layer: drop hidden nodes only; the input X and the output layer stay as they are.")
            widths = [t.shape[0] for t in thetas[:-1]]
            return D("dropout_calls",
                     f"Dropout 的调用与隐层不符：应依次调用 Dropout(隐层宽度, ratio)，宽度为 {widths}；实际为 {[(n, r) for n, r, _ in calls]}。",
                     f"the Dropout calls do not match the hidden layers: expected Dropout(width, ratio) for widths {widths} "
                     f"in order; got (size, ratio) = {[(n, r) for n, r, _ in calls]}.")
        z_exp, a_exp = self.reference(case)
        if len(a_got) != L + 1 or len(z_got) != L + 1:
            return None
        if not close(a_got[0], X) or not close(z_got[0], X):
            return D("dropout_on_input", "z_out[0] 和 a_out[0] 应是原样的输入 X：不要对输入层做 Dropout。",
                     "z_out[0] and a_out[0] must be the input X as it is: do not apply Dropout to the input layer.")
        hidden_ok = all(close(a_got[i], a_exp[i]) for i in range(1, L))
        if hidden_ok and close(z_got[-1], z_exp[-1]) and not close(a_got[-1], a_exp[-1]):
            extra = [mask for n, _, mask in calls[L - 1:] if n == thetas[-1].shape[0]]
            if extra and matches(a_got[-1], a_exp[-1] * extra[0]) or not close(a_got[-1].sum(axis=1), np.ones(X.shape[0])):
                return D("dropout_on_output", "输出层也做了 Dropout：输出层应为普通的 softmax，a_out[-1] = softmax(z_out[-1])。",
                         "Dropout is applied to the output layer: the output is a plain softmax, a_out[-1] = softmax(z_out[-1]).")
        for i in range(1, L):
            if matches(a_got[i], plain[1][i]) and not matches(a_exp[i], plain[1][i]):
                return D("dropout_mask_not_applied", f"第 {i} 个隐层没有乘 Dropout 掩码：a = activate_fcn(z) * Dropout(theta.shape[0], ratio)。",
                         f"hidden layer {i} is not multiplied by its Dropout mask: a = activate_fcn(z) * Dropout(theta.shape[0], ratio).")
            mask = self.masks(case)[i - 1]
            if close(z_got[i], z_exp[i] * mask) or matches(a_got[i], f(z_exp[i] * mask)) and not hidden_ok:
                return D("dropout_before_activation",
                         "掩码乘在了激活函数之前（作用在 z 上）：sigmoid(0) = 0.5 而不是 0，且 z_out 应保存未丢弃的线性输出。"
                         "请先激活再乘掩码：a = activate_fcn(z) * Dropout(...)。",
                         "the mask is applied before the activation (to z): sigmoid(0) is 0.5, not 0, and z_out must hold the "
                         "linear output before Dropout. Activate first, then multiply: a = activate_fcn(z) * Dropout(...).")
        return None

    def details(self, case, outcome):
        text = super().details(case, outcome) if self.reference(case) is not None else msg.case_details(case.label, case.inputs())
        calls = [(n, r) for n, r, _ in case.info["dropout"].calls]
        return text + f"\n  Dropout 调用 / Dropout calls (size, ratio): {calls}"


def check_forward_propagate_dropout(forward_propagate_dropout, namespace=None, *, activation="sigmoid", ctx):
    """Check ``forward_propagate_dropout(X, thetas, activate_fcn, ratio) -> (z_out, a_out)``.

    As ``forward_propagate``, but hidden layer i+1 is ``activate_fcn(z) * Dropout(size[i+1], ratio)``,
    z_out unmasked, never the input or the (softmax) output. ``Dropout`` in the namespace is replaced,
    for the duration of the check, by a recorder that hands out exact masks; the result must be exact
    for those masks. ``activation``: "sigmoid" (notebook 03) or "relu".
    """
    return value_check(ctx, forward_propagate_dropout, namespace, ForwardDropoutSpec(activation))
