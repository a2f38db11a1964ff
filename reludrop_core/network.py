"""The network: parameters, forward propagation, the loss and backpropagation.

A network of ``L = len(size) - 1`` weight layers, no biases (as in the
handout). Layer i+1 computes ``z = a_i @ thetas[i].T`` and ``a = g(z)``; the
last layer uses softmax. All weights live in one flat vector ``params``,
layer after layer, each ``thetas[i]`` of shape (size[i+1], size[i]) stored
row by row; ``index = cumsum(size[1:] * size[:-1])`` marks where each layer
ends.
"""

import numpy as np

from . import _checks
from ._checks import (
    as_gains,
    as_generator,
    as_layers,
    as_matrix,
    as_one_hot,
    as_params,
    as_size,
    check_activation,
    message,
)
from .activations import _softmax, activation_backward

#: Smallest positive float64: log(h) is taken of max(h, TINY) so that a
#: probability that underflowed to 0 gives a large finite loss, not inf.
TINY = np.finfo(np.float64).tiny

INIT_METHODS = ("uniform", "he", "xavier")


def layer_index(size):
    """Where each layer's weights end in ``params``: ``cumsum(size[1:] * size[:-1])``.

    Parameters
    ----------
    size : list of int, length L + 1

    Returns
    -------
    index : ndarray of int64, shape (L,)
    """
    return _checks.layer_index(as_size(size))


def unpack_params(params, size):
    """Cut the flat parameter vector into one weight matrix per layer.

    Parameters
    ----------
    params : array_like of shape (index[-1],)
    size : list of int, length L + 1

    Returns
    -------
    thetas : list of L ndarrays, thetas[i] of shape (size[i+1], size[i])
        Views into ``params`` when it is already a float64 ndarray.
    """
    size = as_size(size)
    return _unpack(as_params(params, size), size)


def _unpack(params, size):
    thetas, start = [], 0
    for rows, cols in zip(size[1:], size[:-1]):
        thetas.append(params[start:start + rows * cols].reshape(rows, cols))
        start += rows * cols
    return thetas


def pack_params(thetas):
    """Flatten a list of weight matrices into one parameter vector (the inverse of ``unpack_params``).

    Parameters
    ----------
    thetas : list of L arrays, thetas[i] of shape (size[i+1], size[i])

    Returns
    -------
    params : ndarray of shape (sum of size[i+1] * size[i],)
    """
    thetas = _checks.as_thetas(thetas, None)
    return np.concatenate([t.ravel() for t in thetas])


def init_params(size, seed=None, method="uniform"):
    """Draw initial weights for a network of layer widths ``size``.

    Parameters
    ----------
    size : list of int, length L + 1
    seed : int, np.random.Generator or None
        None draws from numpy's global generator, as the handout does.
    method : {"uniform", "he", "xavier"}
        ``"uniform"``: the handout's uniform(-1, 1).
        ``"he"``: normal with standard deviation sqrt(2 / size[i]), suited to ReLU.
        ``"xavier"``: uniform(-r, r) with r = sqrt(6 / (size[i] + size[i+1])), suited to sigmoid.

    Returns
    -------
    params : ndarray of shape (index[-1],)
    """
    size = as_size(size)
    rng = as_generator(seed)
    if method == "uniform":
        return rng.random(int(_checks.layer_index(size)[-1])) * 2 - 1
    if method == "he":
        return np.concatenate([rng.standard_normal(o * i) * np.sqrt(2.0 / i) for i, o in zip(size[:-1], size[1:])])
    if method == "xavier":
        return np.concatenate([(rng.random(o * i) * 2 - 1) * np.sqrt(6.0 / (i + o)) for i, o in zip(size[:-1], size[1:])])
    raise ValueError(message(
        f"method 必须是 {INIT_METHODS} 之一，收到 {method!r}。",
        f"method must be one of {INIT_METHODS}, got {method!r}.",
    ))


def _propagate(X, thetas, activate_fcn, masks=None):
    """Forward pass without argument checks; ``masks[i]`` scales hidden layer i+1 (Dropout)."""
    z_out, a_out = [X], [X]
    a = X
    for i in range(len(thetas) - 1):
        z = a @ thetas[i].T
        a = activate_fcn(z) if masks is None else activate_fcn(z) * masks[i]
        z_out.append(z)
        a_out.append(a)
    z = a @ thetas[-1].T
    z_out.append(z)
    a_out.append(_softmax(z))
    return z_out, a_out


