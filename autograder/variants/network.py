"""Students' forward_propagate, cost_fcn and backprop (without and with Dropout)."""

import numpy as np

from . import buggy, correct, ndarray_style

ND = ndarray_style.functions()

# --- forward_propagate ---------------------------------------------------------------------------------------


@buggy("forward_no_softmax")  # forgets to replace the last activation by softmax
def forward_propagate(X, thetas, activate_fcn):
    z_out, a_out = [X], [X]
    for theta in thetas:
        z_out.append(a_out[-1] @ theta.T)
        a_out.append(activate_fcn(z_out[-1]))
    return z_out, a_out


@buggy("forward_softmax_of_activation")  # softmax of the activation instead of softmax of z
def forward_propagate(X, thetas, activate_fcn):  # noqa: F811
    z_out, a_out = [X], [X]
    for theta in thetas:
        z_out.append(a_out[-1] @ theta.T)
        a_out.append(activate_fcn(z_out[-1]))
    a_out[-1] = softmax(a_out[-1])
    return z_out, a_out


@buggy("forward_missing_input")  # starts the lists empty
def forward_propagate(X, thetas, activate_fcn):  # noqa: F811
    z_out, a_out = [], []
    a = X
    for theta in thetas:
        z = a @ theta.T
        a = activate_fcn(z)
        z_out.append(z)
        a_out.append(a)
    a_out[-1] = softmax(z_out[-1])
    return z_out, a_out


@correct()  # plain ndarrays and @
def forward_propagate(X, thetas, activate_fcn):  # noqa: F811
    z_out, a_out = [X], [X]
    for i, theta in enumerate(thetas):
        z = a_out[-1] @ theta.T
        z_out.append(z)
        a_out.append(softmax(z) if i == len(thetas) - 1 else activate_fcn(z))
    return z_out, a_out


@correct()  # one sample at a time
def forward_propagate(X, thetas, activate_fcn):  # noqa: F811
    X = np.asarray(X, dtype=float)
    z_out, a_out = [X], [X]
    for i, theta in enumerate(thetas):
        theta = np.asarray(theta)
        z = np.array([theta @ x for x in a_out[-1]])
        z_out.append(z)
        a_out.append(softmax(z) if i == len(thetas) - 1 else activate_fcn(z))
    return z_out, a_out


@correct()  # np.dot and np.asarray
def forward_propagate(X, thetas, activate_fcn):  # noqa: F811
    a = np.asarray(X)
    z_out, a_out = [a], [a]
    for theta in thetas:
        z = np.dot(a, np.asarray(theta).T)
        a = activate_fcn(z)
        z_out.append(z)
        a_out.append(a)
    a_out[-1] = softmax(z_out[-1])
    return z_out, a_out


@correct()  # converts to np.matrix and returns np.matrix layers, also for ndarray input
def forward_propagate(X, thetas, activate_fcn):  # noqa: F811
    z_out, a_out = [np.matrix(X)], [np.matrix(X)]
    for theta in thetas:
        z_out.append(a_out[-1] * np.matrix(theta).T)
        a_out.append(np.matrix(activate_fcn(z_out[-1])))
    a_out[-1] = np.matrix(softmax(z_out[-1]))
    return z_out, a_out


# --- cost_fcn -------------------------------------------------------------------------------------------------


@buggy("cost_missing_1_over_m")  # forgets to divide by m
def cost_fcn(params, size, index, X, Y, activate_fcn):
    _, a_out = forward_propagate(np.matrix(X), unpack(params, size, index), activate_fcn)
    return -np.multiply(np.matrix(Y), np.log(a_out[-1])).sum()


@buggy("cost_mean_over_classes")  # np.mean over all m*k entries
def cost_fcn(params, size, index, X, Y, activate_fcn):  # noqa: F811
    _, a_out = forward_propagate(np.matrix(X), unpack(params, size, index), activate_fcn)
    return -np.mean(np.multiply(Y, np.log(a_out[-1])))


@buggy("cost_sign")  # forgets the minus sign
def cost_fcn(params, size, index, X, Y, activate_fcn):  # noqa: F811
    m = X.shape[0]
    _, a_out = forward_propagate(np.matrix(X), unpack(params, size, index), activate_fcn)
    return np.multiply(Y, np.log(a_out[-1])).sum() / m


