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

import math

import numpy as np

import reludrop_core as core

from . import _messages as msg
from . import _trusted
from ._cases import generator, network, unpack
from ._compare import NotNumeric, as_array, close
from ._runner import namespaces, raised, value_check
from ._sandbox import run_repeated
from ._spec import matches
from .network import REFERENCE, TRUSTED_NAMES, ForwardSpec, _activation, _NetworkSpec

D = msg.Diagnosis
#: Probability that a correct Dropout fails the frequency test, at most.
FALSE_FAILURE = 1e-9


def keep_count(size, ratio):
    """num = round(size * (1 - ratio)), the handout's number of kept nodes."""
    return int(np.round(size * (1 - ratio)))


def hoeffding_bound(size, draws, false_failure=FALSE_FAILURE):
    """Half-width t such that P(any of ``size`` nodes' keep frequency over ``draws`` calls is off by >= t) <= false_failure.

    Each node's count of keeps is Binomial(draws, num/size); Hoeffding gives
    P(|freq - p| >= t) <= 2 exp(-2 draws t^2), and a union bound over the nodes.
    """
    return math.sqrt(math.log(2 * size / false_failure) / (2 * draws))


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
        found = _judge_dropout(size, ratio, outcomes, draws, label)
        if found is not None:
            ctx.fail(found)
    return ctx.success(len(cases))


