"""How long does each grading check take? Prints one row per check and flavour, and the total per notebook.

Targets: at most 0.5 s per check, at most 2 s for all the checks of one notebook.

The checks refuse the reference itself (that is delegation), so they are
timed on a correct student solution written like the reference (plain
ndarrays and ``@``), defined below in a fresh notebook-like namespace.
Each figure is the median of ``REPEATS`` runs, the first (imports, caches)
not counted. Run: ``python benchmarks/bench_checks.py``.
"""

import statistics
import time

from autograder import checks

REPEATS = 5
HIDDEN_SEED = 123457

SOLUTION = '''
import numpy as np

def ReLU(z):
    return np.maximum(z, 0)

def ReLU_gradient(z):
    return (np.asarray(z) > 0) * 1.0

def sigmoid(z):
    return 1 / (1 + np.exp(-z))

def sigmoid_gradient(z):
    s = sigmoid(z)
    return s * (1 - s)

def softmax(z):
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)

def softmax_gradient(z):
    s = np.asarray(softmax(z))
    return s[:, :, None] * (np.eye(s.shape[1]) - s[:, None, :])

def Dropout(size, ratio):
    num = int(np.round(size * (1 - ratio)))
    ym = np.zeros(size)
    ym[np.random.permutation(size)[:num]] = size / num
    return ym

def unpack(params, size):
    thetas, start = [], 0
    for i in range(len(size) - 1):
        n = size[i + 1] * size[i]
        thetas.append(np.asarray(params[start:start + n]).reshape(size[i + 1], size[i]))
        start += n
    return thetas

def forward_propagate(X, thetas, activate_fcn):
    z_out, a_out = [X], [X]
    for theta in thetas:
        z_out.append(a_out[-1] @ theta.T)
        a_out.append(activate_fcn(z_out[-1]))
    a_out[-1] = softmax(z_out[-1])
    return z_out, a_out

def forward_propagate_dropout(X, thetas, activate_fcn, ratio):
    z_out, a_out = [X], [X]
    for i, theta in enumerate(thetas):
        z_out.append(a_out[-1] @ theta.T)
        if i < len(thetas) - 1:
            a_out.append(activate_fcn(z_out[-1]) * Dropout(theta.shape[0], ratio))
        else:
            a_out.append(softmax(z_out[-1]))
    return z_out, a_out

def cost_fcn(params, size, index, X, Y, activate_fcn):
    h = forward_propagate(np.asarray(X), unpack(params, size), activate_fcn)[1][-1]
    return -np.sum(np.asarray(Y) * np.log(h)) / X.shape[0]

def backprop(params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio=0.):
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    thetas = unpack(params, size)
    if ratio > 0:
        z_out, a_out = forward_propagate_dropout(X, thetas, activate_fcn, ratio)
    else:
        z_out, a_out = forward_propagate(X, thetas, activate_fcn)
    cost = cost_fcn(params, size, index, X, Y, activate_fcn)
    grads = [None] * len(thetas)
    delta = (a_out[-1] - Y) / X.shape[0]
    for i in range(len(thetas) - 1, -1, -1):
        grads[i] = delta.T @ a_out[i]
        if i > 0:
            g = activate_fcn(z_out[i])
            gain = np.divide(a_out[i], g, out=np.zeros(g.shape), where=g != 0)
            J = activate_fcn_gradient(z_out[i])
            error = (delta @ thetas[i]) * gain
            delta = np.einsum('ij,ijl->il', error, J) if np.ndim(J) == 3 else error * J
    return cost, np.concatenate([g.ravel() for g in grads])

def train(X, Y, params, size, alpha, iters, activate_fcn, activate_fcn_gradient, ratio=0., step=-1):
    m = X.shape[0]
    step = m if step == -1 else step
    index = np.cumsum(np.array(size[1:]) * np.array(size[:-1]))
    g = np.array(params, dtype=float)
    cost = np.zeros(iters)
    for i in range(iters):
        cost[i] = cost_fcn(g, size, index, X, Y, activate_fcn)
        for j in range(0, m, step):
            _, grad = backprop(g, size, index, X[j:j + step], Y[j:j + step], activate_fcn, activate_fcn_gradient, ratio)
            g = g - alpha * grad
    return g, cost
'''

#: (label, check name, student function, options) in the order of each notebook's test cells.
NOTEBOOKS = {
    "01_relu_network": [("ReLU", "ReLU", {}), ("ReLU_gradient", "ReLU_gradient", {}), ("sigmoid", "sigmoid", {}),
                        ("sigmoid_gradient", "sigmoid_gradient", {}), ("softmax", "softmax", {}),
                        ("forward_propagate", "forward_propagate", {}), ("cost_fcn", "cost_fcn", {}),
                        ("backprop", "backprop", {"activation": "relu"}), ("train", "train", {})],
    "02_softmax_comparison": [("softmax_gradient", "softmax_gradient", {})],
    "03_sigmoid_dropout": [("Dropout", "Dropout", {}),
                           ("forward_propagate_dropout", "forward_propagate_dropout", {"activation": "sigmoid"}),
                           ("backprop(ratio, sigmoid)", "backprop", {"activation": "sigmoid", "ratio": 0.2})],
    "04_relu_dropout": [("backprop(ratio, ReLU)", "backprop", {"activation": "relu", "ratio": 0.2})],
}


def notebook():
    ns = {"__name__": "__main__"}
    exec(compile(SOLUTION, "<solution>", "exec"), ns)
    return ns


def timed(check, fn, ns, hidden, options):
    times = []
    for _ in range(REPEATS + 1):
        start = time.perf_counter()
        check(fn, ns, hidden=hidden, seed=HIDDEN_SEED, **options)
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:]), max(times[1:])


def main():
    ns = notebook()
    rows, totals, worst = [], {}, 0.0
    for book, items in NOTEBOOKS.items():
        total = 0.0
        for label, name, options in items:
            for hidden in (False, True):
                median, slowest = timed(getattr(checks, "check_" + name), ns[name], ns, hidden, options)
                rows.append((book, label, "hidden" if hidden else "visible", median, slowest))
                total += median
                worst = max(worst, slowest)
        totals[book] = total
    print(f"{'notebook':<23} {'check':<28} {'flavour':<8} {'median s':>9} {'max s':>7}")
    for book, label, flavour, median, slowest in rows:
        print(f"{book:<23} {label:<28} {flavour:<8} {median:9.3f} {slowest:7.3f}")
    print()
    print(f"{'notebook':<23} {'all checks, visible + hidden (s)':>34}")
    for book, total in totals.items():
        print(f"{book:<23} {total:34.3f}")
    print()
    print(f"slowest single check: {worst:.3f} s (target <= 0.5 s); slowest notebook: "
          f"{max(totals.values()):.3f} s (target <= 2 s)")


if __name__ == "__main__":
    main()
