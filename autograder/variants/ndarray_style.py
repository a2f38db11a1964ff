"""Helpers of a student who writes plain ndarrays and @ (no np.matrix): the functions their backprop calls."""

import numpy as np


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
    thetas = [np.asarray(t) for t in unpack(params, size, index)]
    h = forward_propagate(np.asarray(X), thetas, activate_fcn)[1][-1]
    return -np.sum(np.asarray(Y) * np.log(h)) / X.shape[0]


def functions():
    return [forward_propagate, forward_propagate_dropout, cost_fcn]
