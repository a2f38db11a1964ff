"""Checks of the network functions: forward_propagate, cost_fcn and backprop (with and without Dropout).

While they run, the student's namespace has ``ReLU``, ``ReLU_gradient``,
``sigmoid``, ``sigmoid_gradient``, ``softmax``, ``forward_propagate`` and
``cost_fcn`` bound to the grader's own (so a mistake in one of them costs
marks once, in its own check) and, for ``backprop`` with ``ratio > 0``,
``Dropout`` bound to a recorder that hands out exact masks and
``forward_propagate_dropout`` to a correct pass drawing from it: the
gradient must be exact for those masks.

Letters: m samples, n = size[0], k = size[-1], L = len(size) - 1 layers.
"""

import reludrop_core as core

from . import _messages as msg
from . import _trusted
from ._cases import network, random_size, unpack
from ._compare import as_array, as_scalar, close, rel_error, scalar_close
from ._fingerprints import backprop_diagnosis, cost_diagnosis, forward_diagnosis
from ._runner import value_check
from ._spec import Spec

#: The reference pair for each activation name, and the trusted pair handed to student code.
REFERENCE = {"relu": (core.ReLU, core.ReLU_gradient), "sigmoid": (core.sigmoid, core.sigmoid_gradient),
             "softmax": (core.softmax, core.softmax_gradient)}
TRUSTED_NAMES = {"ReLU": _trusted.ReLU, "ReLU_gradient": _trusted.ReLU_gradient, "sigmoid": _trusted.sigmoid,
                 "sigmoid_gradient": _trusted.sigmoid_gradient, "softmax": _trusted.softmax,
                 "forward_propagate": _trusted.forward_propagate, "cost_fcn": _trusted.cost_fcn}

_VISIBLE_NETS = (([6, 5, 4], 4, "relu"), ([6, 5, 4, 3], 5, "sigmoid"), ([7, 4, 6, 3], 6, "relu"))


def _activation(name):
    if name not in _trusted.ACTIVATIONS or name not in REFERENCE:
        raise ValueError(f"activation 必须是 'relu'、'sigmoid' 或 'softmax'，收到 {name!r}。\n"
                         f"activation must be 'relu', 'sigmoid' or 'softmax', got {name!r}.")
    return name


class _NetworkSpec(Spec):
    """Cases on small networks: visible ones fixed, hidden ones of random widths and depth."""

    swaps = TRUSTED_NAMES

    def __init__(self, activation=None):
        self.activation = activation

    def nets(self, rng, hidden):
        if not hidden:
            return [(size, m, self.activation or act) for size, m, act in _VISIBLE_NETS]
        out = [(random_size(rng), int(rng.integers(3, 13)), self.activation or ("relu", "sigmoid")[i % 2])
               for i in range(6)]
        out.append(([25, 20, 20, 20, 5], 5, self.activation or "relu"))
        return out

    def visible(self, rng):
        return [self.make(rng, *net) for net in self.nets(rng, False)]

    def hidden_cases(self, rng):
        return [self.make(rng, *net) for net in self.nets(rng, True)]


# --- forward_propagate ------------------------------------------------------------------------------------------

