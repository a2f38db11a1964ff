"""Students' train loops, full batch and mini-batch."""

import numpy as np

from . import buggy, correct


@buggy("train_cost_after_update")  # records the loss after the epoch's updates
def train(X, Y, params, size, alpha, iters, activate_fcn, activate_fcn_gradient, ratio=0., step=-1):
    m = X.shape[0]
    g = params.copy()
    cost = np.zeros(iters)
    step = m if step == -1 else step
    index = np.cumsum(np.array(size[1:]) * np.array(size[:-1]))
    for i in range(iters):
        for j in range(0, m, step):
            J, grad = backprop(g, size, index, X[j:j + step], Y[j:j + step], activate_fcn, activate_fcn_gradient, ratio)
            g = g - alpha * grad
        cost[i] = cost_fcn(g, size, index, X, Y, activate_fcn)
    return g, cost


@buggy("mutates_input")  # g = params without a copy, then updates in place
def train(X, Y, params, size, alpha, iters, activate_fcn, activate_fcn_gradient, ratio=0., step=-1):  # noqa: F811
    m = X.shape[0]
    g = params
    cost = np.zeros(iters)
    step = m if step == -1 else step
    index = np.cumsum(np.array(size[1:]) * np.array(size[:-1]))
    for i in range(iters):
        cost[i] = cost_fcn(g, size, index, X, Y, activate_fcn)
        for j in range(0, m, step):
            J, grad = backprop(g, size, index, X[j:j + step], Y[j:j + step], activate_fcn, activate_fcn_gradient, ratio)
            g -= alpha * grad
    return g, cost


@buggy("train_ascent")  # + instead of -
def train(X, Y, params, size, alpha, iters, activate_fcn, activate_fcn_gradient, ratio=0., step=-1):  # noqa: F811
    m = X.shape[0]
    g = params.copy()
    cost = np.zeros(iters)
    step = m if step == -1 else step
    index = np.cumsum(np.array(size[1:]) * np.array(size[:-1]))
    for i in range(iters):
        cost[i] = cost_fcn(g, size, index, X, Y, activate_fcn)
        for j in range(0, m, step):
            J, grad = backprop(g, size, index, X[j:j + step], Y[j:j + step], activate_fcn, activate_fcn_gradient, ratio)
            g = g + alpha * grad
    return g, cost


@buggy("train_cost_batch_average")  # records the mean of the mini-batch losses
def train(X, Y, params, size, alpha, iters, activate_fcn, activate_fcn_gradient, ratio=0., step=-1):  # noqa: F811
    m = X.shape[0]
    g = params.copy()
    cost = []
    step = m if step == -1 else step
    index = np.cumsum(np.array(size[1:]) * np.array(size[:-1]))
    for i in range(iters):
        losses = []
        for j in range(0, m, step):
            J, grad = backprop(g, size, index, X[j:j + step], Y[j:j + step], activate_fcn, activate_fcn_gradient, ratio)
            losses.append(J)
            g = g - alpha * grad
        cost.append(np.mean(losses))
    return g, cost


