"""Activation functions and their gradients.

Each activation comes with a gradient function, and the pair is what
``backprop`` and ``train`` take, as in the handout:
``(ReLU, ReLU_gradient)``, ``(sigmoid, sigmoid_gradient)``,
``(softmax, softmax_gradient)``.

Why a gradient may return two different shapes
----------------------------------------------
The gradient of an activation ``a = g(z)`` of one row ``z`` (k values) is
its Jacobian, a (k, k) matrix ``J[j, l] = da_j / dz_l``. Backprop pushes an
upstream error ``e = dJ/da`` (shape (m, k)) through it: ``delta = e @ J``.

* ReLU and sigmoid act on each entry alone, so their Jacobian is diagonal.
  Their gradient functions return just that diagonal, shape (m, k), and
  ``delta = e * g'(z)`` entry by entry, exactly as in the handout.
* softmax mixes the entries of a row (they must sum to 1), so its Jacobian
  is full: ``J[j, l] = s_j * (1[j == l] - s_l)``. ``softmax_gradient``
  returns all of it, shape (m, k, k), and backprop multiplies row by row:
  ``delta = e @ J = s * (e - rowsum(e * s))``.

So the one rule ``backprop`` follows is: a 2-D gradient is a diagonal, a 3-D
gradient is a full Jacobian (see ``activation_backward``). The handout's
``softmax_gradient`` returned ``s * (1 - s)``, only the diagonal of a
Jacobian that is not diagonal; its gradients are off by 30-70 % (kept here,
clearly named, as ``handout_softmax_gradient`` so the course can show that).

Shapes: ``z`` is (m, k): m samples, k nodes of one layer. ReLU and sigmoid
also accept any other shape, entry by entry; softmax needs rows.
"""

import numpy as np

from ._checks import as_float, as_matrix


def ReLU(z):
    """Rectified linear unit, ``max(0, z)`` entry by entry.

    Parameters
    ----------
    z : array_like of shape (m, k)

    Returns
    -------
    a : ndarray of shape (m, k)
    """
    return np.maximum(as_float("z", z), 0.0)


def ReLU_gradient(z):
    """Derivative of ReLU: 1 where ``z > 0``, else 0 (we take 0 at ``z == 0``).

    Parameters
    ----------
    z : array_like of shape (m, k)

    Returns
    -------
    g : ndarray of shape (m, k), float64 zeros and ones
    """
    return np.heaviside(as_float("z", z), 0.0)


def sigmoid(z):
    """Logistic function ``1 / (1 + exp(-z))``, without overflow for any float64 ``z``.

    ``exp(-z)`` overflows for ``z < -709``; we only ever exponentiate
    ``-|z|`` and use ``sigmoid(z) = e^z / (1 + e^z)`` for negative ``z``.

    Parameters
    ----------
    z : array_like of shape (m, k)

    Returns
    -------
    a : ndarray of shape (m, k), values in [0, 1]
    """
    z = as_float("z", z)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, e) / (1.0 + e)


def sigmoid_gradient(z):
    """Derivative of the sigmoid, ``s * (1 - s)`` with ``s = sigmoid(z)``.

    Computed as ``e / (1 + e)**2`` with ``e = exp(-|z|)``, the same value
    written so that it neither overflows nor rounds to 0 for large ``z``.

    Parameters
    ----------
    z : array_like of shape (m, k)

    Returns
    -------
    g : ndarray of shape (m, k)
    """
    e = np.exp(-np.abs(as_float("z", z)))
    return e / (1.0 + e) ** 2


def softmax(z):
    """Row-wise softmax, ``exp(z) / rowsum(exp(z))``, stable for large inputs.

    Subtracting each row's maximum first leaves the result unchanged
    (numerator and denominator gain the same factor) and keeps ``exp`` from
    overflowing: the largest exponent becomes ``exp(0) = 1``.

    Parameters
    ----------
    z : array_like of shape (m, k)

    Returns
    -------
    s : ndarray of shape (m, k), each row positive and summing to 1
    """
    return _softmax(as_matrix("z", z, finite=False))


def _softmax(z):
    e = z - z.max(axis=1, keepdims=True)
    np.exp(e, out=e)
    e /= e.sum(axis=1, keepdims=True)
    return e


def softmax_gradient(z):
    """Exact gradient of softmax used as a hidden activation: its full Jacobian.

    ``J[i, j, l] = d s_ij / d z_il = s_ij * (1[j == l] - s_il)`` for sample i.
    Pass it to ``backprop`` with ``softmax``; backprop computes
    ``delta = e @ J`` per sample, which equals ``s * (e - rowsum(e * s))``.

    Parameters
    ----------
    z : array_like of shape (m, k)

    Returns
    -------
    J : ndarray of shape (m, k, k)
    """
    s = softmax(z)
    return s[:, :, None] * (np.eye(s.shape[1]) - s[:, None, :])


def handout_softmax_gradient(z):
    """The handout's ``softmax_gradient``: ``s * (1 - s)``. WRONG as a hidden activation.

    Kept only so the course can show its failure: it is the diagonal of the
    softmax Jacobian and ignores how each output depends on the other inputs
    of its row, so backprop with it is off by 30-70 % relative error.

    Parameters
    ----------
    z : array_like of shape (m, k)

    Returns
    -------
    g : ndarray of shape (m, k)
    """
    s = softmax(z)
    return s * (1.0 - s)


def activation_backward(gradient, error):
    """Push an upstream error through an activation's gradient.

    Parameters
    ----------
    gradient : ndarray of shape (m, k) or (m, k, k)
        What an ``activate_fcn_gradient`` returned: a diagonal (m, k) or a
        full Jacobian (m, k, k).
    error : ndarray of shape (m, k)
        ``dJ/da``, the error arriving at the layer's activations.

    Returns
    -------
    delta : ndarray of shape (m, k)
        ``dJ/dz``, the error at the layer's inputs.
    """
    gradient, error = as_float("gradient", gradient), as_float("error", error)
    if gradient.ndim == 3:
        return np.einsum("ij,ijl->il", error, gradient)
    return error * gradient