class ForwardSpec(_NetworkSpec):
    name = "forward_propagate"
    names = ("X", "thetas", "activate_fcn")
    perturb = (0, 1)

    def __init__(self, activation=None):
        super().__init__(activation)
        # Inference has no Dropout: a recorder stands in for Dropout, and any call to it is a mistake.
        self.recorder = _trusted.FrozenDropout(0)
        self.swaps = dict(TRUSTED_NAMES, Dropout=self.recorder)

    def make(self, rng, size, m, act):
        size, _, X, _, params = network(rng, size, m)
        return (X, unpack(params, size), _trusted.ACTIVATIONS[act][0])

    def _act(self, case):
        return next(name for name, pair in _trusted.ACTIVATIONS.items() if pair[0] is case.args[2])

    def expected(self, case):
        z_out, a_out = core.forward_propagate(case.args[0], case.args[1], REFERENCE[self._act(case)][0])
        return z_out, a_out

    def got(self, value):
        z_out, a_out = value
        return [as_array(z) for z in z_out], [as_array(a) for a in a_out]

    def judge(self, case, value):
        z_got, a_got = self.got(value)
        z_exp, a_exp = self.reference(case)
        return (len(z_got) == len(z_exp) and len(a_got) == len(a_exp)
                and all(close(g, e) for g, e in zip(z_got + a_got, z_exp + a_exp)))

    def diagnose(self, case, outcome):
        if self.recorder.calls:
            return msg.Diagnosis(
                "dropout_in_inference",
                "forward_propagate 调用了 Dropout：Dropout 只在训练时（forward_propagate_dropout）使用，推理（预测）时不丢弃任何节点。",
                "forward_propagate calls Dropout: Dropout belongs to training (forward_propagate_dropout); inference "
                "(prediction) drops no nodes.")
        return forward_diagnosis(self.got(outcome.value), self.reference(case), REFERENCE[self._act(case)][0])

    def details(self, case, outcome):
        inputs = case.inputs()
        if not outcome.ok:
            return msg.case_details(case.label, inputs)
        try:
            z_got, a_got = self.got(outcome.value)
        except Exception:
            return msg.case_details(case.label, inputs, extra=[("返回值", "returned", msg.show(outcome.value))])
        z_exp, a_exp = self.reference(case)
        for i in range(max(len(z_exp), len(z_got))):
            for label, got, exp in ((f"z_out[{i}]", z_got, z_exp), (f"a_out[{i}]", a_got, a_exp)):
                if i >= len(got) or i >= len(exp):
                    return msg.case_details(case.label, inputs, extra=[
                        ("层数", "layers", f"z_out/a_out 应各有 {len(z_exp)} 项，得到 {len(z_got)}、{len(a_got)} / "
                                          f"z_out and a_out must have {len(z_exp)} entries each, got {len(z_got)} and {len(a_got)}")])
                if not close(got[i], exp[i]):
                    err = rel_error(got[i], exp[i]) if got[i].shape == exp[i].shape else None
                    return msg.case_details(case.label, inputs, exp[i], got[i], err,
                                            [("第一处不同", "first difference", label)])
        return msg.case_details(case.label, inputs)


def check_forward_propagate(forward_propagate, namespace=None, *, ctx):
    """Check ``forward_propagate(X, thetas, activate_fcn) -> (z_out, a_out)``.

    X (m, n); thetas[i] (size[i+1], size[i]); z_out and a_out lists of L + 1 arrays (m, size[i]),
    z_out[0] = a_out[0] = X, hidden layers ``activate_fcn``, last layer softmax. Both ReLU and sigmoid
    networks are used; X and thetas arrive as ndarrays, or as np.matrix if ndarrays fail.
    """
    return value_check(ctx, forward_propagate, namespace, ForwardSpec())


# --- cost_fcn -----------------------------------------------------------------------------------------------------

class CostSpec(_NetworkSpec):
    name = "cost_fcn"
    names = ("params", "size", "index", "X", "Y", "activate_fcn")
    perturb = (0, 3)

    def make(self, rng, size, m, act):
        size, index, X, Y, params = network(rng, size, m)
        return (params, size, index, X, Y, _trusted.ACTIVATIONS[act][0])

    def _ref_act(self, case):
        return REFERENCE[next(n for n, p in _trusted.ACTIVATIONS.items() if p[0] is case.args[5])][0]

    def expected(self, case):
        params, size, index, X, Y, _ = case.args
        return core.cost_fcn(params, size, index, X, Y, self._ref_act(case))

    def got(self, value):
        return as_scalar(value)

    def judge(self, case, value):
        return scalar_close(self.got(value), self.reference(case))

    def diagnose(self, case, outcome):
        return cost_diagnosis(case, self.got(outcome.value), self._ref_act(case))

    def details(self, case, outcome):
        if not outcome.ok:
            return msg.case_details(case.label, case.inputs())
        try:
            got = self.got(outcome.value)
        except Exception:
            return msg.case_details(case.label, case.inputs(), extra=[("返回值", "returned", msg.show(outcome.value))])
        expected = self.reference(case)
        return msg.case_details(case.label, case.inputs(), expected, got, rel_error(got, expected))


