"""Check of ReLU_dropout_gradient: the exact derivative of a ReLU hidden layer under Dropout (notebook 04).

A hidden layer's linear output is z (m, k); a Dropout mask (k,) holds 0 for
a dropped node and the gain size/num for a kept one; the layer outputs
a = ReLU(z) * mask (m, k). Its derivative is g = mask * ReLU'(z) (m, k):
the gain where z > 0 and the node is kept, 0 elsewhere. The student sees
the gain only as a / z where z > 0; the check built the mask, so it knows
each column's gain and judges column by column. At z == 0 it accepts 0 or
the column's gain (ReLU'(0) taken as 0 or as 1).

Letters: m samples, k nodes of the hidden layer.
"""

import numpy as np

from . import _messages as msg
from . import _trusted
from ._cases import Case, elementwise_z, twin
from ._compare import ATOL, as_array, rel_error
from ._runner import value_check
from ._spec import Spec, wrong_shape
from ._dropout_masks import keep_count

D = msg.Diagnosis

#: Relative tolerance: float32 arithmetic passes; every known mistake is off by a factor (the gain, 1/gain).
RTOL = 1e-6
#: The ratios of the hidden cases (as the notebook's own hidden loop drew them).
RATIOS = (0.1, 0.2, 0.25, 0.5, 0.7)

#: The notebook's hand-worked example: node 2 dropped, gain 1.25 on the three kept nodes, one exact zero in z.
HAND_Z = np.array([[2.0, 3.0, -1.0, 0.5],
                   [-0.5, 1.0, 4.0, 0.0]])
HAND_MASK = np.array([1.25, 0.0, 1.25, 1.25])


def dropout_mask(rng, k, ratio):
    """A Dropout mask (k,): num = round(k * (1 - ratio)) nodes at random carry the gain k / num, the others 0."""
    num = keep_count(k, ratio)
    mask = np.zeros(k)
    mask[rng.permutation(k)[:num]] = k / num
    return mask


def column_factor(got, z, c, rtol=RTOL):
    """Is ``got`` (m, k) equal to c[j] * ReLU'(z) column by column, with ReLU'(0) either 0 or 1?

    That is: c[j] where z > 0, 0 where z < 0, 0 or c[j] where z == 0; every entry finite.
    """
    if got.shape != z.shape or not np.all(np.isfinite(got)):
        return False
    full = np.broadcast_to(np.asarray(c, dtype=np.float64), z.shape)
    is_zero = np.abs(got) <= ATOL
    is_c = np.abs(got - full) <= ATOL + rtol * np.abs(full)
    return bool(np.all(np.where(z > 0, is_c, np.where(z < 0, is_zero, is_zero | is_c))))


class ReLUDropoutGradientSpec(Spec):
    name = "ReLU_dropout_gradient"
    names = ("z", "a")
    # A student's ReLU_dropout_gradient may call the notebook's ReLU or ReLU_gradient (imported from the core).
    swaps = {"ReLU": _trusted.ReLU, "ReLU_gradient": _trusted.ReLU_gradient}

    def visible(self, rng):
        return [(HAND_Z, HAND_MASK),
                (HAND_Z, np.ones(4)),                                    # no Dropout: ReLU_gradient(z)
                (elementwise_z(rng, (6, 8), scale=2.0), dropout_mask(rng, 8, 0.25)),
                (elementwise_z(rng, (4, 10), scale=2.0), dropout_mask(rng, 10, 0.5))]

    def hidden_cases(self, rng):
        out = []
        for _ in range(20):
            m, k = int(rng.integers(1, 30)), int(rng.integers(4, 40))
            ratio = float(rng.choice(RATIOS))
            out.append((elementwise_z(rng, (m, k), zeros=0.1, scale=2.0), dropout_mask(rng, k, ratio)))
        return out

    def case(self, args, label, kind, seed):
        z, mask = args
        return Case(label, kind, self.names, (z, np.maximum(z, 0.0) * mask), info={"mask": mask}, seed=seed)

    def twin(self, case, rng):
        """z nudged (signs and zeros kept), a recomputed from it with the same mask."""
        t = twin(case, rng, (0,))
        t.args = (t.args[0], np.maximum(t.args[0], 0.0) * case.info["mask"])
        return t

    def expected(self, case):
        return case.info["mask"] * (case.args[0] > 0)

    def judge(self, case, value):
        return column_factor(as_array(value), case.args[0], case.info["mask"])

    def diagnose(self, case, outcome):
        got, z, mask = as_array(outcome.value), case.args[0], case.info["mask"]
        if got.shape != z.shape:
            if got.size == z.size:
                return wrong_shape(z.shape, got.shape, "不要改变输入的形状。", "Keep the input's shape.")
            return wrong_shape(z.shape, got.shape)
        kept = mask > 0
        for code, c in (("relu_dropout_no_gain", kept * 1.0),
                        ("relu_dropout_ignores_mask", np.ones_like(mask)),
                        ("relu_dropout_gain_inverted", np.divide(1.0, mask, out=np.zeros_like(mask), where=kept))):
            if column_factor(got, z, c):
                return _mistake(code)
        bad = ~np.isfinite(got)
        if bad.any() and np.all(z[bad] == 0):
            return _mistake("relu_dropout_divides_by_zero")
        active, inactive = z > 0, z < 0
        if (column_factor(got[active], z[active], np.broadcast_to(mask, z.shape)[active])
                and not np.all(np.abs(got[inactive]) <= ATOL)):
            return _mistake("relu_dropout_inactive_not_zero")
        return None

    def details(self, case, outcome):
        inputs = case.inputs()
        note = [("掩码（a 中隐含）", "mask (implied by a)", msg.show(case.info["mask"])),
                ("说明", "note", "期望值在 z == 0 处取 0；取该列的增益也算对 / expected shows 0 at z == 0; the column's gain "
                                 "is accepted there too")]
        if not outcome.ok:
            return msg.case_details(case.label, inputs, extra=note[:1])
        expected = self.reference(case)
        got = as_array(outcome.value)
        err = rel_error(got, expected) if got.shape == expected.shape else None
        return msg.case_details(case.label, inputs, expected, got, err, note)


