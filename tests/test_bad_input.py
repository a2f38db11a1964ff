"""Bad input: every public function raises ValueError or TypeError with a bilingual message that says what to fix.

Each case names the function and the argument at fault; the match is on a
distinctive part of the English line, and every message must be two lines,
Chinese first, then English.
"""

import re

import numpy as np
import pytest
from reference import assert_bilingual, course_data

from reludrop_core import (
    Dropout,
    ReLU,
    ReLU_gradient,
    backprop,
    cost_fcn,
    forward_propagate,
    forward_propagate_dropout,
    gradient_check,
    handout_cost,
    init_params,
    layer_index,
    pack_params,
    predict,
    sigmoid,
    softmax,
    train,
    unpack_params,
)

SIZE = [25, 6, 5]
INDEX = [150, 180]
N_PARAMS = 180
X, Y, _ = course_data()
P = np.random.default_rng(0).uniform(-1, 1, N_PARAMS)


def raises(exc, match, fn, *args, **kwargs):
    """Call fn and check the exception type, that `match` is found in the English line, and the bilingual form."""
    with pytest.raises(exc) as excinfo:
        fn(*args, **kwargs)
    assert_bilingual(excinfo)
    english = str(excinfo.value).split("\n")[-1]
    assert re.search(match, english), f"{match!r} not in {english!r}"


# The functions that take (params, size, index, X, Y, ...), written as calls with those five.
NETWORK_CALLS = {
    "cost_fcn": lambda p, s, i, x, y: cost_fcn(p, s, i, x, y, ReLU),
    "handout_cost": lambda p, s, i, x, y: handout_cost(p, s, i, x, y, ReLU),
    "backprop": lambda p, s, i, x, y: backprop(p, s, i, x, y, ReLU, ReLU_gradient),
    "backprop(ratio=0.2)": lambda p, s, i, x, y: backprop(p, s, i, x, y, ReLU, ReLU_gradient, ratio=0.2, seed=0),
    "gradient_check": lambda p, s, i, x, y: gradient_check(p, s, i, x, y, ReLU, ReLU_gradient),
    "train": lambda p, s, i, x, y: train(x, y, p, s, 0.1, 2, ReLU, ReLU_gradient),   # train derives index itself
}
WITH_INDEX = [name for name in NETWORK_CALLS if name != "train"]


# --- thetas ----------------------------------------------------------------

def thetas_ok():
    return [np.zeros((6, 25)), np.zeros((6, 6)), np.zeros((5, 6))]


@pytest.mark.parametrize("fn", [
    lambda t: forward_propagate(X, t, ReLU),
    lambda t: forward_propagate_dropout(X, t, ReLU, 0.2, seed=0),
], ids=["forward_propagate", "forward_propagate_dropout"])
def test_thetas_wrong_shape_names_layer_and_expected_shape(fn):
    """Does a weight matrix that does not chain name its layer and the expected shape size[i+1] x size[i]?"""
    t = thetas_ok()
    t[1] = np.zeros((6, 7))
    raises(ValueError, re.escape("thetas[1] has shape (6, 7) but layer 2 expects (6, 6): size[2] x size[1]"), fn, t)
    t = thetas_ok()
    t[0] = np.zeros((6, 24))
    raises(ValueError, re.escape("thetas[0] has shape (6, 24) but layer 1 expects (6, 25): size[1] x size[0]"), fn, t)
    t = thetas_ok()
    t[2] = np.zeros((5, 4))
    raises(ValueError, re.escape("thetas[2] has shape (5, 4) but layer 3 expects (5, 6)"), fn, t)


def test_pack_params_thetas_that_do_not_chain():
    """Does pack_params reject weight matrices that do not chain, naming the layer?"""
    raises(ValueError, re.escape("thetas[1] has shape (5, 7) but layer 2 expects (5, 6)"),
           pack_params, [np.zeros((6, 25)), np.zeros((5, 7))])


@pytest.mark.parametrize("thetas", [np.zeros((6, 25)), [], None, 3.0], ids=["ndarray", "empty", "None", "float"])
def test_thetas_not_a_list(thetas):
    """Is thetas that is not a non-empty list of matrices a TypeError explaining the list?"""
    raises(TypeError, "thetas must be a list with one weight matrix per layer", forward_propagate, X, thetas, ReLU)


def test_thetas_entry_not_2d():
    """Is a 1-D weight entry rejected as not 2-D, and a non-numeric one as not numeric?"""
    raises(ValueError, re.escape("thetas[1] must be 2-D"), forward_propagate, X, [np.zeros((6, 25)), np.zeros(6)], ReLU)
    raises(TypeError, re.escape("thetas[0] must be a numeric array"), forward_propagate, X, ["abc"], ReLU)