def check_cost_fcn(cost_fcn, namespace=None, *, ctx):
    """Check ``cost_fcn(params, size, index, X, Y, activate_fcn) -> float``.

    The categorical cross-entropy -(1/m) sum(Y * log(h)) of the network (the loss whose gradient at the
    softmax input is (h - Y) / m); params (index[-1],), X (m, n), Y (m, k) one-hot. A float, 0-d array
    or 1x1 matrix is accepted. The handout's binary cross-entropy summed over the outputs is recognised.
    """
    return value_check(ctx, cost_fcn, namespace, CostSpec())


# --- backprop -------------------------------------------------------------------------------------------------------

class BackpropSpec(_NetworkSpec):
    name = "backprop"
    names = ("params", "size", "index", "X", "Y", "activate_fcn", "activate_fcn_gradient")
    perturb = (0, 3)

    def __init__(self, activation, ratio, namespace):
        super().__init__(_activation(activation))
        self.ratio = float(ratio)
        if self.ratio > 0:
            self.names = self.names + ("ratio",)
        self.gradient = _trusted.ACTIVATIONS[activation][1]
        self.swaps = dict(TRUSTED_NAMES)
        if activation == "softmax" and namespace is not None and callable(namespace.get("softmax_gradient")):
            # Notebook 02 trains softmax hidden layers with the student's own softmax_gradient: grade that pair.
            self.gradient = namespace["softmax_gradient"]
            self.extra = (self.gradient,)

    def make(self, rng, size, m, act):
        size, index, X, Y, params = network(rng, size, m)
        args = (params, size, index, X, Y, _trusted.ACTIVATIONS[act][0], self.gradient)
        return args + ((self.ratio,) if self.ratio > 0 else ())

    swapped_per_case = ("Dropout", "forward_propagate_dropout")   # bound for each case by case_swaps

    def case_swaps(self, case):
        if self.ratio <= 0:
            return {}
        case.info["dropout"] = _trusted.FrozenDropout(case.seed)
        # The student's backprop may draw its masks through its own forward_propagate_dropout: a trusted one
        # drawing from the same recorder stands in for it, so its mistakes cost only its own points.
        return {"Dropout": case.info["dropout"],
                "forward_propagate_dropout": _trusted.ForwardDropout(case.info["dropout"])}

    def masks(self, case):
        """The masks the student's code drew for the hidden layers, or None when they cannot be matched."""
        if self.ratio <= 0:
            return None
        size = case.args[1]
        calls = case.info["dropout"].calls
        widths = size[1:-1]
        if len(calls) < len(widths):
            return None
        masks = []
        for (n, r, mask), w in zip(calls, widths):
            if n != w or r != self.ratio:
                return None
            masks.append(mask)
        return masks

    def parts(self, case):
        params, size, index, X, Y = case.args[:5]
        f, g = REFERENCE[self.activation]
        return params, size, X, Y, f, g, unpack(params, size)

    def expected(self, case):
        params, size, X, Y, f, g, thetas = self.parts(case)
        if self.ratio <= 0:
            cost, grad = core.backprop(params, size, case.args[2], X, Y, f, g)
            return cost, unpack(grad, size)
        masks = self.masks(case)
        if masks is None:
            return None
        z_out, a_out = core.forward_propagate_masked(X, thetas, f, masks)
        grads = core.backward_propagate(thetas, z_out, a_out, Y, g, masks)
        return core.cost_fcn(params, size, case.args[2], X, Y, f), grads

    def reference(self, case):
        # The masks are known only after the student's code ran: never cache across runs.
        return self.expected(case)

    def got(self, value, size):
        cost, grad = value
        grad = as_array(grad)
        total = sum(a * b for a, b in zip(size[1:], size[:-1]))
        if grad.size != total or (grad.ndim == 2 and 1 not in grad.shape) or grad.ndim > 2:
            return as_scalar(cost), grad, None
        return as_scalar(cost), grad, unpack(grad.ravel(), size)

    def judge(self, case, value):
        expected = self.reference(case)
        if expected is None:
            return False
        cost, _, layers = self.got(value, case.args[1])
        return (layers is not None and all(rel_error(a, b) <= 1e-7 for a, b in zip(layers, expected[1]))
                and scalar_close(cost, expected[0]))

    def diagnose(self, case, outcome):
        return backprop_diagnosis(self, case, outcome)

    def diagnose_error(self, case, error):
        if self.activation == "softmax" and isinstance(error, ValueError) and "broadcast" in str(error):
            return msg.Diagnosis(
                "jacobian_not_supported",
                "softmax_gradient 返回的是完整雅可比矩阵 (m, k, k)，但你的 backprop 用逐元素乘法 np.multiply(error, J)。"
                "对三维的 J 请用 delta = np.einsum('ij,ijl->il', error, J)（二维时仍用逐元素乘法）。",
                "softmax_gradient returns the full Jacobian (m, k, k) but your backprop multiplies entry by entry, "
                "np.multiply(error, J). For a 3-D J use delta = np.einsum('ij,ijl->il', error, J) (keep the "
                "entry-by-entry product for a 2-D one).")
        return None

    def details(self, case, outcome):
        inputs = {k: v for k, v in case.inputs().items() if k not in ("activate_fcn", "activate_fcn_gradient")}
        inputs["activate_fcn"] = self.activation
        if not outcome.ok:
            return msg.case_details(case.label, inputs)
        expected = self.reference(case)
        try:
            cost, grad, layers = self.got(outcome.value, case.args[1])
        except Exception:
            return msg.case_details(case.label, inputs, extra=[("返回值", "returned", msg.show(outcome.value))])
        if expected is None:
            calls = [(n, r) for n, r, _ in case.info["dropout"].calls]
            return msg.case_details(case.label, inputs, extra=[("Dropout 调用", "Dropout calls", f"(size, ratio) = {calls}")])
        extra = [("代价", "cost", f"expected {expected[0]:.10g}, got {cost:.10g}")]
        if layers is None:
            extra.append(("梯度形状", "gradient shape", f"expected ({sum(t.size for t in expected[1])},), got {grad.shape}"))
        else:
            errs = ", ".join(f"thetas[{i}]: {rel_error(a, b):.2e}" for i, (a, b) in enumerate(zip(layers, expected[1])))
            extra.append(("各层梯度相对误差", "relative error per layer", errs))
            bad = next((i for i, (a, b) in enumerate(zip(layers, expected[1])) if rel_error(a, b) > 1e-7), None)
            if bad is not None:
                return msg.case_details(case.label, inputs, expected[1][bad], layers[bad], rel_error(layers[bad], expected[1][bad]),
                                        [("显示的层", "layer shown", f"dJ/dthetas[{bad}]")] + extra)
        return msg.case_details(case.label, inputs, extra=extra)


def check_backprop(backprop, namespace=None, *, activation="relu", ratio=0.0, ctx):
    """Check ``backprop(params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio=0.) -> (cost, grad)``.

    cost: the categorical cross-entropy without Dropout (float); grad: (index[-1],), compared layer by
    layer with the reference (relative error per layer in the message).

    Parameters
    ----------
    activation : "relu", "sigmoid" or "softmax"
        The hidden activation the networks use. With "softmax" the student's own ``softmax_gradient``
        from the namespace is passed (notebook 02 grades that pair); otherwise the grader's own pair.
    ratio : float in [0, 1)
        0: no Dropout (``ratio`` not passed). > 0: passed as the 8th argument; ``Dropout`` in the
        namespace hands out recorded exact masks, and the gradient must be exact for them.
    """
    return value_check(ctx, backprop, namespace, BackpropSpec(activation, ratio, namespace))
