"""Students' Dropout and forward_propagate_dropout."""

import numpy as np

from . import buggy, correct

# --- Dropout ---------------------------------------------------------------------------------------------------


@buggy("dropout_inverted_ratio")  # reads ratio as the fraction kept
def Dropout(size, ratio):
    num = int(np.round(size * ratio))
    ym = np.zeros(size)
    ym[np.random.permutation(size)[:num]] = size / num
    return ym


@buggy("dropout_no_gain")  # a 0/1 mask, no gain
def Dropout(size, ratio):  # noqa: F811
    num = int(np.round(size * (1 - ratio)))
    ym = np.zeros(size)
    ym[np.random.permutation(size)[:num]] = 1
    return ym


@buggy("dropout_gain_formula")  # gain 1 / (1 - ratio) instead of size / num
def Dropout(size, ratio):  # noqa: F811
    num = int(np.round(size * (1 - ratio)))
    ym = np.zeros(size)
    ym[np.random.permutation(size)[:num]] = 1 / (1 - ratio)
    return ym


@buggy("dropout_bernoulli")  # each node drawn on its own (inverted dropout of other courses)
def Dropout(size, ratio):  # noqa: F811
    keep = np.random.rand(size) > ratio
    return keep / (1 - ratio)


@buggy("dropout_not_fresh")  # seeds inside Dropout "to be reproducible": the same mask every call
def Dropout(size, ratio):  # noqa: F811
    np.random.seed(0)
    num = int(np.round(size * (1 - ratio)))
    ym = np.zeros(size)
    ym[np.random.permutation(size)[:num]] = size / num
    return ym


@buggy("dropout_biased")  # permutation(size - 1): the last node is never kept
def Dropout(size, ratio):  # noqa: F811
    num = int(np.round(size * (1 - ratio)))
    ym = np.zeros(size)
    ym[np.random.permutation(size - 1)[:num]] = size / num
    return ym


@buggy("dropout_duplicates")  # randint draws indices with replacement
def Dropout(size, ratio):  # noqa: F811
    num = int(np.round(size * (1 - ratio)))
    ym = np.zeros(size)
    ym[np.random.randint(0, size, num)] = size / num
    return ym


@buggy("dropout_truncates")  # int() rounds down
def Dropout(size, ratio):  # noqa: F811
    num = int(size * (1 - ratio))
    ym = np.zeros(size)
    ym[np.random.permutation(size)[:num]] = size / num
    return ym


@correct()  # np.random.choice without replacement
def Dropout(size, ratio):  # noqa: F811
    num = int(np.round(size * (1 - ratio)))
    ym = np.zeros(size)
    ym[np.random.choice(size, num, replace=False)] = size / num
    return ym


@correct(env={"rng": np.random.default_rng(2024)})  # a Generator made once in the notebook
def Dropout(size, ratio):  # noqa: F811
    num = int(np.round(size * (1 - ratio)))
    ym = np.zeros(size)
    ym[rng.permutation(size)[:num]] = size / num  # noqa: F821
    return ym


@correct()  # fill then shuffle, returned as a (1, size) matrix
def Dropout(size, ratio):  # noqa: F811
    num = int(np.round(size * (1 - ratio)))
    ym = np.zeros(size)
    ym[:num] = size / num
    np.random.shuffle(ym)
    return np.matrix(ym)


@correct()  # argsort of uniform numbers
def Dropout(size, ratio):  # noqa: F811
    num = round(size * (1 - ratio))
    keep = np.argsort(np.random.rand(size))[:num]
    ym = np.zeros(size)
    ym[keep] = size / num
    return ym


@correct()  # its own unseeded Generator, made anew inside each call
def Dropout(size, ratio):  # noqa: F811
    rng = np.random.default_rng()
    num = int(np.round(size * (1 - ratio)))
    ym = np.zeros(size)
    ym[rng.permutation(size)[:num]] = size / num
    return ym


@correct(env={"rng": np.random.default_rng(5)})  # a seeded Generator made once in the notebook, rng.choice
def Dropout(size, ratio):  # noqa: F811
    num = int(np.round(size * (1 - ratio)))
    ym = np.zeros(size)
    ym[rng.choice(size, num, replace=False)] = size / num  # noqa: F821
    return ym


