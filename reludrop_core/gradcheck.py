"""Gradient checking: compare backprop with centred finite differences."""

import copy

import numpy as np

from . import _checks
from .network import _backprop, _check_network, _cross_entropy, _propagate, _unpack, draw_masks


def numerical_gradient(f, x, h=1e-5):
    """Centred-difference gradient of a scalar function, in float64.

    ``df/dx_j ~ (f(x + h e_j) - f(x - h e_j)) / (2h)``, error O(h^2).

    Parameters
    ----------
    f : callable taking an ndarray shaped like ``x`` and returning a float
    x : array_like of any shape; not changed
    h : float, step

    Returns
    -------
    grad : ndarray shaped like ``x``
    """
    x = np.array(x, dtype=np.float64)     # a copy: we nudge it in place
    grad = np.empty_like(x)
    flat, out = x.reshape(-1), grad.reshape(-1)
    for j in range(flat.size):
        old = flat[j]
        flat[j] = old + h
        up = f(x)
        flat[j] = old - h
        down = f(x)
        flat[j] = old
        out[j] = (up - down) / (2 * h)
    return grad


def rel_error(a, b):
    """Relative error ``||a - b|| / (||a|| + ||b||)``: 0 for equal arrays, 1 for opposite ones.

    Parameters
    ----------
    a, b : array_like of the same shape

    Returns
    -------
    error : float in [0, 1]
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / denom) if denom > 0 else 0.0


def layer_errors(grad_a, grad_b, size):
    """Relative error of two flat gradients, layer by layer.

    Parameters
    ----------
    grad_a, grad_b : array_like of shape (index[-1],)
    size : list of int, length L + 1

    Returns
    -------
    errors : ndarray of shape (L,), ``rel_error`` of each layer's block
    """
    size = _checks.as_size(size)
    a = _unpack(_checks.as_params(grad_a, size), size)
    b = _unpack(_checks.as_params(grad_b, size), size)
    return np.array([rel_error(x, y) for x, y in zip(a, b)])


def gradient_check(params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio=0., seed=0, h=1e-5):
    """Check ``backprop`` against centred differences of the loss, layer by layer.

    With ``ratio > 0`` both sides see the same Dropout masks: ``backprop``
    draws them from ``seed``, and the finite differences use the loss with
    exactly those masks held fixed.

    Parameters
    ----------
    params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio : as for ``backprop``
    seed : int or np.random.Generator, where the Dropout masks come from
    h : float, finite-difference step

    Returns
    -------
    errors : ndarray of shape (L,), relative error of each layer's gradient
        (below about 1e-7 when backprop is right)
    """
    params, size, X, Y = _check_network(params, size, index, X, Y, activate_fcn)
    _checks.check_activation("activate_fcn_gradient", activate_fcn_gradient)
    ratio = _checks.check_ratio(ratio, size[1:-1])
    rng = _checks.as_generator(seed)
    masks = None
    if ratio > 0:
        # The masks backprop will draw: the same draws from a copy of the same generator.
        masks = draw_masks(list(size[1:-1]), ratio, copy.deepcopy(rng))
    analytic = np.empty_like(params)
    _backprop(_unpack(params, size), X, Y, activate_fcn, activate_fcn_gradient, ratio, rng, _unpack(analytic, size))

    def loss(p):
        return _cross_entropy(_propagate(X, _unpack(p, size), activate_fcn, masks)[1][-1], Y)

    return layer_errors(analytic, numerical_gradient(loss, params, h), size)