def forward_propagate(X, thetas, activate_fcn):
    """Forward propagation: every layer's linear output and activation.

    Parameters
    ----------
    X : array_like of shape (m, n)
        m samples, n features (``np.matrix`` accepted).
    thetas : list of L arrays, thetas[i] of shape (size[i+1], size[i])
    activate_fcn : callable
        Hidden-layer activation, e.g. ``ReLU``; the output layer is always softmax.

    Returns
    -------
    z_out : list of L + 1 ndarrays, z_out[i] of shape (m, size[i])
        Linear outputs ``a_out[i-1] @ thetas[i-1].T``; ``z_out[0]`` is X.
    a_out : list of L + 1 ndarrays, a_out[i] of shape (m, size[i])
        Activations; ``a_out[0]`` is X and ``a_out[-1]`` the softmax output h.
    """
    X = as_matrix("X", X)
    check_activation("activate_fcn", activate_fcn)
    return _propagate(X, _checks.as_thetas(thetas, X.shape[1]), activate_fcn)


def forward_propagate_masked(X, thetas, activate_fcn, masks=None):
    """Forward propagation with these Dropout masks (gains) frozen on the hidden layers.

    ``forward_propagate_dropout`` draws fresh masks on every call; this one
    applies the masks it is given, so that a forward pass with Dropout can
    be replayed exactly (by a gradient check, or by the grader with the
    masks a student's code drew). Hidden layer i+1 computes
    ``a = activate_fcn(z) * masks[i]``; ``z_out`` keeps the unmasked linear
    outputs, and the output layer is plain softmax.

    Parameters
    ----------
    X : array_like of shape (m, n)
    thetas : list of L arrays, thetas[i] of shape (size[i+1], size[i])
    activate_fcn : callable
    masks : list of L - 1 array_like, or None
        ``masks[i]`` holds the gains of hidden layer i+1 (0 for a dropped
        node, ``size / num`` for a kept one), of shape (size[i+1],), one mask
        for every sample as ``Dropout`` draws it, or (m, size[i+1]), one row
        per sample as ``dropout.gains_from_forward`` reads them back.
        None means no Dropout: the same as ``forward_propagate``.

    Returns
    -------
    z_out, a_out : lists of L + 1 ndarrays of shape (m, size[i]), as ``forward_propagate``
    """
    X = as_matrix("X", X)
    check_activation("activate_fcn", activate_fcn)
    thetas = _checks.as_thetas(thetas, X.shape[1])
    masks = as_gains("masks", masks, X.shape[0], [t.shape[0] for t in thetas[:-1]])
    return _propagate(X, thetas, activate_fcn, masks)


def _cross_entropy(h, Y):
    # Categorical cross-entropy averaged over the m samples. Y is one-hot, so
    # each sample contributes -log of the probability given to its own class.
    return float(-np.vdot(Y, np.log(np.maximum(h, TINY))) / h.shape[0])


def cross_entropy(h, Y):
    """Categorical cross-entropy of the network's output, ``J = -(1/m) sum(Y * log(h))``.

    The loss ``cost_fcn`` computes, taken from an output you already have
    (``a_out[-1]`` of any forward pass, with or without Dropout). ``log`` is
    taken of ``max(h, TINY)``, so a probability that underflowed to 0 gives
    a large finite loss, not inf.

    Parameters
    ----------
    h : array_like of shape (m, k)
        Predicted probabilities, the softmax output ``a_out[-1]``; entries in [0, 1].
    Y : array_like of shape (m, k), one-hot

    Returns
    -------
    cost : float
    """
    h = as_matrix("h", h)
    if np.any((h < 0) | (h > 1)):
        raise ValueError(message(
            "h 必须是概率（softmax 的输出 a_out[-1]，每个元素在 [0, 1] 内），不要传入线性输出 z_out[-1]。",
            "h must hold probabilities (the softmax output a_out[-1], every entry in [0, 1]), "
            "not the linear output z_out[-1].",
        ))
    return _cross_entropy(h, as_one_hot(Y, h.shape[0], h.shape[1]))


def _check_width(X, size):
    if X.shape[1] != size[0]:
        raise ValueError(message(
            f"X 每行有 {X.shape[1]} 个特征，但 size[0] = {size[0]}：输入层宽度必须等于特征数。",
            f"X has {X.shape[1]} features per row but size[0] = {size[0]}: the input layer must match.",
        ))


def _check_network(params, size, index, X, Y, activate_fcn):
    size = as_size(size)
    _checks.check_index(index, size)
    params = as_params(params, size)
    X = as_matrix("X", X)
    _check_width(X, size)
    Y = as_one_hot(Y, X.shape[0], size[-1])
    check_activation("activate_fcn", activate_fcn)
    return params, size, X, Y


