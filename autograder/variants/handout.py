"""The handout's own code, as printed (only its typos fixed: ``h`` defined, ``[x]`` -> ``[X]``, ``y`` -> ``Y``).

Its np.matrix style must pass where it is right; its known defects must fail,
named: the overflowing softmax, the diagonal softmax_gradient, the summed
binary cross-entropy, the Dropout backward (sigmoid branch ignores the mask,
ReLU branch drops the gain) and the mini-batch loop that computes on the
whole set.
"""

import numpy as np

from . import buggy, correct


def functions():
    return [ReLU, ReLU_gradient, sigmoid, sigmoid_gradient, softmax, softmax_gradient, Dropout,
            forward_propagate, forward_propagate_dropout, cost_fcn, backprop, train]


@correct(base=functions)  # handout: np.maximum(0, z)
def ReLU(z):
    return np.maximum(0, z)


@correct(base=functions)  # handout: a bool gradient, z > 0
def ReLU_gradient(z):
    return z > 0


@correct(base=functions)  # handout: naive 1 / (1 + exp(-z)); overflows with a warning for z << 0 but is right
def sigmoid(z):
    return 1 / (1 + np.exp(-z))


@correct(base=functions)  # handout: np.multiply(s, 1 - s)
def sigmoid_gradient(z):
    return np.multiply(sigmoid(z), (1 - sigmoid(z)))


@buggy("softmax_overflow", base=functions)  # handout: exp without subtracting the row maximum
def softmax(z):
    d = np.exp(z)
    # 注意 d.sum() 的 axis
    return d / d.sum(axis=1).reshape(-1, 1)


@buggy("softmax_grad_diagonal", base=functions)  # handout: s(1 - s), the diagonal of the Jacobian only
def softmax_gradient(z):
    return np.multiply(softmax(z), (1 - softmax(z)))


@correct(base=functions)  # handout: permutation, gain size/num
def Dropout(size, ratio):
    num = np.round(size * (1 - ratio))
    index = np.random.permutation(size)[:int(num)]
    ym = np.zeros(size)
    ym[index] = size / num
    return ym


@correct(base=functions)  # handout: np.matrix and * as the matrix product
def forward_propagate(X, thetas, activate_fcn):
    m = X.shape[0]
    z_out, a_out = [X], [X]
    for theta in thetas:
        z_out.append(a_out[-1] * theta.T)
        a_out.append(activate_fcn(z_out[-1]))
    a_out[-1] = softmax(z_out[-1])
    return z_out, a_out


@correct(base=functions, activation="sigmoid")  # handout: Dropout also drawn for the output layer, then overwritten
@correct(base=functions, activation="relu")
def forward_propagate_dropout(X, thetas, activate_fcn, ratio):
    m = X.shape[0]
    z_out, a_out = [X], [X]
    for theta in thetas:
        z_out.append(a_out[-1] * theta.T)
        a_out.append(np.multiply(activate_fcn(z_out[-1]), Dropout(theta.shape[0], ratio)))
    a_out[-1] = softmax(z_out[-1])
    return z_out, a_out


@buggy("cost_bce", base=functions)  # handout: binary cross-entropy summed over the softmax outputs
def cost_fcn(params, size, index, X, Y, activate_fcn):
    m = X.shape[0]
    X = np.matrix(X)
    Y = np.matrix(Y)
    thetas = []
    index1 = 0
    for i in range(len(index)):
        index2 = index[i]
        thetas.append(np.matrix(np.reshape(params[index1:index2], (size[i + 1], size[i]))))
        index1 = index2
    _, a_out = forward_propagate(X, thetas, activate_fcn)
    h = a_out[-1]
    J = np.multiply(-Y, np.log(h)) - np.multiply((1 - Y), np.log(1 - h))
    cost = J.sum() / m
    return cost


@buggy("dropout_gain_missing", base=functions, activation="relu", ratio=0.2)  # handout, ReLU branch: z_out = a_out
@buggy("dropout_mask_not_applied", base=functions, activation="sigmoid", ratio=0.2)  # handout, sigmoid branch
@buggy("softmax_grad_diagonal", base=functions, activation="softmax")  # handout pair: its softmax_gradient
@buggy("backprop_cost_bce", base=functions, activation="relu")  # handout without Dropout: gradient right, BCE cost
def backprop(params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio=0.):
    m = X.shape[0]
    thetas = []
    index1 = 0
    for i in range(len(index)):
        index2 = index[i]
        thetas.append(np.matrix(np.reshape(params[index1:index2], (size[i + 1], size[i]))))
        index1 = index2
    if ratio > 0:
        z_out, a_out = forward_propagate_dropout(X, thetas, activate_fcn, ratio)
    else:
        z_out, a_out = forward_propagate(X, thetas, activate_fcn)
    if ratio > 0 and activate_fcn == ReLU:
        z_out = a_out
    h = a_out[-1]
    if ratio > 0:
        cost = cost_fcn(params, size, index, X, Y, activate_fcn)
    else:
        J = np.multiply(-Y, np.log(h)) - np.multiply((1 - Y), np.log(1 - h))
        cost = J.sum() / m
    grads = []
    error = h - Y
    delta = error
    for i in range(len(thetas) - 1, -1, -1):
        grads.append(delta.T @ a_out[i] / m)
        error = delta @ thetas[i]
        delta = np.multiply(error, activate_fcn_gradient(z_out[i]))
    grad = np.concatenate([np.ravel(grad) for grad in grads[::-1]])
    return cost, grad


@buggy("train_minibatch_whole_set", base=functions)  # handout: slices xs, ys, then computes on X, Y once per epoch
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