@correct(helpers=ND)  # ndarray style, log of the probability of the right class
def cost_fcn(params, size, index, X, Y, activate_fcn):  # noqa: F811
    thetas = [np.asarray(t) for t in unpack(params, size, index)]
    h = np.asarray(forward_propagate(np.asarray(X), thetas, activate_fcn)[1][-1])
    p = np.sum(h * np.asarray(Y), axis=1)
    return -np.mean(np.log(p))


@correct()  # a loop over samples, returns a 1x1 matrix
def cost_fcn(params, size, index, X, Y, activate_fcn):  # noqa: F811
    X, Y = np.matrix(X), np.matrix(Y)
    _, a_out = forward_propagate(X, unpack(params, size, index), activate_fcn)
    h = a_out[-1]
    total = np.matrix([[0.0]])
    for i in range(X.shape[0]):
        total = total - np.log(h[i]) * Y[i].T
    return total / X.shape[0]


# --- backprop, without Dropout -------------------------------------------------------------------------------------


@buggy("missing_1_over_m", activation="relu")  # forgets 1/m in the output delta
def backprop(params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio=0.):
    m = X.shape[0]
    thetas = unpack(params, size, index)
    z_out, a_out = forward_propagate(np.matrix(X), thetas, activate_fcn)
    cost = cost_fcn(params, size, index, X, Y, activate_fcn)
    grads = []
    delta = a_out[-1] - Y
    for i in range(len(thetas) - 1, -1, -1):
        grads.append(delta.T @ a_out[i])
        delta = np.multiply(delta @ thetas[i], activate_fcn_gradient(z_out[i]))
    return cost, np.concatenate([np.ravel(g) for g in grads[::-1]])


@buggy("sign_flip", activation="sigmoid")  # error = Y - h
def backprop(params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio=0.):  # noqa: F811
    m = X.shape[0]
    thetas = unpack(params, size, index)
    z_out, a_out = forward_propagate(np.matrix(X), thetas, activate_fcn)
    cost = cost_fcn(params, size, index, X, Y, activate_fcn)
    grads = []
    delta = (Y - a_out[-1]) / m
    for i in range(len(thetas) - 1, -1, -1):
        grads.append(delta.T @ a_out[i])
        delta = np.multiply(delta @ thetas[i], activate_fcn_gradient(z_out[i]))
    return cost, np.concatenate([np.ravel(g) for g in grads[::-1]])


@buggy("constant_factor", activation="relu")  # squared-error habit: delta = 2 (h - Y) / m
def backprop(params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio=0.):  # noqa: F811
    m = X.shape[0]
    thetas = unpack(params, size, index)
    z_out, a_out = forward_propagate(np.matrix(X), thetas, activate_fcn)
    cost = cost_fcn(params, size, index, X, Y, activate_fcn)
    grads = []
    delta = 2 * (a_out[-1] - Y) / m
    for i in range(len(thetas) - 1, -1, -1):
        grads.append(delta.T @ a_out[i])
        delta = np.multiply(delta @ thetas[i], activate_fcn_gradient(z_out[i]))
    return cost, np.concatenate([np.ravel(g) for g in grads[::-1]])


@buggy("derivative_at_a", activation="sigmoid")  # passes the activation a to the derivative
def backprop(params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio=0.):  # noqa: F811
    m = X.shape[0]
    thetas = unpack(params, size, index)
    z_out, a_out = forward_propagate(np.matrix(X), thetas, activate_fcn)
    cost = cost_fcn(params, size, index, X, Y, activate_fcn)
    grads = []
    delta = (a_out[-1] - Y) / m
    for i in range(len(thetas) - 1, -1, -1):
        grads.append(delta.T @ a_out[i])
        delta = np.multiply(delta @ thetas[i], activate_fcn_gradient(a_out[i]))
    return cost, np.concatenate([np.ravel(g) for g in grads[::-1]])