@buggy("train_skips_last_batch")  # range(m // step) batches: the remainder is never used
def train(X, Y, params, size, alpha, iters, activate_fcn, activate_fcn_gradient, ratio=0., step=-1):  # noqa: F811
    m = X.shape[0]
    g = params.copy()
    cost = np.zeros(iters)
    step = m if step == -1 else step
    index = np.cumsum(np.array(size[1:]) * np.array(size[:-1]))
    for i in range(iters):
        cost[i] = cost_fcn(g, size, index, X, Y, activate_fcn)
        for b in range(m // step):
            xs, ys = X[b * step:(b + 1) * step], Y[b * step:(b + 1) * step]
            J, grad = backprop(g, size, index, xs, ys, activate_fcn, activate_fcn_gradient, ratio)
            g = g - alpha * grad
    return g, cost


@buggy("train_ratio_not_passed")  # forgets to pass ratio on to backprop
def train(X, Y, params, size, alpha, iters, activate_fcn, activate_fcn_gradient, ratio=0., step=-1):  # noqa: F811
    m = X.shape[0]
    g = params.copy()
    cost = np.zeros(iters)
    step = m if step == -1 else step
    index = np.cumsum(np.array(size[1:]) * np.array(size[:-1]))
    for i in range(iters):
        cost[i] = cost_fcn(g, size, index, X, Y, activate_fcn)
        for j in range(0, m, step):
            J, grad = backprop(g, size, index, X[j:j + step], Y[j:j + step], activate_fcn, activate_fcn_gradient)
            g = g - alpha * grad
    return g, cost


@buggy("train_alpha_missing")  # forgets the learning rate
def train(X, Y, params, size, alpha, iters, activate_fcn, activate_fcn_gradient, ratio=0., step=-1):  # noqa: F811
    m = X.shape[0]
    g = params.copy()
    cost = np.zeros(iters)
    step = m if step == -1 else step
    index = np.cumsum(np.array(size[1:]) * np.array(size[:-1]))
    for i in range(iters):
        cost[i] = cost_fcn(g, size, index, X, Y, activate_fcn)
        for j in range(0, m, step):
            J, grad = backprop(g, size, index, X[j:j + step], Y[j:j + step], activate_fcn, activate_fcn_gradient, ratio)
            g = g - grad
    return g, cost


@correct()  # the handout's loop fixed: each mini-batch on its own slice, cost from cost_fcn before the epoch
def train(X, Y, params, size, alpha, iters, activate_fcn, activate_fcn_gradient, ratio=0., step=-1):  # noqa: F811
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


@correct()  # full batch records backprop's own cost; mini-batch asks backprop for the whole-set cost first
def train(X, Y, params, size, alpha, iters, activate_fcn, activate_fcn_gradient, ratio=0., step=-1):  # noqa: F811
    m = X.shape[0]
    g = np.array(params, dtype=float)
    cost = np.zeros(iters)
    step = m if step in (-1, m) else step
    index = np.cumsum(np.array(size[1:]) * np.array(size[:-1]))
    for i in range(iters):
        if step == m:
            cost[i], grad = backprop(g, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio)
            g = g - alpha * grad
            continue
        cost[i] = backprop(g, size, index, X, Y, activate_fcn, activate_fcn_gradient, 0.)[0]
        start = 0
        while start < m:
            stop = min(start + step, m)
            _, grad = backprop(g, size, index, X[start:stop], Y[start:stop], activate_fcn, activate_fcn_gradient, ratio)
            g = g - alpha * grad
            start = stop
    return g, cost


@buggy("train_wrong_index")  # size[:1] for size[:-1]: every layer's size taken as size[i+1] * size[0]
def train(X, Y, params, size, alpha, iters, activate_fcn, activate_fcn_gradient, ratio=0., step=-1):  # noqa: F811
    m = X.shape[0]
    g = params.copy()
    cost = np.zeros(iters)
    step = m if step == -1 else step
    index = np.cumsum(np.array(size[1:]) * np.array(size[:1]))
    for i in range(iters):
        cost[i] = cost_fcn(g, size, index, X, Y, activate_fcn)
        for j in range(0, m, step):
            J, grad = backprop(g, size, index, X[j:j + step], Y[j:j + step], activate_fcn, activate_fcn_gradient, ratio)
            g = g - alpha * grad
    return g, cost


@buggy("train_wrong_index")  # the layers' sizes without np.cumsum
def train(X, Y, params, size, alpha, iters, activate_fcn, activate_fcn_gradient, ratio=0., step=-1):  # noqa: F811
    m = X.shape[0]
    g = params.copy()
    cost = np.zeros(iters)
    step = m if step == -1 else step
    index = np.array(size[1:]) * np.array(size[:-1])
    for i in range(iters):
        cost[i] = cost_fcn(g, size, index, X, Y, activate_fcn)
        for j in range(0, m, step):
            J, grad = backprop(g, size, index, X[j:j + step], Y[j:j + step], activate_fcn, activate_fcn_gradient, ratio)
            g = g - alpha * grad
    return g, cost


@buggy("train_wrong_index")  # boundaries with a leading 0: the handout's backprop cuts an empty first layer
def train(X, Y, params, size, alpha, iters, activate_fcn, activate_fcn_gradient, ratio=0., step=-1):  # noqa: F811
    m = X.shape[0]
    g = params.copy()
    cost = np.zeros(iters)
    step = m if step == -1 else step
    index = np.concatenate([[0], np.cumsum(np.array(size[1:]) * np.array(size[:-1]))])
    for i in range(iters):
        cost[i] = cost_fcn(g, size, index, X, Y, activate_fcn)
        for j in range(0, m, step):
            J, grad = backprop(g, size, index, X[j:j + step], Y[j:j + step], activate_fcn, activate_fcn_gradient, ratio)
            g = g - alpha * grad
    return g, cost


@buggy("train_wrong_index")  # the right index for backprop, but size passed as cost_fcn's index (mini-batch)
def train(X, Y, params, size, alpha, iters, activate_fcn, activate_fcn_gradient, ratio=0., step=-1):  # noqa: F811
    m = X.shape[0]
    g = params.copy()
    cost = np.zeros(iters)
    step = m if step == -1 else step
    index = np.cumsum(np.array(size[1:]) * np.array(size[:-1]))
    for i in range(iters):
        cost[i] = cost_fcn(g, size, size, X, Y, activate_fcn)
        for j in range(0, m, step):
            J, grad = backprop(g, size, index, X[j:j + step], Y[j:j + step], activate_fcn, activate_fcn_gradient, ratio)
            g = g - alpha * grad
    return g, cost


@correct()  # index built as a Python list by a loop
def train(X, Y, params, size, alpha, iters, activate_fcn, activate_fcn_gradient, ratio=0., step=-1):  # noqa: F811
    m = X.shape[0]
    g = np.array(params, dtype=float)
    cost = np.zeros(iters)
    step = m if step == -1 else step
    index, total = [], 0
    for i in range(len(size) - 1):
        total += size[i + 1] * size[i]
        index.append(total)
    for i in range(iters):
        cost[i] = cost_fcn(g, size, index, X, Y, activate_fcn)
        for j in range(0, m, step):
            J, grad = backprop(g, size, index, X[j:j + step], Y[j:j + step], activate_fcn, activate_fcn_gradient, ratio)
            g = g - alpha * grad
    return g, cost


@correct()  # index as a (1, L) np.matrix row: the handout's values (the core's backprop ravels it; a len(index) loop would not)
def train(X, Y, params, size, alpha, iters, activate_fcn, activate_fcn_gradient, ratio=0., step=-1):  # noqa: F811
    m = X.shape[0]
    g = params.copy()
    cost = np.matrix(np.zeros((iters, 1)))
    if step == -1:
        step = m
    s = np.matrix(size)
    index = np.cumsum(np.multiply(s[:, 1:], s[:, :-1]), axis=1)
    for i in range(iters):
        cost[i, 0] = cost_fcn(g, size, index, X, Y, activate_fcn)
        for j in range(0, m, step):
            J, grad = backprop(g, size, index, X[j:j + step], Y[j:j + step], activate_fcn, activate_fcn_gradient, ratio)
            g = g - alpha * grad
    return g, cost
