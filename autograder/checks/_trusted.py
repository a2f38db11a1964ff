"""The grader's own stand-ins, handed to student code while a check runs.

A check of one function should not fail because of a mistake in another,
so while it runs the student's namespace has the activations (and, for
``train``, ``forward_propagate``, ``cost_fcn`` and ``backprop``) bound to
these, and ``Dropout`` bound to a ``FrozenDropout`` that records the masks
it hands out. They are written independently of ``reludrop_core`` (student
code may call them; the core is tripwired while it runs) and keep the
type they are given: ``np.matrix`` in, ``np.matrix`` out, as the handout's
functions do, so student code written for either style works with them.

Shapes: z (m, k); X (m, n); Y (m, k) one-hot; thetas[i] (size[i+1], size[i]).
"""

import numpy as np

_TINY = np.finfo(np.float64).tiny


def ReLU(z):
    """max(0, z), entry by entry; keeps np.matrix."""
    return np.maximum(z, 0.0)


def ReLU_gradient(z):
    """1.0 where z > 0, else 0.0; keeps np.matrix."""
    return np.greater(z, 0.0) * 1.0


def sigmoid(z):
    """1 / (1 + exp(-z)) without overflow: exp(min(z, 0)) / (1 + exp(-|z|)); keeps np.matrix."""
    return np.exp(np.minimum(z, 0.0)) / (1.0 + np.exp(-np.abs(z)))


def sigmoid_gradient(z):
    """s * (1 - s) with s = sigmoid(z); keeps np.matrix."""
    s = sigmoid(z)
    return np.multiply(s, 1.0 - s)


def softmax(z):
    """Row-wise softmax (row maximum subtracted first); keeps np.matrix."""
    arr = np.asarray(z, dtype=np.float64)
    axis = -1 if arr.ndim == 1 else 1
    e = np.exp(arr - arr.max(axis=axis, keepdims=True))
    out = e / e.sum(axis=axis, keepdims=True)
    return np.asmatrix(out) if isinstance(z, np.matrix) else out


def softmax_gradient(z):
    """The full softmax Jacobian, shape (m, k, k): J[i, j, l] = s_ij (1[j == l] - s_il)."""
    s = np.asarray(softmax(np.asarray(z, dtype=np.float64)))
    return s[:, :, None] * (np.eye(s.shape[1]) - s[:, None, :])


ACTIVATIONS = {
    "relu": (ReLU, ReLU_gradient),
    "sigmoid": (sigmoid, sigmoid_gradient),
    "softmax": (softmax, softmax_gradient),
}


def forward_propagate(X, thetas, activate_fcn):
    """Forward pass: z_out, a_out lists of L + 1 arrays (m, size[i]); output layer softmax."""
    z_out, a_out = [X], [X]
    for theta in thetas:
        z_out.append(a_out[-1] @ theta.T)
        a_out.append(activate_fcn(z_out[-1]))
    a_out[-1] = softmax(z_out[-1])
    return z_out, a_out


def _unpack(params, size):
    params = np.asarray(params, dtype=np.float64).ravel()
    thetas, start = [], 0
    for i in range(len(size) - 1):
        rows, cols = int(size[i + 1]), int(size[i])
        thetas.append(params[start:start + rows * cols].reshape(rows, cols))
        start += rows * cols
    return thetas


