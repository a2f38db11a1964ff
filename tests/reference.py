"""Independent reference implementations that the tests compare ``reludrop_core`` against.

Written from the formulas, not copied from the package, and nothing here
imports ``reludrop_core``: a bug in the package cannot hide in its own
reference. Shapes use the package's letters: m samples, n features,
k classes, ``size`` the layer widths.
"""

import os
import re
from decimal import Decimal, localcontext

import numpy as np

#: Finite-difference step, as in CS231n: float64 and h = 1e-5.
H = 1e-5


# --- activations -----------------------------------------------------------

def ref_relu(z):
    """max(0, z) written as a comparison."""
    z = np.asarray(z, dtype=np.float64)
    return np.where(z > 0, z, 0.0)


def ref_sigmoid(z):
    """1 / (1 + exp(-z)), the textbook form (fine for the moderate z of small networks)."""
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


def ref_softmax(z):
    """Row-wise softmax: exp of each entry over the row's sum, shifted by the row max."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


REF_ACTIVATIONS = {"ReLU": ref_relu, "sigmoid": ref_sigmoid, "softmax": ref_softmax}


def precise_sigmoid(z):
    """The logistic function of one float, computed with 60 decimal digits, rounded once to float64."""
    z = float(z)
    if z > 800:          # 1 - e^-800: rounds to 1.0 in float64
        return 1.0
    if z < -800:         # e^-800 < 1e-347: rounds to 0.0 in float64
        return 0.0
    with localcontext() as ctx:
        ctx.prec = 60
        d = Decimal(float(z))
        return float(1 / (1 + (-d).exp()))


# --- network ---------------------------------------------------------------

def ref_unpack(params, size):
    """Cut a flat parameter vector into weight matrices, thetas[i] of shape (size[i+1], size[i])."""
    params = np.asarray(params, dtype=np.float64).ravel()
    thetas, start = [], 0
    for i in range(len(size) - 1):
        rows, cols = size[i + 1], size[i]
        block = params[start:start + rows * cols]
        thetas.append(block.reshape(rows, cols))      # row by row: block[r * cols + c] is theta[r, c]
        start += rows * cols
    assert start == params.size, "parameter count does not match size"
    return thetas


def ref_forward(X, thetas, act, masks=None):
    """Forward pass: z = a @ theta.T, a = act(z) * mask on hidden layers, softmax on the last.

    Returns the lists z_out, a_out with X first, like the handout's ``forward_propagate``.
    """
    a = np.asarray(X, dtype=np.float64)
    z_out, a_out = [a], [a]
    for i, theta in enumerate(thetas):
        z = a @ np.asarray(theta, dtype=np.float64).T
        if i == len(thetas) - 1:
            a = ref_softmax(z)
        else:
            a = act(z)
            if masks is not None:
                a = a * masks[i]
        z_out.append(z)
        a_out.append(a)
    return z_out, a_out


def ref_forward_loops(X, thetas, act_scalar):
    """The same forward pass written with explicit loops over samples and nodes (slow, obvious).

    ``act_scalar`` maps one float to one float; softmax hidden layers are not supported here.
    """
    X = np.asarray(X, dtype=np.float64)
    outputs = []
    for x in X:
        a = list(x)
        for li, theta in enumerate(thetas):
            z = [sum(theta[r][c] * a[c] for c in range(len(a))) for r in range(len(theta))]
            if li == len(thetas) - 1:
                top = max(z)
                e = [np.exp(v - top) for v in z]
                a = [v / sum(e) for v in e]
            else:
                a = [act_scalar(v) for v in z]
        outputs.append(a)
    return np.array(outputs)


def ref_cross_entropy(h, Y):
    """Categorical cross-entropy averaged over the m samples: -(1/m) sum Y log h, for one-hot Y.

    Only the true class's probability enters, so an other class's h = 0 gives no 0 * log 0.
    """
    h, Y = np.asarray(h, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    return float(-np.sum(np.log(h[Y == 1])) / h.shape[0])


def ref_handout_cost(h, Y):
    """The handout's figure, (1/m) sum over samples and outputs of -y log h - (1 - y) log(1 - h), for one-hot Y."""
    h, Y = np.asarray(h, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    return float((-np.sum(np.log(h[Y == 1])) - np.sum(np.log(1 - h[Y == 0]))) / h.shape[0])


def ref_loss(params, size, X, Y, act, masks=None):
    """The network's loss at ``params`` (with the given Dropout masks held fixed)."""
    return ref_cross_entropy(ref_forward(X, ref_unpack(params, size), act, masks)[1][-1], Y)


def ref_layer_index(size):
    """Where each layer ends in params, by a running total."""
    ends, total = [], 0
    for i in range(len(size) - 1):
        total += size[i] * size[i + 1]
        ends.append(total)
    return np.array(ends)


# --- gradient checking -----------------------------------------------------

def centred_difference(f, x, h=H):
    """(f(x + h e_j) - f(x - h e_j)) / (2h) for every entry j of a float64 copy of x."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for j in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[j] += h
        down[j] -= h
        grad[j] = (f(up) - f(down)) / (2 * h)
    return grad


def ref_rel_error(a, b):
    """||a - b|| / (||a|| + ||b||) with the Euclidean norm, 0 when both are zero."""
    a, b = np.ravel(a).astype(np.float64), np.ravel(b).astype(np.float64)
    denom = np.sqrt(np.sum(a * a)) + np.sqrt(np.sum(b * b))
    return 0.0 if denom == 0 else float(np.sqrt(np.sum((a - b) ** 2)) / denom)


def layer_blocks(flat, size):
    """Split a flat gradient into its per-layer blocks (flattened)."""
    return [t.ravel() for t in ref_unpack(flat, size)]


# --- data ------------------------------------------------------------------

#: The five digits as the course specifies them, row by row, 1 = ink.
DIGIT_ROWS = {
    1: ["01100", "00100", "00100", "00100", "01110"],
    2: ["11110", "00001", "01110", "10000", "11111"],
    3: ["11110", "00001", "01110", "00001", "11110"],
    4: ["00010", "00110", "01010", "11111", "00010"],
    5: ["11111", "10000", "11110", "00001", "11110"],
}


def digit_image(d):
    """Digit d as a (5, 5) float array, image[r, c] the pixel in row r, column c."""
    return np.array([[float(ch) for ch in row] for row in DIGIT_ROWS[d]])


def flatten_column_by_column(image):
    """The 25 pixels of a 5x5 image, column 0 top to bottom, then column 1, ... (the handout's order)."""
    return np.array([image[r, c] for c in range(5) for r in range(5)])


def course_data():
    """X (5, 25) with one flattened digit per row, Y = eye(5), labels 1..5."""
    X = np.array([flatten_column_by_column(digit_image(d)) for d in range(1, 6)])
    return X, np.eye(5), np.arange(1, 6)


# --- misc ------------------------------------------------------------------

def examples(n):
    """Hypothesis examples for a test: n normally, 10 n under HYPOTHESIS_PROFILE=thorough."""
    return n * (10 if os.environ.get("HYPOTHESIS_PROFILE") == "thorough" else 1)


_CJK = re.compile(r"[\u4e00-\u9fff]")


def assert_bilingual(excinfo):
    """The error message is two lines: Chinese first, then English (without Chinese characters)."""
    text = str(excinfo.value)
    lines = text.split("\n")
    assert len(lines) == 2, f"expected a Chinese line and an English line, got {text!r}"
    assert _CJK.search(lines[0]), f"first line should be Chinese: {lines[0]!r}"
    assert not _CJK.search(lines[1]), f"second line should be English: {lines[1]!r}"


def one_hot(labels, k):
    """One-hot rows for labels counted from 0."""
    Y = np.zeros((len(labels), k))
    Y[np.arange(len(labels)), labels] = 1.0
    return Y


def contains_matrix(obj):
    """True if ``obj`` is an np.matrix or a list/tuple/dict holding one anywhere."""
    if isinstance(obj, np.matrix):
        return True
    if isinstance(obj, (list, tuple)):
        return any(contains_matrix(o) for o in obj)
    if isinstance(obj, dict):
        return any(contains_matrix(o) for o in obj.values())
    return False