def _mistake(code):
    """A fresh Diagnosis for a recognised mistake (the runner attaches the case to it)."""
    zh, en = _MISTAKES[code]
    return D(code, zh, en)


#: code -> (Chinese, English): what is wrong and how to fix it.
_MISTAKES = {
    "relu_dropout_no_gain": (
        "保留且 z > 0 的节点你给出了 1，而不是该节点的增益 size/num：这就是讲义的捷径 a_out > 0 漏掉的部分。"
        "在 z > 0 的位置 a = 增益 * z，所以导数是 a / z：np.divide(a, z, out=np.zeros_like(z), where=z > 0)。",
        "kept nodes with z > 0 get 1 instead of their gain size/num: that is what the handout's shortcut a_out > 0 "
        "leaves out. Where z > 0, a = gain * z, so the derivative is a / z: np.divide(a, z, out=np.zeros_like(z), "
        "where=z > 0)."),
    "relu_dropout_ignores_mask": (
        "你的结果与 ReLU_gradient(z) 相同，没有用到掩码：被丢弃的节点（a 为 0）导数应为 0，保留的节点应为增益 size/num。"
        "掩码只能从 a 中读出：在 z > 0 的位置它等于 a / z。",
        "your result is ReLU_gradient(z): it ignores the mask. A dropped node (a is 0) has derivative 0 and a kept one "
        "its gain size/num. The mask shows only in a: where z > 0 it equals a / z."),
    "relu_dropout_gain_inverted": (
        "增益倒过来了：你给出的是 num/size（即 z / a），而 a = 增益 * z，导数是 a / z = size/num。",
        "the gain is upside down: you give num/size (that is z / a), but a = gain * z, so the derivative is "
        "a / z = size/num."),
    "relu_dropout_divides_by_zero": (
        "z == 0 的位置你的结果是 nan 或 inf：a / z 在那里是 0/0。只在 z > 0 的位置做除法，其余位置为 0："
        "np.divide(a, z, out=np.zeros_like(z), where=z > 0)，或 np.where(z > 0, a / np.where(z > 0, z, 1), 0)。",
        "where z == 0 your result is nan or inf: a / z is 0/0 there. Divide only where z > 0 and give 0 elsewhere: "
        "np.divide(a, z, out=np.zeros_like(z), where=z > 0), or np.where(z > 0, a / np.where(z > 0, z, 1), 0)."),
    "relu_dropout_inactive_not_zero": (
        "z > 0 的位置正确，但 z < 0 的位置不是 0：ReLU 在那里的导数是 0。若用 np.divide(a, z, where=z > 0)，"
        "必须同时给 out=np.zeros_like(z)：没有 where 选中的位置保留 out 原来的值（不给 out 时是未初始化的内存）。",
        "right where z > 0, but not 0 where z < 0: ReLU's derivative is 0 there. With np.divide(a, z, where=z > 0), "
        "also pass out=np.zeros_like(z): the entries where does not select keep out's old values (uninitialised "
        "memory without out)."),
}


def check_ReLU_dropout_gradient(ReLU_dropout_gradient, namespace=None, *, ctx):
    """Check ``ReLU_dropout_gradient(z, a) -> g``: the derivative da/dz of a ReLU hidden layer under Dropout.

    z (m, k) the linear outputs, a (m, k) = ReLU(z) * mask with mask (k,) a Dropout mask (0 dropped, gain
    size/num kept); g (m, k) = mask * ReLU'(z): the gain where z > 0 and the node is kept, 0 elsewhere, and
    at z == 0 either 0 or the node's gain. ndarray or np.matrix results of any numeric dtype are accepted,
    and so is a computation that warns (0/0 inside np.where) but returns the right values. The handout's
    a > 0 (no gain), a plain a / z (nan at z == 0), ignoring the mask and an inverted gain are named.
    """
    return value_check(ctx, ReLU_dropout_gradient, namespace, ReLUDropoutGradientSpec())