@correct()  # np.random.shuffle of an index array, the first num kept
def Dropout(size, ratio):  # noqa: F811
    num = int(np.round(size * (1 - ratio)))
    index = np.arange(size)
    np.random.shuffle(index)
    ym = np.zeros(size)
    ym[index[:num]] = size / num
    return ym


# --- forward_propagate_dropout -----------------------------------------------------------------------------------


@buggy("dropout_on_output", activation="sigmoid")  # masks the softmax output too
def forward_propagate_dropout(X, thetas, activate_fcn, ratio):
    z_out, a_out = [X], [X]
    for i, theta in enumerate(thetas):
        z_out.append(a_out[-1] * theta.T)
        a = softmax(z_out[-1]) if i == len(thetas) - 1 else activate_fcn(z_out[-1])
        a_out.append(np.multiply(a, Dropout(theta.shape[0], ratio)))
    return z_out, a_out


@buggy("dropout_on_input", activation="sigmoid")  # drops input pixels as well
def forward_propagate_dropout(X, thetas, activate_fcn, ratio):  # noqa: F811
    X = np.multiply(X, Dropout(X.shape[1], ratio))
    z_out, a_out = [X], [X]
    for theta in thetas:
        z_out.append(a_out[-1] * theta.T)
        a_out.append(np.multiply(activate_fcn(z_out[-1]), Dropout(theta.shape[0], ratio)))
    a_out[-1] = softmax(z_out[-1])
    return z_out, a_out


@buggy("dropout_before_activation", activation="sigmoid")  # masks z, then activates
def forward_propagate_dropout(X, thetas, activate_fcn, ratio):  # noqa: F811
    z_out, a_out = [X], [X]
    for theta in thetas:
        z_out.append(np.multiply(a_out[-1] * theta.T, Dropout(theta.shape[0], ratio)))
        a_out.append(activate_fcn(z_out[-1]))
    a_out[-1] = softmax(z_out[-1])
    return z_out, a_out


@buggy("dropout_ratio_inverted_call", activation="relu")  # passes the keep fraction to Dropout
def forward_propagate_dropout(X, thetas, activate_fcn, ratio):  # noqa: F811
    z_out, a_out = [X], [X]
    for theta in thetas:
        z_out.append(a_out[-1] * theta.T)
        a_out.append(np.multiply(activate_fcn(z_out[-1]), Dropout(theta.shape[0], 1 - ratio)))
    a_out[-1] = softmax(z_out[-1])
    return z_out, a_out


@buggy("dropout_not_called", activation="sigmoid")  # draws its own mask instead of calling Dropout
def forward_propagate_dropout(X, thetas, activate_fcn, ratio):  # noqa: F811
    z_out, a_out = [X], [X]
    for theta in thetas:
        z_out.append(a_out[-1] * theta.T)
        mask = (np.random.rand(theta.shape[0]) > ratio) / (1 - ratio)
        a_out.append(np.multiply(activate_fcn(z_out[-1]), mask))
    a_out[-1] = softmax(z_out[-1])
    return z_out, a_out


@buggy("dropout_not_applied", activation="relu")  # copied forward_propagate and forgot the mask
def forward_propagate_dropout(X, thetas, activate_fcn, ratio):  # noqa: F811
    z_out, a_out = [X], [X]
    for theta in thetas:
        z_out.append(a_out[-1] * theta.T)
        a_out.append(activate_fcn(z_out[-1]))
    a_out[-1] = softmax(z_out[-1])
    return z_out, a_out


@correct(activation="sigmoid")  # ndarrays and @, Dropout for hidden layers only
@correct(activation="relu")
def forward_propagate_dropout(X, thetas, activate_fcn, ratio):  # noqa: F811
    z_out, a_out = [X], [X]
    for i, theta in enumerate(thetas):
        z = a_out[-1] @ theta.T
        z_out.append(z)
        if i == len(thetas) - 1:
            a_out.append(softmax(z))
        else:
            a_out.append(activate_fcn(z) * Dropout(theta.shape[0], ratio))
    return z_out, a_out
