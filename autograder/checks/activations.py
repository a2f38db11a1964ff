"""Checks of the activations and their gradients: ReLU, sigmoid, softmax.

Each is judged entry by entry against the reference on arrays z of shape
(m, k) with exact zeros (ReLU'(0) may be 0 or 1) and, for sigmoid and
softmax, entries as large as |z| = 1000 (a naive sigmoid that overflows
with a warning but returns the right value passes; a softmax that returns
nan does not). ``softmax_gradient`` is judged by the backward it induces.
"""

import numpy as np

from reludrop_core import ReLU as ref_relu
from reludrop_core import activation_backward as ref_backward
from reludrop_core import sigmoid as ref_sigmoid
from reludrop_core import softmax as ref_softmax
from reludrop_core import softmax_gradient as ref_softmax_gradient

from . import _messages as msg
from . import _trusted
from ._cases import elementwise_z, random_shape
from ._compare import as_array, close, rel_error
from ._runner import value_check
from ._spec import Spec, first_match, matches, wrong_shape

D = msg.Diagnosis


class _Elementwise(Spec):
    """An entry-by-entry function of z (m, k): the result must have z's shape."""

    reference_fn = None
    large = 0.0

    def expected(self, case):
        return type(self).reference_fn(case.args[0])

    def hidden_cases(self, rng):
        out = []
        for i in range(6):
            out.append((elementwise_z(rng, random_shape(rng, 2, 40), large=self.large * (i % 2)),))
        return out

    def judge(self, case, value):
        return close(as_array(value), self.reference(case))

    def diagnose(self, case, outcome):
        got = as_array(outcome.value)
        z = case.args[0]
        if got.shape != z.shape:
            if got.size == z.size:
                return wrong_shape(z.shape, got.shape, "不要改变输入的形状。", "Keep the input's shape.")
            return wrong_shape(z.shape, got.shape)
        return self.fingerprint(z, got)

    def fingerprint(self, z, got):
        return None


# --- ReLU -------------------------------------------------------------------------------------------------

class ReLUSpec(_Elementwise):
    name = "ReLU"
    reference_fn = staticmethod(ref_relu)

    def visible(self, rng):
        return [(np.array([[-2.0, -0.5, 0.0, 0.5, 2.0]]),),
                (elementwise_z(rng, (4, 6)),),
                (elementwise_z(rng, (3, 3)),)]

    def fingerprint(self, z, got):
        found = first_match(got, [
            ("relu_min", np.minimum(z, 0), "你返回了 min(0, z)：ReLU 是 max(0, z)，应使用 np.maximum(0, z)。",
             "you return min(0, z): ReLU is max(0, z); use np.maximum(0, z)."),
            ("relu_is_gradient", (z > 0) * 1.0, "你返回的是 ReLU 的导数（z > 0），而不是 ReLU 本身 max(0, z)。",
             "you return ReLU's derivative (z > 0), not ReLU itself, max(0, z)."),
            ("relu_abs", np.abs(z), "你返回了 |z|：负数输入应变为 0，而不是取绝对值。请用 np.maximum(0, z)。",
             "you return |z|: negative inputs must become 0, not their absolute value. Use np.maximum(0, z)."),
        ])
        if found:
            return found
        neg = z < 0
        if neg.any() and close(got[~neg], z[~neg]):
            c = float(np.mean(got[neg] / z[neg]))
            if 0 < c < 1 and matches(got, np.where(neg, c * z, z)):
                return D("relu_leaky", f"你写的是 Leaky ReLU（负数乘以 {c:g}）：本课程的 ReLU 对负数输出 0。",
                         f"you wrote a leaky ReLU (negatives times {c:g}): the course's ReLU outputs 0 for negatives.")
        return None


