"""A correct student notebook in the handout's style (np.matrix, ``*`` as matrix product), its defects fixed.

Every variant's namespace starts from these functions, as a notebook has all
of them defined above the cell being graded.
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
    d = np.exp(z - z.max(axis=1).reshape(-1, 1))
    return d / d.sum(axis=1).reshape(-1, 1)


def softmax_gradient(z):
    s = np.asarray(softmax(z))
    return s[:, :, None] * (np.eye(s.shape[1]) - s[:, None, :])


def Dropout(size, ratio):
    num = np.round(size * (1 - ratio))
    index = np.random.permutation(size)[:int(num)]
    ym = np.zeros(size)
    ym[index] = size / num
    return ym


def unpack(params, size, index):
    thetas = []
    index1 = 0
    for i in range(len(index)):
        index2 = index[i]
        thetas.append(np.matrix(np.reshape(params[index1:index2], (size[i + 1], size[i]))))
        index1 = index2
    return thetas


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


def cost_fcn(params, size, index, X, Y, activate_fcn):
    m = X.shape[0]
    X = np.matrix(X)
    Y = np.matrix(Y)
    _, a_out = forward_propagate(X, unpack(params, size, index), activate_fcn)
    h = a_out[-1]
    return -np.multiply(Y, np.log(h)).sum() / m


def backprop(params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio=0.):
    m = X.shape[0]
    X = np.matrix(X)
    Y = np.matrix(Y)
    thetas = unpack(params, size, index)
    if ratio > 0:
        z_out, a_out = forward_propagate_dropout(X, thetas, activate_fcn, ratio)
    else:
        z_out, a_out = forward_propagate(X, thetas, activate_fcn)
    cost = cost_fcn(params, size, index, X, Y, activate_fcn)
    grads = []
    delta = (a_out[-1] - Y) / m
    for i in range(len(thetas) - 1, -1, -1):
        grads.append(delta.T @ a_out[i])
        if i > 0:
            error = delta @ thetas[i]
            if ratio > 0:   # the mask and its gain, read back from the forward pass
                g = activate_fcn(z_out[i])
                error = np.multiply(error, np.divide(a_out[i], g, out=np.zeros(g.shape), where=np.asarray(g) != 0))
            J = activate_fcn_gradient(z_out[i])
            if np.ndim(J) == 3:   # a full Jacobian (softmax): one k x k matrix per sample
                delta = np.einsum('ij,ijl->il', np.asarray(error), J)
            else:
                delta = np.multiply(error, J)
    return cost, np.concatenate([np.ravel(g) for g in grads[::-1]])


def train(X, Y, params, size, alpha, iters, activate_fcn, activate_fcn_gradient, ratio=0., step=-1):
    m = X.shape[0]
    g = params.copy()
    cost = np.matrix(np.zeros((iters, 1)))
    if step == -1:
        step = m
    index = np.array(size)
    index = np.cumsum(index[1:] * index[:-1])
    for i in range(iters):
        cost[i, 0] = cost_fcn(g, size, index, X, Y, activate_fcn)
        for j in range(0, m, step):
            xs = X[j:j + step, :]
            ys = Y[j:j + step]
            J, grad = backprop(g, size, index, xs, ys, activate_fcn, activate_fcn_gradient, ratio)
            g = g - alpha * grad
    return g, cost


def functions():
    """The notebook's functions, in the order a student defines them."""
    return [ReLU, ReLU_gradient, sigmoid, sigmoid_gradient, softmax, softmax_gradient, Dropout, unpack,
            forward_propagate, forward_propagate_dropout, cost_fcn, backprop, train]