def test_pack_params_entry_not_2d():
    """Does pack_params reject a 1-D weight entry with the same ValueError as forward_propagate (not an IndexError)?"""
    raises(ValueError, re.escape("thetas[0] must be 2-D"), pack_params, [np.zeros(6)])


def test_pack_params_single_ndarray():
    """Does pack_params reject one 2-D ndarray (instead of a list of them) with the TypeError explaining the list?"""
    raises(TypeError, "thetas must be a list with one weight matrix per layer", pack_params, np.zeros((6, 25)))


# --- params, index, size -----------------------------------------------------

@pytest.mark.parametrize("name", list(NETWORK_CALLS))
@pytest.mark.parametrize("n", [0, 10, 179, 181])
def test_params_length_must_match_size(name, n):
    """Is a params vector of the wrong length rejected, with the count size needs spelled out?"""
    raises(ValueError, re.escape(f"params has {n} entries but size=[25, 6, 5] needs 6x25 + 5x6 = 180"),
           NETWORK_CALLS[name], np.zeros(n), SIZE, INDEX, X, Y)


@pytest.mark.parametrize("fn", [lambda p: unpack_params(p, SIZE), lambda p: predict(p, SIZE, X, ReLU)],
                         ids=["unpack_params", "predict"])
def test_params_length_other_functions(fn):
    """Do unpack_params and predict also reject params whose length does not match size?"""
    raises(ValueError, re.escape("params has 100 entries but size=[25, 6, 5] needs"), fn, np.zeros(100))


@pytest.mark.parametrize("name", list(NETWORK_CALLS))
def test_params_not_finite(name):
    """Are NaN or infinite params rejected, hinting that alpha may be too large?"""
    for bad in (np.nan, np.inf):
        p = P.copy()
        p[3] = bad
        raises(ValueError, "params contains NaN or infinity: the learning rate alpha may be too large",
               NETWORK_CALLS[name], p, SIZE, INDEX, X, Y)


def test_params_not_numeric():
    """Is a non-numeric params a TypeError that says it must be a numeric array?"""
    raises(TypeError, "params must be a numeric array", cost_fcn, "abc", SIZE, INDEX, X, Y, ReLU)


@pytest.mark.parametrize("name", WITH_INDEX)
@pytest.mark.parametrize("index", [[150, 181], [180], [150, 180, 200], [6, 5]])
def test_index_inconsistent_with_size(name, index):
    """Is an index that is not cumsum(size[1:] * size[:-1]) rejected, with the right index in the message?"""
    raises(ValueError, re.escape("index does not match size: for size=[25, 6, 5] it must be "
                                 "np.cumsum(size[1:] * size[:-1]) = [150, 180]"),
           NETWORK_CALLS[name], P, SIZE, index, X, Y)


@pytest.mark.parametrize("size", [[25], [25, 0, 5], [25.0, 6.0, 5.0], [[25, 6, 5]], 25, [25, -6, 5]])
@pytest.mark.parametrize("fn", [layer_index, lambda s: init_params(s, seed=0), lambda s: unpack_params(P, s),
                                lambda s: cost_fcn(P, s, INDEX, X, Y, ReLU)],
                         ids=["layer_index", "init_params", "unpack_params", "cost_fcn"])
def test_size_not_a_list_of_widths(fn, size):
    """Is a size that is not a list of at least two positive integer widths rejected?"""
    raises(ValueError, "size must list the layer widths as integers", fn, size)


# --- X and Y ---------------------------------------------------------------

X_CALLS = {
    **NETWORK_CALLS,
    "predict": lambda p, s, i, x, y: predict(p, s, x, ReLU),
    "forward_propagate": lambda p, s, i, x, y: forward_propagate(x, unpack_params(p, s), ReLU),
    "forward_propagate_dropout": lambda p, s, i, x, y: forward_propagate_dropout(x, unpack_params(p, s), ReLU, 0.2),
}


@pytest.mark.parametrize("name", list(X_CALLS))
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_X_not_finite(name, bad):
    """Is an X containing NaN or infinity rejected before any computation?"""
    Xb = X.copy()
    Xb[2, 7] = bad
    raises(ValueError, "X contains NaN or infinity; check the data first", X_CALLS[name], P, SIZE, INDEX, Xb, Y)