class ReLUGradientSpec(_Elementwise):
    name = "ReLU_gradient"
    reference_fn = staticmethod(lambda z: (np.asarray(z) > 0) * 1.0)

    visible = ReLUSpec.visible

    def judge(self, case, value):
        got, z = as_array(value), case.args[0]
        if got.shape != z.shape:
            return False
        zero = z == 0
        return close(got[~zero], self.reference(case)[~zero]) and bool(np.all((got[zero] == 0) | (got[zero] == 1)))

    def fingerprint(self, z, got):
        found = first_match(got, [
            ("relu_grad_is_relu", np.maximum(z, 0), "你返回的是 ReLU 本身 max(0, z)，而不是它的导数：z > 0 处为 1，其余为 0。",
             "you return ReLU itself, max(0, z), not its derivative: 1 where z > 0, else 0."),
            ("relu_grad_flipped", (z < 0) * 1.0, "导数的方向反了：ReLU 在 z > 0 处导数为 1，在 z < 0 处为 0。",
             "the derivative is the wrong way round: ReLU's derivative is 1 where z > 0 and 0 where z < 0."),
            ("relu_grad_flipped", (z <= 0) * 1.0, "导数的方向反了：ReLU 在 z > 0 处导数为 1，在 z < 0 处为 0。",
             "the derivative is the wrong way round: ReLU's derivative is 1 where z > 0 and 0 where z < 0."),
            ("relu_grad_sign", np.sign(z), "np.sign(z) 在 z < 0 处给出 -1，但 ReLU 在那里的导数是 0。请用 z > 0。",
             "np.sign(z) gives -1 where z < 0, but ReLU's derivative there is 0. Use z > 0."),
        ])
        if found:
            return found
        zero = z == 0
        if zero.any() and close(got[~zero], (z[~zero] > 0) * 1.0):
            v = float(got[zero][0])
            return D("relu_grad_at_zero", f"z = 0 处你的导数是 {v:g}：本课程接受 0 或 1（约定取 0），请用 z > 0 或 z >= 0。",
                     f"at z = 0 your derivative is {v:g}: the course accepts 0 or 1 (we take 0); use z > 0 or z >= 0.")
        return None


# --- sigmoid ------------------------------------------------------------------------------------------------

class SigmoidSpec(_Elementwise):
    name = "sigmoid"
    reference_fn = staticmethod(ref_sigmoid)
    large = 0.2

    def visible(self, rng):
        return [(np.array([[-1000.0, -50.0, -1.0, 0.0, 1.0, 50.0, 1000.0]]),),
                (elementwise_z(rng, (4, 5)),),
                (elementwise_z(rng, (3, 3), large=0.3),)]

    def fingerprint(self, z, got):
        found = first_match(got, [
            ("sigmoid_sign", ref_sigmoid(-z), "符号错了：你计算的是 1 / (1 + exp(z))，应为 1 / (1 + np.exp(-z))。",
             "wrong sign: you compute 1 / (1 + exp(z)); it is 1 / (1 + np.exp(-z))."),
            ("sigmoid_precedence", 1 + np.exp(-z), "运算优先级错误：1/1+np.exp(-z) 等于 1 + exp(-z)。请加括号：1 / (1 + np.exp(-z))。",
             "operator precedence: 1/1+np.exp(-z) is 1 + exp(-z). Add brackets: 1 / (1 + np.exp(-z))."),
        ])
        if found:
            return found
        if not np.all(np.isfinite(got)):
            return D("sigmoid_overflow_nan",
                     "对很大的 |z| 你的 sigmoid 返回了 nan 或 inf（如 np.exp(z) / (1 + np.exp(z)) 在 z = 1000 时是 inf/inf）。"
                     "请用 1 / (1 + np.exp(-z))：exp 溢出为 inf 时结果仍是正确的 0。",
                     "for large |z| your sigmoid returns nan or inf (np.exp(z) / (1 + np.exp(z)) is inf/inf at z = 1000). "
                     "Use 1 / (1 + np.exp(-z)): when exp overflows to inf the result is still the right 0.")
        return None


