"""A faithful handout-style implementation, written for the benchmark only.

It is the handout's code, defects included (see DEVELOPERS.md): ``np.matrix``
everywhere, thetas rebuilt from ``params`` on every call, ``*`` as matrix
product, the summed binary cross-entropy as the recorded cost, the diagonal
softmax gradient, the ``a_out > 0`` Dropout trick, and a train loop that
slices mini-batches and then computes on the whole set. Only the typos of the
printed handout are fixed. On experiment A (ReLU, no Dropout, full batch)
none of the defects touches the parameter updates, so it must end with the
same parameters as ``reludrop_core.train`` from the same start.
"""

import numpy as np


def ReLU(z):
    return np.maximum(0, z)


def ReLU_gradient(z):
    return z > 0


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def sigmoid_gradient(z):
    return np.multiply(sigmoid(z), (1 - sigmoid(z)))


def softmax(z):
    d = np.exp(z)
    return d / d.sum(axis=1).reshape(-1, 1)


def softmax_gradient(z):
    return np.multiply(softmax(z), (1 - softmax(z)))


def Dropout(size, ratio):
    num = np.round(size * (1 - ratio))
    index = np.random.permutation(size)[:int(num)]
    ym = np.zeros(size)
    ym[index] = size / num
    return ym


def forward_propagate(X, thetas, activate_fcn):
    z_out, a_out = [X], [X]
    for theta in thetas:
        z_out.append(a_out[-1] * theta.T)
        a_out.append(activate_fcn(z_out[-1]))
    a_out[-1] = softmax(z_out[-1])
    return z_out, a_out


def forward_propagate_dropout(X, thetas, activate_fcn, ratio):
    z_out, a_out = [X], [X]
    for theta in thetas:
        z_out.append(a_out[-1] * theta.T)
        a_out.append(np.multiply(activate_fcn(z_out[-1]), Dropout(theta.shape[0], ratio)))
    a_out[-1] = softmax(z_out[-1])
    return z_out, a_out


def unpack(params, size, index):
    thetas = []
    index1 = 0
    for i in range(len(index)):
        index2 = index[i]
        thetas.append(np.matrix(np.reshape(params[index1:index2], (size[i + 1], size[i]))))
        index1 = index2
    return thetas


def cost_fcn(params, size, index, X, y, activate_fcn):
    m = X.shape[0]
    _, a_out = forward_propagate(X, unpack(params, size, index), activate_fcn)
    h = a_out[-1]
    J = np.multiply(-y, np.log(h)) - np.multiply((1 - y), np.log(1 - h))
    return J.sum() / m


def backprop(params, size, index, X, y, activate_fcn, activate_fcn_gradient, ratio=0.):
    m = X.shape[0]
    thetas = unpack(params, size, index)
    if ratio > 0:
        z_out, a_out = forward_propagate_dropout(X, thetas, activate_fcn, ratio)
    else:
        z_out, a_out = forward_propagate(X, thetas, activate_fcn)
    if ratio > 0 and activate_fcn == ReLU:
        z_out = a_out
    h = a_out[-1]
    if ratio > 0:
        cost = cost_fcn(params, size, index, X, y, activate_fcn)
    else:
        J = np.multiply(-y, np.log(h)) - np.multiply((1 - y), np.log(1 - h))
        cost = J.sum() / m
    grads = []
    error = h - y
    delta = error
    for i in range(len(thetas) - 1, -1, -1):
        grads.append(delta.T @ a_out[i] / m)
        error = delta @ thetas[i]
        delta = np.multiply(error, activate_fcn_gradient(z_out[i]))
    grad = np.concatenate([np.ravel(g) for g in grads[::-1]])
    return cost, grad


def train(X, Y, params, size, alpha, iters, activate_fcn, activate_fcn_gradient, ratio=0., step=-1):
    m = X.shape[0]
    g = params.copy()
    cost = np.matrix(np.zeros((iters, 1)))
    if step == -1:
        step = m
    index = np.array(size)
    index = np.cumsum(index[1:] * index[:-1])
    for i in range(iters):
        for j in range(0, m, step):
            xs = X[j:j + step, :]
            ys = Y[j:j + step]
        J, grad = backprop(g, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio)
        g = g - alpha * grad
        cost[i, 0] = J
    return g, cost