@buggy("missing_derivative", activation="sigmoid")  # forgets the activation's derivative
def backprop(params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio=0.):  # noqa: F811
    m = X.shape[0]
    thetas = unpack(params, size, index)
    z_out, a_out = forward_propagate(np.matrix(X), thetas, activate_fcn)
    cost = cost_fcn(params, size, index, X, Y, activate_fcn)
    grads = []
    delta = (a_out[-1] - Y) / m
    for i in range(len(thetas) - 1, -1, -1):
        grads.append(delta.T @ a_out[i])
        delta = delta @ thetas[i]
    return cost, np.concatenate([np.ravel(g) for g in grads[::-1]])


@buggy("only_last_layer", activation="relu")  # multiplies by the activation instead of its derivative
def backprop(params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio=0.):  # noqa: F811
    m = X.shape[0]
    thetas = unpack(params, size, index)
    z_out, a_out = forward_propagate(np.matrix(X), thetas, activate_fcn)
    cost = cost_fcn(params, size, index, X, Y, activate_fcn)
    grads = []
    delta = (a_out[-1] - Y) / m
    for i in range(len(thetas) - 1, -1, -1):
        grads.append(delta.T @ a_out[i])
        delta = np.multiply(delta @ thetas[i], activate_fcn(z_out[i]))
    return cost, np.concatenate([np.ravel(g) for g in grads[::-1]])


@buggy("layers_reversed", activation="relu")  # forgets grads[::-1]
def backprop(params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio=0.):  # noqa: F811
    m = X.shape[0]
    thetas = unpack(params, size, index)
    z_out, a_out = forward_propagate(np.matrix(X), thetas, activate_fcn)
    cost = cost_fcn(params, size, index, X, Y, activate_fcn)
    grads = []
    delta = (a_out[-1] - Y) / m
    for i in range(len(thetas) - 1, -1, -1):
        grads.append(delta.T @ a_out[i])
        delta = np.multiply(delta @ thetas[i], activate_fcn_gradient(z_out[i]))
    return cost, np.concatenate([np.ravel(g) for g in grads])


@buggy("grad_transposed", activation="sigmoid")  # a.T @ delta: each layer's gradient transposed
def backprop(params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio=0.):  # noqa: F811
    m = X.shape[0]
    thetas = unpack(params, size, index)
    z_out, a_out = forward_propagate(np.matrix(X), thetas, activate_fcn)
    cost = cost_fcn(params, size, index, X, Y, activate_fcn)
    grads = []
    delta = (a_out[-1] - Y) / m
    for i in range(len(thetas) - 1, -1, -1):
        grads.append(a_out[i].T @ delta)
        delta = np.multiply(delta @ thetas[i], activate_fcn_gradient(z_out[i]))
    return cost, np.concatenate([np.ravel(g) for g in grads[::-1]])


@buggy("cost_missing_1_over_m", activation="relu")  # right gradient, cost summed over samples
def backprop(params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio=0.):  # noqa: F811
    m = X.shape[0]
    thetas = unpack(params, size, index)
    z_out, a_out = forward_propagate(np.matrix(X), thetas, activate_fcn)
    cost = -np.multiply(Y, np.log(a_out[-1])).sum()
    grads = []
    delta = (a_out[-1] - Y) / m
    for i in range(len(thetas) - 1, -1, -1):
        grads.append(delta.T @ a_out[i])
        delta = np.multiply(delta @ thetas[i], activate_fcn_gradient(z_out[i]))
    return cost, np.concatenate([np.ravel(g) for g in grads[::-1]])


@buggy("mutates_input", activation="relu")  # scales X in place "to normalise" it
def backprop(params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio=0.):  # noqa: F811
    m = X.shape[0]
    X /= 1.0 * max(1.0, np.abs(X).max()) + 1.0
    thetas = unpack(params, size, index)
    z_out, a_out = forward_propagate(np.matrix(X), thetas, activate_fcn)
    cost = cost_fcn(params, size, index, X, Y, activate_fcn)
    grads = []
    delta = (a_out[-1] - Y) / m
    for i in range(len(thetas) - 1, -1, -1):
        grads.append(delta.T @ a_out[i])
        delta = np.multiply(delta @ thetas[i], activate_fcn_gradient(z_out[i]))
    return cost, np.concatenate([np.ravel(g) for g in grads[::-1]])