class SigmoidGradientSpec(_Elementwise):
    name = "sigmoid_gradient"
    reference_fn = staticmethod(lambda z: ref_sigmoid(z) * (1 - ref_sigmoid(z)))
    swaps = {"sigmoid": _trusted.sigmoid}
    large = 0.2
    visible = SigmoidSpec.visible

    def fingerprint(self, z, got):
        s = ref_sigmoid(z)
        found = first_match(got, [
            ("sigmoid_grad_on_z", z * (1 - z), "你把公式 s(1 - s) 直接用在了 z 上：应先算 s = sigmoid(z)，再返回 s * (1 - s)。",
             "you applied s(1 - s) to z itself: compute s = sigmoid(z) first, then return s * (1 - s)."),
            ("sigmoid_grad_is_sigmoid", s, "你返回的是 sigmoid(z) 本身，而不是它的导数 s * (1 - s)。",
             "you return sigmoid(z) itself, not its derivative s * (1 - s)."),
            ("sigmoid_grad_plus", s * (1 + s), "符号错了：sigmoid 的导数是 s * (1 - s)，不是 s * (1 + s)。",
             "wrong sign: the sigmoid's derivative is s * (1 - s), not s * (1 + s)."),
        ])
        if found:
            return found
        if not np.all(np.isfinite(got)):
            return D("nonfinite", "对很大的 |z| 你的结果含 nan 或 inf（如 exp(-z) / (1 + exp(-z))**2 在 z = -1000 时是 inf/inf）。"
                     "请写成 s * (1 - s)，s = sigmoid(z)。",
                     "for large |z| your result has nan or inf (exp(-z) / (1 + exp(-z))**2 is inf/inf at z = -1000). "
                     "Write it as s * (1 - s) with s = sigmoid(z).")
        return None


# --- softmax ----------------------------------------------------------------------------------------------------

def _offset_rows(rng, shape, offsets):
    z = rng.normal(0, 2, size=shape)
    return z + np.resize(np.asarray(offsets, dtype=float), shape[0])[:, None]


class SoftmaxSpec(_Elementwise):
    name = "softmax"
    reference_fn = staticmethod(ref_softmax)

    def visible(self, rng):
        return [(rng.normal(0, 2, size=(3, 4)),),
                (rng.normal(0, 2, size=(4, 4)),),
                (_offset_rows(rng, (3, 4), [800.0, 0.0, -800.0]),)]

    def hidden_cases(self, rng):
        out = []
        for i in range(6):
            shape = random_shape(rng, 2, 30)
            offsets = rng.uniform(-900, 900, size=shape[0]) if i % 2 else np.zeros(shape[0])
            out.append((_offset_rows(rng, shape, offsets),))
        return out

    def fingerprint(self, z, got):
        alternatives = []
        # Each wrong normalisation, after each way of (not) stabilising the exponent.
        for d in (np.exp(z - z.max(axis=1, keepdims=True)), np.exp(z), np.exp(z - z.max())):
            alternatives += [
                ("softmax_global_sum", d / d.sum(),
                 "你除以了整个数组的和 d.sum()：softmax 是按行归一化的，应为 d / d.sum(axis=1, keepdims=True)。",
                 "you divide by the sum of the whole array, d.sum(): softmax normalises each row; use "
                 "d / d.sum(axis=1, keepdims=True)."),
                ("softmax_axis0", d / d.sum(axis=0, keepdims=True),
                 "你按列求和（axis=0）：每个样本是一行，应按行求和 d.sum(axis=1, keepdims=True)。",
                 "you sum over columns (axis=0): each sample is a row; sum over rows, d.sum(axis=1, keepdims=True)."),
            ]
            if z.shape[0] == z.shape[1]:
                alternatives.append((
                    "softmax_no_keepdims", d / d.sum(axis=1),
                    "d.sum(axis=1) 的形状是 (m,)，会按列去除：请保持为列向量，d.sum(axis=1, keepdims=True) 或 .reshape(-1, 1)。",
                    "d.sum(axis=1) has shape (m,) and divides the columns: keep it a column, d.sum(axis=1, keepdims=True) "
                    "or .reshape(-1, 1)."))
        e, g = np.exp(z), np.exp(z - z.max())
        alternatives = [
            ("softmax_global_max", g / g.sum(axis=1, keepdims=True),
             "你减去了整个数组的最大值 z.max()：与最大值相差很远的行 exp 下溢为 0，得到 0/0 = nan。请减去每行自己的最大值："
             "z - z.max(axis=1, keepdims=True)。",
             "you subtract the maximum of the whole array, z.max(): rows far below it underflow to 0 and give 0/0 = nan. "
             "Subtract each row's own maximum: z - z.max(axis=1, keepdims=True)."),
            ("softmax_overflow", e / e.sum(axis=1, keepdims=True),
             "输入很大时 np.exp(z) 溢出为 inf，inf/inf = nan。请先减去每行的最大值（结果不变）："
             "d = np.exp(z - z.max(axis=1, keepdims=True))。",
             "for large inputs np.exp(z) overflows to inf and inf/inf = nan. Subtract each row's maximum first "
             "(the result does not change): d = np.exp(z - z.max(axis=1, keepdims=True))."),
        ] + alternatives
        found = first_match(got, alternatives)
        if found:
            return found
        if np.all(np.isfinite(got)) and not close(got.sum(axis=1), np.ones(z.shape[0])):
            return D("softmax_rows", "每一行的和应为 1，但你的结果不是：请按行归一化。",
                     "each row should sum to 1 but yours do not: normalise each row.")
        if not np.all(np.isfinite(got)):
            return D("softmax_overflow", "你的 softmax 对很大的输入返回 nan 或 inf：请先减去每行的最大值。",
                     "your softmax returns nan or inf for large inputs: subtract each row's maximum first.")
        return None


