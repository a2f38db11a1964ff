"""Test cases: a few fixed visible ones, and hidden ones drawn from a secret seed.

Visible cases are the same for everyone and can be read in this file.
Hidden cases come from ``np.random.default_rng([seed, check id])``, where
``seed`` is written only in the instructor's hidden test cell: the student
release cannot know them, and every regrade of a submission draws the same.
The hidden flavour also reruns the visible cases and their *twins*
(the same inputs, every non-zero value nudged by up to 5 %, signs and
zeros kept): a function right on the published inputs but wrong on their
twins is returning stored answers.

Letters: m samples, n features, k classes, size the layer widths.
"""

import zlib

import numpy as np

#: Seed of the visible cases (public on purpose).
VISIBLE_SEED = 20240917


class Case:
    """One set of arguments for the student's function.

    Attributes
    ----------
    label : str, "#3" (a twin is "#3~")
    kind : "visible", "twin" or "hidden"
    names : tuple of str, the argument names (shown in messages)
    args : tuple, float64 ndarrays (2-D data), lists of them (thetas), numbers, callables
    info : dict, whatever the check needs to judge it (size, m, ...)
    seed : int, numpy's global generator is seeded with it before the call
    """

    __slots__ = ("label", "kind", "names", "args", "info", "seed")

    def __init__(self, label, kind, names, args, info=None, seed=0):
        self.label, self.kind, self.names, self.args = label, kind, tuple(names), tuple(args)
        self.info, self.seed = dict(info or {}), seed

    def inputs(self):
        """The arguments by name, for messages."""
        return dict(zip(self.names, self.args))

    def args_for(self, style):
        """The arguments as ``style`` wants them: "array" (float64 ndarrays) or "matrix" (2-D ones as np.matrix)."""
        if style == "array":
            return tuple(_copy(a) for a in self.args)
        return tuple(_as_matrix(a) for a in self.args)


def _copy(a):
    if isinstance(a, np.ndarray):
        return a.copy()
    if isinstance(a, list):
        return [_copy(x) for x in a]
    return a


def _as_matrix(a):
    if isinstance(a, np.ndarray) and a.ndim == 2:
        return np.asmatrix(a.copy())
    if isinstance(a, list):
        return [_as_matrix(x) for x in a]
    return _copy(a)


def check_id(name):
    """A stable number for a check's name (the same on every machine and run)."""
    return zlib.crc32(name.encode())


def generator(name, hidden, seed):
    """The generator a check draws its cases from."""
    if hidden:
        return np.random.default_rng([int(seed), check_id(name), 1])
    return np.random.default_rng([VISIBLE_SEED, check_id(name)])


def twin(case, rng, perturb):
    """A copy of ``case`` with the arguments at positions ``perturb`` nudged (non-zero entries times 1 +- 5 %)."""
    args = list(case.args)
    for i in perturb:
        args[i] = _nudge(args[i], rng)
    return Case(case.label + "~", "twin", case.names, args, case.info, case.seed + 1)


def _nudge(a, rng):
    if isinstance(a, list):
        return [_nudge(x, rng) for x in a]
    return a * (1 + 0.05 * rng.uniform(-1, 1, size=np.shape(a)))


# --- entry-by-entry inputs ---------------------------------------------------

def elementwise_z(rng, shape, zeros=0.15, large=0.0, scale=3.0):
    """A float64 array of ``shape``: normal values, some exact zeros, some large ones (|z| in 50..900).

    Parameters
    ----------
    rng : np.random.Generator
    shape : tuple (m, k)
    zeros, large : float, fraction of entries set to 0 and to a large magnitude
    """
    z = rng.normal(0, scale, size=shape)
    z[rng.random(shape) < zeros] = 0.0
    big = rng.random(shape) < large
    z[big] = rng.choice([-1.0, 1.0], size=int(big.sum())) * rng.uniform(50, 900, size=int(big.sum()))
    return z


def random_shape(rng, low=2, high=30):
    return int(rng.integers(low, high)), int(rng.integers(low, high))


# --- networks ----------------------------------------------------------------

def one_hot(rng, m, k):
    """(m, k) one-hot rows with random classes."""
    return np.eye(k)[rng.integers(0, k, size=m)]


def pixels(rng, m, n):
    """(m, n) 0/1 pixels like the course's digits, no row all zero."""
    X = (rng.random((m, n)) < 0.45).astype(np.float64)
    X[np.arange(m), rng.integers(0, n, size=m)] = 1.0
    return X


def network(rng, size, m, scale=1.0):
    """A network case: X (m, n) pixels, Y (m, k) one-hot, params (index[-1],) uniform(-scale, scale).

    The parameters are redrawn (a few times at most) until no sample has a hidden layer whose ReLU
    units are all dead: such a sample would add nothing to the gradient and hide mistakes.
    """
    size = [int(s) for s in size]
    index = np.cumsum(np.array(size[1:]) * np.array(size[:-1]))
    X, Y = pixels(rng, m, size[0]), one_hot(rng, m, size[-1])
    for _ in range(20):
        params = rng.uniform(-scale, scale, size=int(index[-1]))
        if _alive(X, unpack(params, size)):
            break
    return size, index, X, Y, params


def _alive(X, thetas):
    a = X
    for theta in thetas[:-1]:
        a = np.maximum(a @ theta.T, 0.0)
        if not np.all(a.max(axis=1) > 0):
            return False
    return True


def unpack(params, size):
    """thetas[i] of shape (size[i+1], size[i]), copies."""
    thetas, start = [], 0
    for rows, cols in zip(size[1:], size[:-1]):
        thetas.append(params[start:start + rows * cols].reshape(rows, cols).copy())
        start += rows * cols
    return thetas


def random_size(rng, hidden_layers=None, low=3, high=12):
    """Layer widths [n, hidden..., k] with 1-3 hidden layers, all widths different where possible."""
    layers = int(rng.integers(1, 4)) if hidden_layers is None else hidden_layers
    widths = rng.choice(np.arange(low, high + 1), size=layers + 2, replace=layers + 2 > high - low + 1)
    return [int(w) for w in widths]
