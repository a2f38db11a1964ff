"""Students' ReLU_dropout_gradient (notebook 04): da/dz of a ReLU hidden layer under Dropout, from z and a alone."""

import numpy as np

import reludrop_core

from . import buggy, correct


def notebook04():
    """Notebook 04 defines no earlier function itself: it imports them from reludrop_core (see ``CORE``)."""
    return []


#: What notebook 04's read-only first cell imports from the core (names the check must not count as delegation).
CORE = {"ReLU": reludrop_core.ReLU, "ReLU_gradient": reludrop_core.ReLU_gradient, "Dropout": reludrop_core.Dropout}


# --- correct ---------------------------------------------------------------------------------------------------


@correct(base=notebook04, env=CORE)  # the solution: np.divide only where z > 0, into zeros
def ReLU_dropout_gradient(z, a):
    z = np.asarray(z, dtype=np.float64)
    a = np.asarray(a, dtype=np.float64)
    return np.divide(a, z, out=np.zeros_like(z), where=z > 0)


@correct()  # np.where with a safe divisor: no warning
def ReLU_dropout_gradient(z, a):  # noqa: F811
    return np.where(z > 0, a / np.where(z > 0, z, 1.0), 0.0)


@correct()  # a / z inside np.where: 0/0 warns where z == 0 but np.where discards it
def ReLU_dropout_gradient(z, a):  # noqa: F811
    return np.where(z > 0, a / z, 0)


@correct()  # a / z, then the z <= 0 entries set to 0 (warns, right)
def ReLU_dropout_gradient(z, a):  # noqa: F811
    g = a / z
    g[z <= 0] = 0.0
    return g


@correct()  # a loop over samples and nodes
def ReLU_dropout_gradient(z, a):  # noqa: F811
    z, a = np.asarray(z), np.asarray(a)
    g = np.zeros(z.shape)
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            if z[i, j] > 0:
                g[i, j] = a[i, j] / z[i, j]
    return g


@correct(base=notebook04, env=CORE)  # ReLU'(0) = 1: each node's gain read from its rows with z > 0, times ReLU'(z) >= 0
def ReLU_dropout_gradient(z, a):  # noqa: F811
    z, a = np.asarray(z, dtype=float), np.asarray(a, dtype=float)
    gain = np.divide(a, z, out=np.zeros_like(z), where=z > 0).max(axis=0)
    return (z >= 0) * gain


@correct(base=notebook04, env=CORE)  # the notebook's ReLU_gradient (imported from the core) times each node's gain
def ReLU_dropout_gradient(z, a):  # noqa: F811
    z, a = np.asarray(z, dtype=float), np.asarray(a, dtype=float)
    gain = np.divide(a, z, out=np.zeros_like(z), where=z > 0).max(axis=0)
    return ReLU_gradient(z) * gain  # noqa: F821


@correct()  # the handout's np.matrix style: np.multiply, returns np.matrix
def ReLU_dropout_gradient(z, a):  # noqa: F811
    z, a = np.matrix(z), np.matrix(a)
    safe = np.where(z > 0, z, 1)
    return np.matrix(np.multiply(np.divide(a, safe), z > 0))


@correct()  # computed in float32
def ReLU_dropout_gradient(z, a):  # noqa: F811
    z, a = np.asarray(z, dtype=np.float32), np.asarray(a, dtype=np.float32)
    return np.divide(a, z, out=np.zeros_like(z), where=z > 0)


# --- buggy -------------------------------------------------------------------------------------------------------


@buggy("relu_dropout_no_gain", base=notebook04, env=CORE)  # the handout's shortcut a_out > 0: 1 instead of the gain
def ReLU_dropout_gradient(z, a):  # noqa: F811
    return (a > 0).astype(np.float64)


@buggy("relu_dropout_divides_by_zero")  # plain a / z: 0/0 = nan where z == 0
def ReLU_dropout_gradient(z, a):  # noqa: F811
    return a / z


@buggy("relu_dropout_ignores_mask", base=notebook04, env=CORE)  # ReLU's derivative alone, the mask forgotten
def ReLU_dropout_gradient(z, a):  # noqa: F811
    return ReLU_gradient(z)  # noqa: F821


@buggy("relu_dropout_gain_inverted")  # z / a where a > 0: num/size instead of size/num
def ReLU_dropout_gradient(z, a):  # noqa: F811
    return np.divide(z, a, out=np.zeros_like(z), where=a > 0)


@buggy("relu_dropout_inactive_not_zero")  # out=z.copy() (not to change z): the z < 0 entries keep z's values
def ReLU_dropout_gradient(z, a):  # noqa: F811
    return np.divide(a, z, out=z.copy(), where=z > 0)


@buggy("mutates_input")  # replaces the zeros of z by 1 in place, to divide safely
def ReLU_dropout_gradient(z, a):  # noqa: F811
    z[z == 0] = 1.0
    return a / z


@buggy("mismatch")  # keeps the divisor away from 0 with np.maximum(z, 1): wrong for 0 < z < 1
def ReLU_dropout_gradient(z, a):  # noqa: F811
    return a / np.maximum(z, 1.0)