# --- softmax_gradient ---------------------------------------------------------------------------------------------

class SoftmaxGradientSpec(Spec):
    """Judged by the backward it induces: for upstream errors e, e @ J per row = s * (e - rowsum(e * s))."""

    name = "softmax_gradient"
    swaps = {"softmax": _trusted.softmax}

    def visible(self, rng):
        return [(rng.normal(0, 2, size=(3, 4)),), (rng.normal(0, 1, size=(5, 3)),)]

    def hidden_cases(self, rng):
        return [(rng.normal(0, 2, size=random_shape(rng, 2, 12)),) for _ in range(5)]

    def _errors(self, case):
        if "errors" not in case.info:
            rng = np.random.default_rng(case.seed)
            case.info["errors"] = [rng.normal(size=case.args[0].shape) for _ in range(3)]
        return case.info["errors"]

    def expected(self, case):
        J = ref_softmax_gradient(case.args[0])
        return [ref_backward(J, e) for e in self._errors(case)]

    def backward(self, case, value):
        J = as_array(value)
        m, k = case.args[0].shape
        if J.shape == (m, k, k):
            return [np.einsum("ij,ijl->il", e, J) for e in self._errors(case)]
        if J.shape == (m, k):
            return [e * J for e in self._errors(case)]
        return None

    def judge(self, case, value):
        got = self.backward(case, value)
        return got is not None and all(close(g, x) for g, x in zip(got, self.reference(case)))

    def diagnose(self, case, outcome):
        J = as_array(outcome.value)
        z = case.args[0]
        m, k = z.shape
        s = ref_softmax(z)
        if J.shape not in ((m, k, k), (m, k)):
            return wrong_shape((m, k, k), J.shape, "每个样本一个 k×k 雅可比矩阵：J[i] = np.diag(s[i]) - np.outer(s[i], s[i])。",
                               "one k x k Jacobian per sample: J[i] = np.diag(s[i]) - np.outer(s[i], s[i]).")
        if J.ndim == 2 and matches(J, s * (1 - s)):
            return D("softmax_grad_diagonal",
                     "你返回了讲义中的 s * (1 - s)：它只是 softmax 雅可比矩阵的对角线，忽略了每个输出对同一行其他输入的依赖，"
                     "反向传播的梯度会差 30-70%。请返回完整的雅可比矩阵，形状 (m, k, k)："
                     "s[:, :, None] * (np.eye(k) - s[:, None, :])。",
                     "you return the handout's s * (1 - s): only the diagonal of the softmax Jacobian, which ignores how "
                     "each output depends on the other inputs of its row, so backprop's gradient is off by 30-70 %. "
                     "Return the full Jacobian, shape (m, k, k): s[:, :, None] * (np.eye(k) - s[:, None, :]).")
        if J.ndim == 3 and matches(J, (s * (1 - s))[:, :, None] * np.eye(k)):
            return D("softmax_grad_diagonal",
                     "你的雅可比矩阵只有对角线 s * (1 - s)（讲义的写法）：softmax 的每个输出还依赖同一行的其他输入，"
                     "非对角元为 -s_j * s_l。请返回 np.diag(s) - np.outer(s, s)（每个样本一个）。",
                     "your Jacobian has only the diagonal s * (1 - s) (the handout's formula): each softmax output also "
                     "depends on the other inputs of its row, off-diagonal entries -s_j * s_l. Return "
                     "np.diag(s) - np.outer(s, s) for each sample.")
        if J.ndim == 3 and matches(J, -s[:, :, None] * s[:, None, :]):
            return D("softmax_grad_missing_diagonal",
                     "你漏掉了对角线上的 s_j 项：J = np.diag(s) - np.outer(s, s)。",
                     "you left out the s_j term on the diagonal: J = np.diag(s) - np.outer(s, s).")
        return None

    def details(self, case, outcome):
        if not outcome.ok:
            return msg.case_details(case.label, case.inputs())
        e = self._errors(case)[0]
        expected = self.reference(case)[0]
        try:
            got = self.backward(case, outcome.value)
        except Exception:
            got = None
        extra = [("说明", "note", "比较的是 e @ J（逐行），即它在反向传播中的作用 / compared: e @ J per row, what it does in backprop")]
        if got is None:
            return msg.case_details(case.label, {**case.inputs(), "e": e}, expected, outcome.value, None, extra)
        return msg.case_details(case.label, {**case.inputs(), "e": e}, expected, got[0], rel_error(got[0], expected), extra)


