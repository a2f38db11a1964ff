"""Students' ReLU, ReLU_gradient, sigmoid, sigmoid_gradient, softmax and softmax_gradient."""

import math

import numpy as np

from . import buggy, correct

# --- ReLU ---------------------------------------------------------------------------------------------


@buggy("relu_min")  # np.minimum for np.maximum
def ReLU(z):
    return np.minimum(0, z)


@buggy("relu_leaky")  # a leaky ReLU from another course
def ReLU(z):  # noqa: F811
    return np.maximum(0.01 * z, z)


@buggy("mutates_input")  # zeroes the negatives in place and returns the caller's array
def ReLU(z):  # noqa: F811
    z[z < 0] = 0
    return z


@buggy("relu_abs")  # |z| instead of max(0, z)
def ReLU(z):  # noqa: F811
    return np.abs(z)


@buggy("relu_is_gradient")  # returns the derivative's mask instead of the value
def ReLU(z):  # noqa: F811
    return (z > 0).astype(float)


@correct()  # z * (z > 0): right for ndarrays (wrong for np.matrix, where * is a product)
def ReLU(z):  # noqa: F811
    return z * (z > 0)


@correct()  # loops over every entry with Python's max
def ReLU(z):  # noqa: F811
    out = np.zeros(z.shape)
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            out[i, j] = max(0, z[i, j])
    return out


@correct()  # np.where on a copy
def ReLU(z):  # noqa: F811
    return np.where(z > 0, z, 0)


@correct()  # (|z| + z) / 2
def ReLU(z):  # noqa: F811
    return (np.abs(z) + z) / 2


# --- ReLU_gradient ------------------------------------------------------------------------------------------


@buggy("relu_grad_is_relu")  # returns ReLU itself
def ReLU_gradient(z):
    return np.maximum(0, z)


@buggy("relu_grad_at_zero")  # Heaviside with 0.5 at z == 0
def ReLU_gradient(z):  # noqa: F811
    return np.heaviside(z, 0.5)


@buggy("relu_grad_flipped")  # comparison the wrong way round
def ReLU_gradient(z):  # noqa: F811
    return z < 0


@buggy("relu_grad_sign")  # np.sign gives -1 for negatives
def ReLU_gradient(z):  # noqa: F811
    return np.sign(z)


@correct()  # ReLU'(0) = 1 convention, as floats
def ReLU_gradient(z):  # noqa: F811
    return (z >= 0).astype(float)


@correct()  # np.heaviside with 1 at zero
def ReLU_gradient(z):  # noqa: F811
    return np.heaviside(z, 1)


@correct()  # np.where returning ints
def ReLU_gradient(z):  # noqa: F811
    return np.where(z > 0, 1, 0)


@correct()  # ints: (z > 0).astype(int)
def ReLU_gradient(z):  # noqa: F811
    return (z > 0).astype(int)


# --- sigmoid ------------------------------------------------------------------------------------------------


@buggy("sigmoid_sign")  # exp(z) instead of exp(-z)
def sigmoid(z):
    return 1 / (1 + np.exp(z))


@buggy("sigmoid_precedence")  # 1/1 + exp(-z): missing brackets
def sigmoid(z):  # noqa: F811
    return 1 / 1 + np.exp(-z)


@buggy("sigmoid_overflow_nan")  # e^z / (1 + e^z): inf/inf = nan for large z
def sigmoid(z):  # noqa: F811
    return np.exp(z) / (1 + np.exp(z))


@buggy("mismatch")  # tanh mistaken for the logistic function
def sigmoid(z):  # noqa: F811
    return np.tanh(z)


@correct()  # the stable two-branch form
def sigmoid(z):  # noqa: F811
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1 / (1 + np.exp(-z[pos]))
    e = np.exp(z[~pos])
    out[~pos] = e / (1 + e)
    return out


@correct()  # via tanh: 0.5 * (1 + tanh(z / 2))
def sigmoid(z):  # noqa: F811
    return 0.5 * (1 + np.tanh(z / 2))


@correct(env={"math": math})  # loop with math.exp, guarding against OverflowError
def sigmoid(z):  # noqa: F811
    z = np.asarray(z, dtype=float)
    out = np.zeros(z.shape)
    for idx, v in np.ndenumerate(z):
        out[idx] = 1 / (1 + math.exp(-v)) if v > -700 else 0.0
    return out


