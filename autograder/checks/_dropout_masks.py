"""Judging the masks a student's Dropout(size, ratio) returned: counts, gains, freshness, frequencies.

Needs no reference: every property is checked on the masks themselves, so the student kit's visible
checks ship this module as it is (``check_Dropout`` and the kit both call ``judge_masks``).
"""

import math

import numpy as np

from . import _messages as msg
from ._compare import NotNumeric, as_array, close
from ._errors import raised

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


def judge_masks(size, ratio, outcomes, draws, label):
    """The Diagnosis of the first property the ``draws`` masks in ``outcomes`` (Outcome-like: ok, value, error)
    of ``Dropout(size, ratio)`` break, or None when they are right."""
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