@pytest.mark.parametrize("name", list(X_CALLS))
def test_X_not_2d(name):
    """Is a single sample given as a 1-D X rejected, with the hint to reshape it?"""
    raises(ValueError, re.escape("X must be 2-D with shape (m samples, features), but has shape (25,); "
                                 "reshape a single sample with x.reshape(1, -1)"),
           X_CALLS[name], P, SIZE, INDEX, X[0], Y[:1])


@pytest.mark.parametrize("name", list(NETWORK_CALLS) + ["predict"])
def test_X_columns_must_equal_size0(name):
    """Is an X whose number of columns is not size[0] rejected with a message about X and size[0]?"""
    raises(ValueError, re.escape("X has 24 features per row but size[0] = 25: the input layer must match"),
           X_CALLS[name], P, SIZE, INDEX, X[:, :24], Y)


@pytest.mark.parametrize("name", list(NETWORK_CALLS))
@pytest.mark.parametrize("row", [[1, 1, 0, 0, 0], [0.5, 0.5, 0, 0, 0], [0, 0, 0, 0, 0], [0, 2, 0, 0, -1]])
def test_Y_not_one_hot(name, row):
    """Is a Y row that is not one-hot rejected, naming the row and how to build Y?"""
    Yb = np.eye(5)
    Yb[3] = row
    raises(ValueError, re.escape("Y must be one-hot (exactly one 1 per row, zeros elsewhere), but row 3 is ")
           + r".*" + re.escape("build it with np.eye(k)[labels - 1]"),
           NETWORK_CALLS[name], P, SIZE, INDEX, X, Yb)


@pytest.mark.parametrize("name", list(NETWORK_CALLS))
def test_Y_wrong_shape(name):
    """Is a Y of the wrong shape rejected with the expected (m, k)?"""
    raises(ValueError, re.escape("Y must have shape (m samples, k classes) = (5, 5), got (5, 4)"),
           NETWORK_CALLS[name], P, SIZE, INDEX, X, np.eye(5)[:, :4])
    raises(ValueError, re.escape("Y must have shape (m samples, k classes) = (5, 5), got (4, 5)"),
           NETWORK_CALLS[name], P, SIZE, INDEX, X, np.eye(5)[:4])


def test_Y_labels_instead_of_one_hot():
    """Is a vector of labels (1..5) instead of one-hot rows rejected as not 2-D?"""
    raises(ValueError, "Y must be 2-D", cost_fcn, P, SIZE, INDEX, X, np.arange(1, 6), ReLU)


# --- ratio -----------------------------------------------------------------

RATIO_CALLS = {
    "backprop": lambda r, s: backprop(init_params(s, seed=0), s, layer_index(s), X, Y, ReLU, ReLU_gradient,
                                      ratio=r, seed=0),
    "train": lambda r, s: train(X, Y, init_params(s, seed=0), s, 0.1, 2, ReLU, ReLU_gradient, ratio=r, seed=0),
    "gradient_check": lambda r, s: gradient_check(init_params(s, seed=0), s, layer_index(s), X, Y, ReLU, ReLU_gradient,
                                                  ratio=r, seed=0),
    "forward_propagate_dropout": lambda r, s: forward_propagate_dropout(X, unpack_params(init_params(s, seed=0), s),
                                                                       ReLU, r, seed=0),
    "Dropout": lambda r, s: Dropout(s[1], r, seed=0),
}


@pytest.mark.parametrize("name", list(RATIO_CALLS))
@pytest.mark.parametrize("ratio", [-0.1, 1.0, 1.5, np.nan, np.inf])
def test_ratio_outside_0_1(name, ratio):
    """Is a ratio outside [0, 1) rejected, with the reminder that it is the fraction dropped?"""
    raises(ValueError, re.escape("ratio is the fraction of nodes dropped and must lie in [0, 1), got ")
           + r".*if you meant the fraction kept, p, pass 1 - p", RATIO_CALLS[name], ratio, SIZE)


@pytest.mark.parametrize("name", list(RATIO_CALLS))
def test_ratio_so_large_a_layer_keeps_nothing(name):
    """Is a ratio that leaves a hidden layer with no node (2 nodes, ratio 0.8) rejected, naming the layer width?"""
    raises(ValueError, re.escape("ratio=0.8 is too large: a layer of 2 nodes keeps round(2 * (1 - ratio)) = 0 nodes"),
           RATIO_CALLS[name], 0.8, [25, 2, 5])