def _judge_dropout(size, ratio, outcomes, draws, label):
    inputs = {"size": size, "ratio": ratio}
    num = keep_count(size, ratio)
    gain = size / num
    if not outcomes[-1].ok:
        return raised("Dropout", outcomes[-1].error, msg.case_details(label, inputs))
    try:
        masks = np.array([as_array(o.value).ravel() for o in outcomes])
    except (NotNumeric, ValueError):
        return D("not_numeric", "Dropout 应返回长度为 size 的数值数组 ym。", "Dropout must return a numeric array ym of length size.",
                 msg.case_details(label, inputs, got=outcomes[0].value))
    first = as_array(outcomes[0].value)
    expected = np.where(np.arange(size) < num, gain, 0.0)
    details = msg.case_details(label, inputs, expected, first, None, [
        ("说明", "note", f"期望：恰好 num = round(size * (1 - ratio)) = {num} 个节点为 size/num = {gain:.6g}，其余为 0（位置随机）"
                        f" / expected: exactly num = {num} nodes equal to size/num = {gain:.6g}, the rest 0 (at random places)")])
    if masks.ndim != 2 or masks.shape[1] != size or first.ndim > 2 or (first.ndim == 2 and 1 not in first.shape):
        return D("wrong_shape", f"ym 的形状应为 (size,) = ({size},)，得到 {first.shape}。",
                 f"ym must have shape (size,) = ({size},), got {first.shape}.", details)
    counts = (masks != 0).sum(axis=1)
    kept = masks[masks != 0]
    if ratio == 0 and not close(masks, np.ones_like(masks)):
        return D("dropout_ratio_zero", "ratio = 0 时应保留全部节点，增益为 1（ym 全为 1）。",
                 "with ratio = 0 every node is kept with gain 1 (ym is all ones).", details)
    if not np.all(counts == counts[0]):
        if counts.max() <= num:
            return D("dropout_duplicates",
                     f"保留的节点数在各次调用间变化（{counts.min()} 到 {counts.max()}），且不超过 num = {num}：随机下标有重复。"
                     f"请不放回地抽取：np.random.permutation(size)[:num] 或 np.random.choice(size, num, replace=False)。",
                     f"the number of kept nodes varies between calls ({counts.min()} to {counts.max()}) and never exceeds "
                     f"num = {num}: the random indices repeat. Draw without replacement: np.random.permutation(size)[:num] "
                     f"or np.random.choice(size, num, replace=False).", details)
        return D("dropout_bernoulli",
                 f"保留的节点数在各次调用间变化（{counts.min()} 到 {counts.max()}）：你对每个节点独立抽签（如 np.random.rand(size) > ratio）。"
                 f"本课程的 Dropout 每次恰好保留 num = round(size * (1 - ratio)) = {num} 个节点。",
                 f"the number of kept nodes varies between calls ({counts.min()} to {counts.max()}): you draw each node on its "
                 f"own (np.random.rand(size) > ratio). The course's Dropout keeps exactly num = round(size * (1 - ratio)) = "
                 f"{num} nodes on every call.", details)
    count = int(counts[0])
    if count != num:
        if count == keep_count(size, 1 - ratio):
            return D("dropout_inverted_ratio",
                     f"你保留了 round(size * ratio) = {count} 个节点：ratio 是被丢弃（失活）节点的占比，应保留 "
                     f"num = round(size * (1 - ratio)) = {num} 个。",
                     f"you keep round(size * ratio) = {count} nodes: ratio is the fraction DROPPED, so keep "
                     f"num = round(size * (1 - ratio)) = {num}.", details)
        if count == int(size * (1 - ratio)):
            return D("dropout_truncates",
                     f"int(size * (1 - ratio)) 向下取整，得到 {count}：请四舍五入，num = int(np.round(size * (1 - ratio))) = {num}。",
                     f"int(size * (1 - ratio)) rounds down, giving {count}: round it, num = int(np.round(size * (1 - ratio))) = {num}.",
                     details)
        return D("dropout_count", f"每次应恰好保留 num = round(size * (1 - ratio)) = {num} 个节点，你保留了 {count} 个。",
                 f"each call must keep exactly num = round(size * (1 - ratio)) = {num} nodes; you keep {count}.", details)
    if not np.allclose(kept, gain, rtol=1e-9, atol=0):
        value = float(kept[0])
        for code, alt, zh, en in (
            ("dropout_no_gain", 1.0, "保留的节点没有乘增益：应为 size / num，使各节点之和保持为 size。",
             "the kept nodes carry no gain: it is size / num, so that the sum stays size."),
            ("dropout_gain_formula", 1 / (1 - ratio) if ratio < 1 else np.nan,
             f"增益用了 1 / (1 - ratio) = {value:.6g}：讲义的增益是 size / num = {gain:.6g}，它使和恰好保持为 size。",
             f"the gain is 1 / (1 - ratio) = {value:.6g}: the handout's gain is size / num = {gain:.6g}, which keeps the "
             f"sum exactly size."),
            ("dropout_gain_inverted", num / size, f"增益倒过来了：应为 size / num = {gain:.6g}，不是 num / size。",
             f"the gain is upside down: it is size / num = {gain:.6g}, not num / size."),
        ):
            if np.allclose(kept, alt, rtol=1e-9, atol=0):
                return D(code, zh, en, details)
        return D("dropout_gain", f"保留节点的值应为增益 size / num = {gain:.6g}，且各节点之和为 size = {size}。",
                 f"the kept nodes must equal the gain size / num = {gain:.6g}, and the sum must be size = {size}.", details)
    if draws > 1 and num < size:
        distinct = len({m.tobytes() for m in masks[:20]})
        if distinct == 1:
            return D("dropout_not_fresh",
                     "每次调用返回同一个掩码：Dropout 每次都应随机选择新的节点（不要在 Dropout 里调用 np.random.seed，"
                     "也不要用固定的下标）。",
                     "every call returns the same mask: Dropout must pick new random nodes on each call (do not call "
                     "np.random.seed inside Dropout, and do not use fixed indices).", details)
    if draws >= 500:
        freq = (masks != 0).mean(axis=0)
        t = hoeffding_bound(size, draws)
        p = num / size
        off = np.flatnonzero(np.abs(freq - p) >= t)
        if off.size:
            shown = ", ".join(f"{j}: {freq[j]:.3f}" for j in off[:6])
            return D("dropout_biased",
                     f"在 {draws} 次调用中，有节点被保留的频率偏离 num/size = {p:.3f} 超过 {t:.3f}（节点: 频率 {shown}）："
                     f"每个节点被保留的机会应相同。请从全部 size 个节点中抽取，如 np.random.permutation(size)[:num]。",
                     f"over {draws} calls some nodes are kept with a frequency more than {t:.3f} away from num/size = {p:.3f} "
                     f"(node: frequency {shown}): every node must have the same chance. Draw from all size nodes, e.g. "
                     f"np.random.permutation(size)[:num].", details)
    return None


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