# --- the public checks ------------------------------------------------------------------------------------------------

def check_ReLU(ReLU, namespace=None, *, ctx):
    """Check the student's ``ReLU(z)``: z (m, k) -> max(0, z), shape (m, k).

    Inputs include exact zeros. ``np.matrix`` or ``ndarray`` results, loops over entries accepted.
    """
    return value_check(ctx, ReLU, namespace, ReLUSpec())


def check_ReLU_gradient(ReLU_gradient, namespace=None, *, ctx):
    """Check ``ReLU_gradient(z)``: z (m, k) -> 1 where z > 0, 0 where z < 0, shape (m, k).

    At z == 0 either 0 or 1 is accepted; bool results are accepted.
    """
    return value_check(ctx, ReLU_gradient, namespace, ReLUGradientSpec())


def check_sigmoid(sigmoid, namespace=None, *, ctx):
    """Check ``sigmoid(z)``: z (m, k) -> 1 / (1 + exp(-z)), shape (m, k), for |z| up to 1000.

    A naive formula that overflows with a RuntimeWarning but returns the right value passes, silently.
    """
    return value_check(ctx, sigmoid, namespace, SigmoidSpec())


def check_sigmoid_gradient(sigmoid_gradient, namespace=None, *, ctx):
    """Check ``sigmoid_gradient(z)``: z (m, k) -> s * (1 - s), s = sigmoid(z), shape (m, k).

    While it runs, ``sigmoid`` in the namespace is the grader's own (a mistake in sigmoid costs marks once).
    """
    return value_check(ctx, sigmoid_gradient, namespace, SigmoidGradientSpec())


def check_softmax(softmax, namespace=None, *, ctx):
    """Check ``softmax(z)``: z (m, k) -> exp(z) / rowsum(exp(z)), shape (m, k).

    Rows must sum to 1, not change when a constant is added to a row, and stay finite for |z| ~ 1000.
    """
    return value_check(ctx, softmax, namespace, SoftmaxSpec())


def check_softmax_gradient(softmax_gradient, namespace=None, *, ctx):
    """Check ``softmax_gradient(z)`` by the backward it induces: z (m, k) -> J (m, k, k).

    For upstream errors e (m, k), ``einsum('ij,ijl->il', e, J)`` must equal s * (e - rowsum(e * s)).
    A full Jacobian (m, k, k) is the answer; a diagonal (m, k) is used as e * J and passes only if right
    (the handout's s * (1 - s) is recognised and named). ``softmax`` is the grader's own while it runs.
    """
    return value_check(ctx, softmax_gradient, namespace, SoftmaxGradientSpec())