@correct(activation="relu", helpers=ND)  # ndarrays, one sample at a time, gradients summed
@correct(activation="sigmoid", helpers=ND)
def backprop(params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio=0.):  # noqa: F811
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    m = X.shape[0]
    thetas = [np.asarray(t) for t in unpack(params, size, index)]
    grads = [np.zeros(t.shape) for t in thetas]
    cost = 0.0
    for x, y in zip(X, Y):
        z_out, a_out = forward_propagate(x.reshape(1, -1), thetas, activate_fcn)
        z_out = [np.asarray(z) for z in z_out]
        a_out = [np.asarray(a) for a in a_out]
        cost -= np.sum(y * np.log(a_out[-1])) / m
        delta = (a_out[-1] - y) / m
        for i in range(len(thetas) - 1, -1, -1):
            grads[i] += delta.T @ a_out[i]
            if i > 0:
                delta = (delta @ thetas[i]) * activate_fcn_gradient(z_out[i])
    return cost, np.concatenate([g.ravel() for g in grads])


@correct(activation="relu")  # ReLU'(0) = 1 and a bool gradient, the handout's np.matrix style with the CE cost
def backprop(params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio=0.):  # noqa: F811
    m = X.shape[0]
    thetas = unpack(params, size, index)
    z_out, a_out = forward_propagate(X, thetas, activate_fcn)
    h = a_out[-1]
    cost = -np.multiply(Y, np.log(h)).sum() / m
    grads = []
    delta = h - Y
    for i in range(len(thetas) - 1, -1, -1):
        grads.append(delta.T @ a_out[i] / m)
        error = delta @ thetas[i]
        delta = np.multiply(error, np.asarray(z_out[i]) >= 0)
    return cost, np.concatenate([np.ravel(g) for g in grads[::-1]])


# --- backprop, with Dropout ------------------------------------------------------------------------------------------


@buggy("derivative_on_masked_activation", activation="sigmoid", ratio=0.2)  # a(1 - a) on the masked, scaled a
def backprop(params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio=0.):  # noqa: F811
    m = X.shape[0]
    thetas = unpack(params, size, index)
    if ratio > 0:
        z_out, a_out = forward_propagate_dropout(np.matrix(X), thetas, activate_fcn, ratio)
    else:
        z_out, a_out = forward_propagate(np.matrix(X), thetas, activate_fcn)
    cost = cost_fcn(params, size, index, X, Y, activate_fcn)
    grads = []
    delta = (a_out[-1] - Y) / m
    for i in range(len(thetas) - 1, -1, -1):
        grads.append(delta.T @ a_out[i])
        delta = np.multiply(delta @ thetas[i], np.multiply(a_out[i], 1 - a_out[i]))
    return cost, np.concatenate([np.ravel(g) for g in grads[::-1]])


@buggy("cost_with_dropout", activation="relu", ratio=0.2)  # returns the loss of the dropped-out forward pass
def backprop(params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio=0.):  # noqa: F811
    m = X.shape[0]
    thetas = unpack(params, size, index)
    z_out, a_out = forward_propagate_dropout(np.matrix(X), thetas, activate_fcn, ratio)
    h = a_out[-1]
    cost = -np.multiply(Y, np.log(h)).sum() / m
    grads = []
    delta = (h - Y) / m
    for i in range(len(thetas) - 1, -1, -1):
        grads.append(delta.T @ a_out[i])
        if i > 0:
            g = activate_fcn(z_out[i])
            mask = np.divide(a_out[i], g, out=np.zeros(g.shape), where=np.asarray(g) != 0)
            delta = np.multiply(np.multiply(delta @ thetas[i], mask), activate_fcn_gradient(z_out[i]))
    return cost, np.concatenate([np.ravel(g) for g in grads[::-1]])


@buggy("dropout_ignored", activation="sigmoid", ratio=0.2)  # never goes through forward_propagate_dropout
def backprop(params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio=0.):  # noqa: F811
    m = X.shape[0]
    thetas = unpack(params, size, index)
    z_out, a_out = forward_propagate(np.matrix(X), thetas, activate_fcn)
    cost = cost_fcn(params, size, index, X, Y, activate_fcn)
    grads = []
    delta = (a_out[-1] - Y) / m
    for i in range(len(thetas) - 1, -1, -1):
        grads.append(delta.T @ a_out[i])
        delta = np.multiply(delta @ thetas[i], activate_fcn_gradient(z_out[i]))
    return cost, np.concatenate([np.ravel(g) for g in grads[::-1]])


