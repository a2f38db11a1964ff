"""Training by gradient descent, full batch or in mini-batches."""

import numbers

import numpy as np

from . import _checks
from ._checks import as_generator, check_activation, message
from .network import _backprop, _check_network, _cross_entropy, _propagate, _unpack


def _check_positive_int(name, value, zh_hint, en_hint):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(message(f"{name} {zh_hint}，收到 {value!r}。", f"{name} {en_hint}, got {value!r}."))
    return int(value)


def train(X, Y, params, size, alpha, iters, activate_fcn, activate_fcn_gradient, ratio=0., step=-1, seed=None):
    """Train the network by gradient descent on the categorical cross-entropy.

    Each epoch walks through the samples in order in mini-batches of ``step``
    rows (the last one may be smaller), and updates the parameters after each
    mini-batch with that mini-batch's own gradient. ``step = -1`` (or m) is
    full-batch gradient descent: one update per epoch.

    Parameters
    ----------
    X : array_like of shape (m, size[0])
    Y : array_like of shape (m, size[-1]), one-hot
    params : array_like of shape (index[-1],)
        Initial parameters; the caller's array is not changed.
    size : list of int, length L + 1
    alpha : float > 0, learning rate
    iters : int >= 1, number of epochs
    activate_fcn, activate_fcn_gradient : callable pair, e.g. ``(ReLU, ReLU_gradient)``
    ratio : float in [0, 1), fraction of hidden nodes dropped (0: no Dropout)
    step : int, mini-batch size in 1..m, or -1 for the full batch
    seed : int, np.random.Generator or None
        Randomness for Dropout; None uses numpy's global generator.

    Returns
    -------
    params : ndarray of shape (index[-1],), the trained parameters
    cost : ndarray of shape (iters,)
        ``cost[i]`` is the loss on all m samples, without Dropout, at the
        parameters before epoch i's updates (as the handout records it).
    """
    g, size, X, Y = _check_network(params, size, _checks.layer_index(_checks.as_size(size)), X, Y, activate_fcn)
    check_activation("activate_fcn_gradient", activate_fcn_gradient)
    ratio = _checks.check_ratio(ratio, size[1:-1])
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not np.isfinite(alpha) or alpha <= 0:
        raise ValueError(message(f"学习率 alpha 必须是正数，收到 {alpha!r}。",
                                 f"the learning rate alpha must be a positive number, got {alpha!r}."))
    iters = _check_positive_int("iters", iters, "（训练轮数）必须是正整数", "(the number of epochs) must be a positive integer")
    m = X.shape[0]
    if step == -1:
        step = m
    if isinstance(step, bool) or not isinstance(step, numbers.Integral) or not 1 <= step <= m:
        raise ValueError(message(
            f"step（小批量大小）必须在 1 到样本数 m = {m} 之间，或为 -1（全批量），收到 {step!r}。",
            f"step (the mini-batch size) must lie in 1..m = {m}, or be -1 for the full batch; got {step!r}.",
        ))
    rng = as_generator(seed)

    g = g.copy()                      # our own copy: the caller's params stay as they were
    thetas = _unpack(g, size)         # views into g, so updating g updates every layer
    grad = np.empty_like(g)
    grads = _unpack(grad, size)       # backprop writes each layer's (scaled) gradient into its view
    cost = np.empty(iters)
    batches = [(X[j:j + step], Y[j:j + step]) for j in range(0, m, step)]
    full_batch = len(batches) == 1
    for i in range(iters):
        if not full_batch:
            cost[i] = _cross_entropy(_propagate(X, thetas, activate_fcn)[1][-1], Y)
        for xs, ys in batches:
            J = _backprop(thetas, xs, ys, activate_fcn, activate_fcn_gradient, ratio, rng, grads, alpha)
            g -= grad                 # grad holds alpha * dJ/dparams
        if full_batch:
            cost[i] = J               # backprop's loss is at the parameters before this update
    return g, cost