@pytest.mark.parametrize("name", list(RATIO_CALLS))
@pytest.mark.parametrize("ratio", ["0.2", None, True, [0.2]])
def test_ratio_not_a_number(name, ratio):
    """Is a ratio that is not a real number (a string, None, a bool, a list) a TypeError?"""
    raises(TypeError, re.escape("ratio (the fraction of hidden nodes dropped) must be a real number"),
           RATIO_CALLS[name], ratio, SIZE)


# --- train's own arguments -------------------------------------------------

def train_with(**kwargs):
    args = dict(alpha=0.1, iters=2, step=-1)
    args.update(kwargs)
    return train(X, Y, P, SIZE, args["alpha"], args["iters"], ReLU, ReLU_gradient, step=args["step"])


@pytest.mark.parametrize("alpha", [0, 0.0, -0.1, np.nan, np.inf, True, "0.1", None])
def test_alpha_must_be_positive(alpha):
    """Is a learning rate that is not a positive finite number rejected?"""
    raises(ValueError, "the learning rate alpha must be a positive number", train_with, alpha=alpha)


@pytest.mark.parametrize("iters", [0, -1, 1.5, 2.0, True, "10", None])
def test_iters_must_be_a_positive_integer(iters):
    """Is a number of epochs that is not a positive integer rejected?"""
    raises(ValueError, re.escape("iters (the number of epochs) must be a positive integer"), train_with, iters=iters)


@pytest.mark.parametrize("step", [0, 6, -2, 2.5, 2.0, True, "2", None])
def test_step_must_be_in_1_to_m(step):
    """Is a mini-batch size outside 1..m (other than -1) rejected, naming m?"""
    raises(ValueError, re.escape("step (the mini-batch size) must lie in 1..m = 5, or be -1 for the full batch"),
           train_with, step=step)


# --- activations, seeds, init ----------------------------------------------------

def test_activation_not_callable():
    """Is passing ReLU(z) (an array) instead of ReLU a TypeError saying so, for the activation and its gradient?"""
    raises(TypeError, "activate_fcn must be a function", forward_propagate, X, unpack_params(P, SIZE), ReLU(X))
    raises(TypeError, "activate_fcn must be a function", cost_fcn, P, SIZE, INDEX, X, Y, "ReLU")
    raises(TypeError, "activate_fcn_gradient must be a function",
           backprop, P, SIZE, INDEX, X, Y, ReLU, ReLU_gradient(X))
    raises(TypeError, "activate_fcn_gradient must be a function", train, X, Y, P, SIZE, 0.1, 1, ReLU, None)


@pytest.mark.parametrize("seed", ["0", 1.5, True, [0]])
@pytest.mark.parametrize("fn", [
    lambda s: init_params(SIZE, seed=s),
    lambda s: Dropout(5, 0.2, seed=s),
    lambda s: backprop(P, SIZE, INDEX, X, Y, ReLU, ReLU_gradient, ratio=0.2, seed=s),
    lambda s: train(X, Y, P, SIZE, 0.1, 1, ReLU, ReLU_gradient, ratio=0.2, seed=s),
    lambda s: forward_propagate_dropout(X, unpack_params(P, SIZE), ReLU, 0.2, seed=s),
], ids=["init_params", "Dropout", "backprop", "train", "forward_propagate_dropout"])
def test_seed_of_wrong_type(fn, seed):
    """Is a seed that is not an int, a Generator or None a TypeError listing those?"""
    raises(TypeError, re.escape("seed must be an int, an np.random.Generator or None"), fn, seed)


@pytest.mark.parametrize("method", ["normal", "He", "", None])
def test_init_params_unknown_method(method):
    """Is an unknown initialisation method rejected, listing the valid ones?"""
    raises(ValueError, re.escape("method must be one of ('uniform', 'he', 'xavier'), got"),
           init_params, SIZE, seed=0, method=method)


@pytest.mark.parametrize("size", [0, -1, 2.5, True, "5", None])
def test_dropout_size_must_be_positive_integer(size):
    """Is a Dropout layer size that is not a positive integer rejected?"""
    raises(ValueError, "size is the number of nodes in the layer and must be a positive integer", Dropout, size, 0.2)


@pytest.mark.parametrize("fn", [ReLU, sigmoid, softmax])
def test_activation_of_non_numbers(fn):
    """Is a non-numeric z a TypeError saying it must be a numeric array?"""
    raises(TypeError, "z must be a numeric array", fn, "abc")


def test_softmax_needs_rows():
    """Is a 1-D z rejected by softmax, with the reshape hint?"""
    raises(ValueError, re.escape("z must be 2-D"), softmax, np.zeros(5))