@buggy("dropout_gain_missing", activation="sigmoid", ratio=0.2)  # multiplies by the 0/1 mask, not by the gain
def backprop(params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio=0.):  # noqa: F811
    m = X.shape[0]
    thetas = unpack(params, size, index)
    z_out, a_out = forward_propagate_dropout(np.matrix(X), thetas, activate_fcn, ratio)
    cost = cost_fcn(params, size, index, X, Y, activate_fcn)
    grads = []
    delta = (a_out[-1] - Y) / m
    for i in range(len(thetas) - 1, -1, -1):
        grads.append(delta.T @ a_out[i])
        keep = np.asarray(a_out[i]) != 0
        delta = np.multiply(np.multiply(delta @ thetas[i], keep), activate_fcn_gradient(z_out[i]))
    return cost, np.concatenate([np.ravel(g) for g in grads[::-1]])


@correct(activation="relu", ratio=0.2)  # ReLU: a_out > 0 as the mask, times the gain size/num
def backprop(params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio=0.):  # noqa: F811
    m = X.shape[0]
    thetas = unpack(params, size, index)
    z_out, a_out = forward_propagate_dropout(np.matrix(X), thetas, activate_fcn, ratio)
    cost = cost_fcn(params, size, index, X, Y, activate_fcn)
    grads = []
    delta = (a_out[-1] - Y) / m
    for i in range(len(thetas) - 1, -1, -1):
        grads.append(delta.T @ a_out[i])
        if i > 0:
            gain = size[i] / np.round(size[i] * (1 - ratio))
            delta = np.multiply(delta @ thetas[i], (np.asarray(a_out[i]) > 0) * gain)
    return cost, np.concatenate([np.ravel(g) for g in grads[::-1]])


@correct(activation="sigmoid", ratio=0.2, helpers=ND)  # ndarrays: the mask read back as a / sigmoid(z), which is never 0
def backprop(params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio=0.):  # noqa: F811
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    m = X.shape[0]
    thetas = [np.asarray(t) for t in unpack(params, size, index)]
    if ratio > 0:
        z_out, a_out = forward_propagate_dropout(X, thetas, activate_fcn, ratio)
    else:
        z_out, a_out = forward_propagate(X, thetas, activate_fcn)
    z_out, a_out = [np.asarray(z) for z in z_out], [np.asarray(a) for a in a_out]
    h = np.asarray(forward_propagate(X, thetas, activate_fcn)[1][-1])
    cost = -np.sum(Y * np.log(h)) / m
    grads = [None] * len(thetas)
    delta = (a_out[-1] - Y) / m
    for i in range(len(thetas) - 1, -1, -1):
        grads[i] = delta.T @ a_out[i]
        if i > 0:
            mask = a_out[i] / activate_fcn(z_out[i])
            delta = (delta @ thetas[i]) * mask * activate_fcn_gradient(z_out[i])
    return cost, np.concatenate([g.ravel() for g in grads])


@buggy("mismatch", activation="relu")  # adds L2 weight decay to the gradient (not part of this loss)
def backprop(params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio=0.):  # noqa: F811
    m = X.shape[0]
    thetas = unpack(params, size, index)
    z_out, a_out = forward_propagate(np.matrix(X), thetas, activate_fcn)
    cost = cost_fcn(params, size, index, X, Y, activate_fcn)
    grads = []
    delta = (a_out[-1] - Y) / m
    for i in range(len(thetas) - 1, -1, -1):
        grads.append(delta.T @ a_out[i] + 0.01 * thetas[i])
        delta = np.multiply(delta @ thetas[i], activate_fcn_gradient(z_out[i]))
    return cost, np.concatenate([np.ravel(g) for g in grads[::-1]])


@buggy("dropout_in_inference")  # reuses the Dropout forward pass for prediction
def forward_propagate(X, thetas, activate_fcn):  # noqa: F811
    z_out, a_out = [X], [X]
    for theta in thetas:
        z_out.append(a_out[-1] @ theta.T)
        a_out.append(np.multiply(activate_fcn(z_out[-1]), Dropout(theta.shape[0], 0.2)))
    a_out[-1] = softmax(z_out[-1])
    return z_out, a_out