def cost_fcn(params, size, index, X, Y, activate_fcn):
    """Categorical cross-entropy of the network, ``J = -(1/m) sum(Y * log(h))``.

    This is the loss whose gradient ``backprop`` returns (at the softmax input
    it is ``(h - Y) / m``). The handout printed a different figure, the binary
    cross-entropy summed over the softmax outputs; see ``handout_cost``.

    Parameters
    ----------
    params : array_like of shape (index[-1],)
    size : list of int, length L + 1
    index : array_like of int, shape (L,), ``cumsum(size[1:] * size[:-1])``
    X : array_like of shape (m, size[0])
    Y : array_like of shape (m, size[-1]), one-hot
    activate_fcn : callable

    Returns
    -------
    cost : float
    """
    params, size, X, Y = _check_network(params, size, index, X, Y, activate_fcn)
    _, a_out = _propagate(X, _unpack(params, size), activate_fcn)
    return _cross_entropy(a_out[-1], Y)


def handout_cost(params, size, index, X, Y, activate_fcn):
    """The handout's printed figure: binary cross-entropy summed over the k softmax outputs.

    ``(1/m) sum(-Y log h - (1 - Y) log(1 - h))``. For comparison only: it is
    not the loss that ``backprop``'s gradient ``h - Y`` belongs to (that is
    ``cost_fcn``), so it should not be used to judge or check training.

    Parameters and return value as for ``cost_fcn``.
    """
    params, size, X, Y = _check_network(params, size, index, X, Y, activate_fcn)
    return handout_loss(_propagate(X, _unpack(params, size), activate_fcn)[1][-1], Y)


