"""Dropout: switch off a random fraction of hidden nodes on every forward pass.

``ratio`` is always the fraction of hidden nodes *dropped* (失活节点占比).
A layer of ``size`` nodes keeps ``num = round(size * (1 - ratio))`` of them
and multiplies each kept node by the gain ``size / num``, so the layer's
sum stays about the same whether or not Dropout is on. Only hidden layers
are dropped: never the input, never the softmax output.
"""

import numbers

import numpy as np

from . import _checks, network
from ._checks import as_generator, as_matrix, check_activation, check_ratio, message
from .network import _propagate


def Dropout(size, ratio, seed=None):
    """Draw one Dropout mask: the gain of each node of a layer.

    Parameters
    ----------
    size : int
        Number of nodes in the layer.
    ratio : float in [0, 1)
        Fraction of the nodes dropped.
    seed : int, np.random.Generator or None
        None draws from numpy's global generator, as the handout does.

    Returns
    -------
    ym : ndarray of shape (size,)
        0 for a dropped node, ``size / num`` for each of the ``num`` kept ones.
    """
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
        raise ValueError(message(
            f"size 是该层的节点数，必须是正整数，收到 {size!r}。",
            f"size is the number of nodes in the layer and must be a positive integer, got {size!r}.",
        ))
    return _dropout(int(size), check_ratio(ratio, (size,)), as_generator(seed))


def _dropout(size, ratio, rng):
    num = int(np.round(size * (1 - ratio)))
    ym = np.zeros(size)
    ym[rng.permutation(size)[:num]] = size / num
    return ym


def forward_propagate_dropout(X, thetas, activate_fcn, ratio, seed=None):
    """Forward propagation with Dropout on every hidden layer.

    Hidden layer i+1 computes ``a = activate_fcn(z) * Dropout(size[i+1], ratio)``,
    one fresh mask per layer per call; the output layer is plain softmax.
    To replay a pass with masks you already have, use ``forward_propagate_masked``.

    Parameters
    ----------
    X : array_like of shape (m, n)
    thetas : list of L arrays, thetas[i] of shape (size[i+1], size[i])
    activate_fcn : callable
    ratio : float in [0, 1)
        Fraction of hidden nodes dropped.
    seed : int, np.random.Generator or None

    Returns
    -------
    z_out, a_out : lists of L + 1 ndarrays of shape (m, size[i]), as ``forward_propagate``
    """
    X = as_matrix("X", X)
    thetas = _checks.as_thetas(thetas, X.shape[1])
    check_activation("activate_fcn", activate_fcn)
    ratio = check_ratio(ratio, [t.shape[0] for t in thetas[:-1]])
    return _forward_dropout(X, thetas, activate_fcn, ratio, as_generator(seed))


def _forward_dropout(X, thetas, activate_fcn, ratio, rng):
    """``forward_propagate_dropout`` without argument checks."""
    return _propagate(X, thetas, activate_fcn, _draw_masks([t.shape[0] for t in thetas[:-1]], ratio, rng))


def _draw_masks(widths, ratio, rng):
    """One fresh mask per hidden layer, in layer order (``network.draw_masks``)."""
    return [_dropout(w, ratio, rng) for w in widths]


# The network's backprop and train draw their masks here when ratio > 0.
network.DROPOUT["draw"] = _draw_masks


def gains_from_forward(z_out, a_out, activate_fcn):
    """Read back the Dropout gains that a forward pass applied, from its outputs alone.

    A kept node has ``a = activate_fcn(z) * gain``, a dropped one ``a = 0``,
    so ``gain = a / activate_fcn(z)`` wherever the activation is non-zero.
    Where it is zero (ReLU with ``z <= 0``) the gain is unknown but does not
    matter: the activation's derivative is 0 there too, and we return 0.

    Parameters
    ----------
    z_out, a_out : lists of L + 1 arrays of shape (m, size[i]), from ``forward_propagate_dropout``
    activate_fcn : callable, the hidden activation used for them

    Returns
    -------
    gains : list of L - 1 ndarrays, gains[i] of shape (m, size[i+1]), one per hidden layer
        What ``backward_propagate`` takes as ``gains`` to backpropagate through that pass.
    """
    gains = []
    for z, a in zip(z_out[1:-1], a_out[1:-1]):
        g = activate_fcn(z)
        gains.append(np.divide(a, g, out=np.zeros_like(g), where=g != 0))
    return gains