# --- sigmoid_gradient -----------------------------------------------------------------------------------------


@buggy("sigmoid_grad_on_z")  # s(1 - s) written with z for s
def sigmoid_gradient(z):
    return z * (1 - z)


@buggy("sigmoid_grad_is_sigmoid")  # returns the sigmoid itself
def sigmoid_gradient(z):  # noqa: F811
    return sigmoid(z)


@buggy("nonfinite")  # e^-z / (1 + e^-z)^2: inf/inf for z = -1000
def sigmoid_gradient(z):  # noqa: F811
    return np.exp(-z) / (1 + np.exp(-z)) ** 2


@correct()  # s - s**2
def sigmoid_gradient(z):  # noqa: F811
    s = sigmoid(z)
    return s - s ** 2


@correct()  # the handout's np.matrix style: returns an np.matrix also for ndarray input
def sigmoid_gradient(z):  # noqa: F811
    s = np.matrix(sigmoid(z))
    return np.multiply(s, 1 - s)


# --- softmax ------------------------------------------------------------------------------------------------------


@buggy("softmax_global_sum")  # divides by the sum of the whole array
def softmax(z):
    d = np.exp(z - np.max(z, axis=1, keepdims=True))
    return d / d.sum()


@buggy("softmax_axis0")  # normalises the columns
def softmax(z):  # noqa: F811
    d = np.exp(z - np.max(z, axis=1, keepdims=True))
    return d / d.sum(axis=0, keepdims=True)


@buggy("softmax_global_max")  # subtracts the global maximum: far rows underflow to 0/0
def softmax(z):  # noqa: F811
    d = np.exp(z - np.max(z))
    return d / d.sum(axis=1, keepdims=True)


@buggy("softmax_no_keepdims")  # forgets the reshape(-1, 1): divides the columns
def softmax(z):  # noqa: F811
    d = np.exp(z - np.max(z, axis=1, keepdims=True))
    return d / d.sum(axis=1)


@correct()  # stable, keepdims
def softmax(z):  # noqa: F811
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


@correct()  # loops over rows
def softmax(z):  # noqa: F811
    z = np.asarray(z, dtype=float)
    out = np.zeros(z.shape)
    for i, row in enumerate(z):
        e = np.exp(row - row.max())
        out[i] = e / e.sum()
    return out


@correct()  # np.matrix only: z.max(axis=1) is a column for a matrix
def softmax(z):  # noqa: F811
    z = np.matrix(z)
    d = np.exp(z - z.max(axis=1))
    return d / d.sum(axis=1)


@correct()  # log-sum-exp
def softmax(z):  # noqa: F811
    z = np.asarray(z, dtype=float)
    c = z.max(axis=1, keepdims=True)
    lse = c + np.log(np.exp(z - c).sum(axis=1, keepdims=True))
    return np.exp(z - lse)


# --- softmax_gradient ---------------------------------------------------------------------------------------------


@buggy("softmax_grad_diagonal")  # the handout's s(1 - s) put on the diagonal of a (k, k) matrix
def softmax_gradient(z):
    s = np.asarray(softmax(z))
    return np.array([np.diag(row * (1 - row)) for row in s])


@buggy("softmax_grad_missing_diagonal")  # forgets diag(s)
def softmax_gradient(z):  # noqa: F811
    s = np.asarray(softmax(z))
    return -s[:, :, None] * s[:, None, :]


@buggy("wrong_shape")  # one Jacobian for the whole batch, flattened
def softmax_gradient(z):  # noqa: F811
    s = np.asarray(softmax(z)).ravel()
    return np.diagflat(s) - np.outer(s, s)


@correct()  # a loop over samples: np.diag(s) - np.outer(s, s)
def softmax_gradient(z):  # noqa: F811
    s = np.asarray(softmax(z))
    return np.array([np.diag(row) - np.outer(row, row) for row in s])


@correct()  # einsum with the identity
def softmax_gradient(z):  # noqa: F811
    s = np.asarray(softmax(z))
    k = s.shape[1]
    return np.einsum('ij,jl->ijl', s, np.eye(k)) - np.einsum('ij,il->ijl', s, s)