def _cross_entropy(h, Y):
    h, Y = np.asarray(h, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    return float(-np.sum(Y * np.log(np.maximum(h, _TINY))) / h.shape[0])


def cost_fcn(params, size, index, X, Y, activate_fcn):
    """Categorical cross-entropy -(1/m) sum(Y log h), a float.

    ``index`` is taken for the handout's signature only: the layers are cut by ``size``.
    """
    X = np.asarray(X, dtype=np.float64)
    return _cross_entropy(forward_propagate(X, _unpack(params, size), activate_fcn)[1][-1], Y)


def _index_values(index):
    """``index`` as a flat float64 copy (list, tuple, ndarray, np.matrix row), or None if it is not numeric."""
    try:
        return np.array(index, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        return None


class RecordingCost:
    """The trusted ``cost_fcn`` that records the ``index`` of every call (for checking ``train``).

    Attributes
    ----------
    calls : list of dict with the key index: the values passed, as for ``RecordingBackprop``
    """

    def __init__(self):
        self.calls = []

    def __call__(self, params, size, index, X, Y, activate_fcn, *args, **kwargs):
        self.calls.append({"index": _index_values(index)})
        return cost_fcn(params, size, index, X, Y, activate_fcn)


class RecordingBackprop:
    """A correct ``backprop`` that records every call (for checking ``train``).

    Dropout masks, when ``ratio > 0``, come from its own generator, so the
    student's ``train`` is judged on its loop alone. It takes the handout's
    signature; the layers are cut by ``size``, and the ``index`` it receives is
    recorded as given, for the check to judge (a student's own backprop cuts
    the layers by it). Further arguments a student passes on (``seed=``...)
    are accepted and ignored.

    Attributes
    ----------
    calls : list of dict with keys params (N,), X (rows, n), Y (rows, k), ratio, and index: the values
        passed (list, ndarray, np.matrix row...) as a flat float64 array, or None if they are not numbers
    """

    def __init__(self, seed):
        self.calls = []
        self.rng = np.random.default_rng(seed)
        self.cost = RecordingCost()        # the cost_fcn of the same train run

    def __call__(self, params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio=0., *args, **kwargs):
        p = np.array(params, dtype=np.float64).ravel()
        X = np.array(X, dtype=np.float64)
        Y = np.array(Y, dtype=np.float64)
        ratio = float(ratio)
        self.calls.append({"params": p, "X": X, "Y": Y, "ratio": ratio, "index": _index_values(index)})
        thetas = _unpack(p, size)
        cost = _cross_entropy(forward_propagate(X, thetas, activate_fcn)[1][-1], Y)
        z_out, a_out, gains = [X], [X], []
        for i, theta in enumerate(thetas):
            z = a_out[-1] @ theta.T
            z_out.append(z)
            if i == len(thetas) - 1:
                a_out.append(softmax(z))
                continue
            gain = np.ones(theta.shape[0])
            if ratio > 0:
                num = int(np.round(theta.shape[0] * (1 - ratio)))
                gain = np.zeros(theta.shape[0])
                gain[self.rng.permutation(theta.shape[0])[:num]] = theta.shape[0] / num
            gains.append(gain)
            a_out.append(np.asarray(activate_fcn(z)) * gain)
        delta = (a_out[-1] - Y) / X.shape[0]
        grads = [None] * len(thetas)
        for i in range(len(thetas) - 1, -1, -1):
            grads[i] = delta.T @ a_out[i]
            if i > 0:
                error = (delta @ thetas[i]) * gains[i - 1]
                g = np.asarray(activate_fcn_gradient(z_out[i]), dtype=np.float64)
                delta = np.einsum("ij,ijl->il", error, g) if g.ndim == 3 else error * g
        return cost, np.concatenate([g.ravel() for g in grads])


class ForwardDropout:
    """Stands in for the student's ``forward_propagate_dropout`` while ``backprop`` is checked: a correct forward
    pass whose masks come from ``dropout`` (the check's ``FrozenDropout``), one call per hidden layer, in order.

    So a mistake in the student's ``forward_propagate_dropout`` costs its own points, not ``backprop``'s too.
    Keeps np.matrix, as ``forward_propagate`` does.
    """

    def __init__(self, dropout):
        self.dropout = dropout

    def __call__(self, X, thetas, activate_fcn, ratio, *args, **kwargs):
        z_out, a_out = [X], [X]
        for i, theta in enumerate(thetas):
            z_out.append(a_out[-1] @ theta.T)
            if i == len(thetas) - 1:
                a_out.append(softmax(z_out[-1]))
            else:
                a_out.append(np.multiply(activate_fcn(z_out[-1]), self.dropout(theta.shape[0], ratio)))
        return z_out, a_out


class FrozenDropout:
    """Stands in for the student's ``Dropout``: exact masks from a seeded generator, each one recorded.

    Further arguments a student passes (``seed=``...) are accepted and ignored:
    the masks come from the check's own generator.

    Attributes
    ----------
    calls : list of (size, ratio, mask) in call order, mask of shape (size,)
    """

    def __init__(self, seed):
        self.calls = []
        self.rng = np.random.default_rng(seed)

    def __call__(self, size, ratio, *args, **kwargs):
        n, r = int(size), float(ratio)
        num = int(np.round(n * (1 - r))) if 0 <= r < 1 else 0
        mask = np.zeros(n)
        if num > 0:
            mask[self.rng.permutation(n)[:num]] = n / num
        self.calls.append((n, r, mask.copy()))
        return mask