def handout_loss(h, Y):
    """The handout's formula on the network's outputs: ``(1/m) sum(-Y log h - (1 - Y) log(1 - h))``.

    Parameters
    ----------
    h : ndarray of shape (m, k), the softmax outputs (each row sums to 1)
    Y : ndarray of shape (m, k), one-hot labels

    Returns
    -------
    float, the binary cross-entropy of each output summed over the k outputs, averaged over m (logs
    clipped away from log 0). For comparison only: see ``handout_cost``.
    """
    h, Y = np.asarray(h, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    J = -Y * np.log(np.maximum(h, TINY)) - (1 - Y) * np.log(np.maximum(1 - h, TINY))
    return float(J.sum() / h.shape[0])


def _backward(thetas, z_out, a_out, Y, activate_fcn_gradient, gains, grads, scale=1.0):
    """Write ``scale * dJ/dthetas[i]`` into ``grads[i]`` (arrays shaped like thetas).

    ``train`` passes the learning rate as ``scale``, so the update is one subtraction.
    """
    # Softmax output with categorical cross-entropy: dJ/dz_L = (h - Y) / m.
    # The softmax Jacobian and the log's 1/h cancel, leaving this simple form.
    delta = a_out[-1] - Y
    delta *= scale / Y.shape[0]
    for i in range(len(thetas) - 1, 0, -1):
        np.matmul(delta.T, a_out[i], out=grads[i])
        error = delta @ thetas[i]            # dJ/da at hidden layer i
        if gains is not None:
            error *= gains[i - 1]            # a = g(z) * gain: dropped nodes pass nothing back
        delta = activation_backward(activate_fcn_gradient(z_out[i]), error)
    np.matmul(delta.T, a_out[0], out=grads[0])


def backward_propagate(thetas, z_out, a_out, Y, activate_fcn_gradient, gains=None):
    """Backpropagation through a forward pass you already have, with these Dropout gains frozen.

    Returns the gradient that ``backprop`` computes, layer by layer, of the
    loss ``J = cross_entropy(a_out[-1], Y)``: exact when ``z_out, a_out``
    come from ``forward_propagate_masked(X, thetas, activate_fcn, gains)``
    (or from ``forward_propagate`` with ``gains=None``). Dropped nodes pass
    nothing back and kept ones carry their gain. Given other lists (``a_out``
    in place of ``z_out``, say, or no gains after a pass with Dropout), it
    computes what that mistake computes, which is how the grader recognises it.

    Parameters
    ----------
    thetas : list of L arrays, thetas[i] of shape (size[i+1], size[i])
    z_out : list of L + 1 array_like, z_out[i] of shape (m, size[i])
        Linear outputs; the derivative is taken at the hidden ones,
        ``activate_fcn_gradient(z_out[i])`` for i = 1..L-1.
    a_out : list of L + 1 array_like, a_out[i] of shape (m, size[i])
        Activations; ``a_out[0]`` is X and ``a_out[-1]`` the softmax output h.
    Y : array_like of shape (m, size[-1]), one-hot
    activate_fcn_gradient : callable
        The hidden activation's gradient: a diagonal (m, size[i]) such as
        ``ReLU_gradient``'s, or a full Jacobian (m, size[i], size[i]) such as
        ``softmax_gradient``'s (see ``activation_backward``).
    gains : list of L - 1 array_like, or None
        The Dropout gains of the hidden layers, as for ``forward_propagate_masked``'s
        ``masks``: (size[i+1],) or (m, size[i+1]) each. None means no Dropout.

    Returns
    -------
    grads : list of L ndarrays, grads[i] of shape (size[i+1], size[i])
        ``dJ/dthetas[i]``; ``pack_params(grads)`` is ``backprop``'s flat gradient.
    """
    thetas = _checks.as_thetas(thetas, None)
    widths = [thetas[0].shape[1]] + [t.shape[0] for t in thetas]
    a_out = as_layers("a_out", a_out, widths)
    m = a_out[0].shape[0]
    z_out = as_layers("z_out", z_out, widths, m)
    Y = as_one_hot(Y, m, widths[-1])
    check_activation("activate_fcn_gradient", activate_fcn_gradient)
    gains = as_gains("gains", gains, m, widths[1:-1])
    grads = [np.empty_like(t) for t in thetas]
    _backward(thetas, z_out, a_out, Y, activate_fcn_gradient, gains, grads)
    return grads


#: How the Dropout masks of one forward pass are drawn, ``draw(widths, ratio, rng) -> list of (width,) masks``.
#: ``reludrop_core.dropout`` (which sits above this module) sets it when it is imported; a student package that
#: holds no Dropout leaves it empty, and a network with ratio > 0 then says so.
DROPOUT = {}


def draw_masks(widths, ratio, rng):
    """The Dropout masks of one forward pass, one per hidden layer, drawn from ``rng`` in layer order.

    Parameters
    ----------
    widths : list of int, the hidden layers' widths ``size[1:-1]``
    ratio : float in (0, 1), the fraction dropped
    rng : np.random.Generator

    Returns
    -------
    masks : list of ndarrays, masks[i] of shape (widths[i],)
    """
    if "draw" not in DROPOUT:
        raise ValueError(message("这个学生包里没有 Dropout：ratio 只能为 0。",
                                 "this package has no Dropout: ratio must be 0."))
    return DROPOUT["draw"](widths, ratio, rng)


def backprop(params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio=0., seed=None):
    """Cost and gradient of the categorical cross-entropy with respect to ``params``.

    With ``ratio > 0`` the forward pass goes through
    ``forward_propagate_dropout``, which drops a fresh random set of hidden
    nodes; the gradient is exact for the masks it drew (``draw_masks``).
    The cost returned is always the loss without dropout, as the handout records it.

    Parameters
    ----------
    params : array_like of shape (index[-1],)
    size : list of int, length L + 1
    index : array_like of int, shape (L,), ``cumsum(size[1:] * size[:-1])``
    X : array_like of shape (m, size[0])
    Y : array_like of shape (m, size[-1]), one-hot
    activate_fcn, activate_fcn_gradient : callable
        A pair such as ``(ReLU, ReLU_gradient)`` or ``(softmax, softmax_gradient)``.
    ratio : float in [0, 1)
        Fraction of hidden nodes dropped; 0 means no Dropout.
    seed : int, np.random.Generator or None
        Randomness for Dropout; None uses numpy's global generator.

    Returns
    -------
    cost : float
    grad : ndarray of shape (index[-1],)
    """
    params, size, X, Y = _check_network(params, size, index, X, Y, activate_fcn)
    check_activation("activate_fcn_gradient", activate_fcn_gradient)
    ratio = _checks.check_ratio(ratio, size[1:-1])
    grad = np.empty_like(params)
    cost = _backprop(_unpack(params, size), X, Y, activate_fcn, activate_fcn_gradient, ratio,
                     as_generator(seed), _unpack(grad, size))
    return cost, grad


def _backprop(thetas, X, Y, activate_fcn, activate_fcn_gradient, ratio, rng, grads, scale=1.0):
    """``backprop`` without checks: write ``scale`` times the gradient into ``grads``, return the cost."""
    if ratio > 0:
        gains = draw_masks([t.shape[0] for t in thetas[:-1]], ratio, rng)
        z_out, a_out = _propagate(X, thetas, activate_fcn, gains)
        cost = _cross_entropy(_propagate(X, thetas, activate_fcn)[1][-1], Y)
    else:
        z_out, a_out = _propagate(X, thetas, activate_fcn)
        gains = None
        cost = _cross_entropy(a_out[-1], Y)
    _backward(thetas, z_out, a_out, Y, activate_fcn_gradient, gains, grads, scale)
    return cost


def predict(params, size, X, activate_fcn):
    """The digit the network picks for each sample: the most probable class, counted from 1.

    Parameters
    ----------
    params : array_like of shape (index[-1],)
    size : list of int, length L + 1
    X : array_like of shape (m, size[0])
    activate_fcn : callable, the hidden activation the network was trained with

    Returns
    -------
    labels : ndarray of int, shape (m,), values 1..size[-1]
    """
    size = as_size(size)
    X = as_matrix("X", X)
    _check_width(X, size)
    check_activation("activate_fcn", activate_fcn)
    thetas = _unpack(as_params(params, size), size)
    return _propagate(X, thetas, activate_fcn)[1][-1].argmax(axis=1) + 1
