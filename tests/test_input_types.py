"""Input types and side effects, for every public function.

* ``np.matrix`` (what the handout passes) is accepted wherever a 2-D array is
  (and as a (1, N) row for params and index), gives the same result as an
  ndarray, and is never returned, not even inside the lists ``z_out`` / ``a_out``.
* No function changes its inputs: X, Y, params, thetas, z, ... are the same
  after the call.
"""

import copy

import numpy as np
import pytest
from reference import contains_matrix, course_data

from reludrop_core import (
    Dropout,
    ReLU,
    ReLU_gradient,
    activation_backward,
    backprop,
    cost_fcn,
    flatten_images,
    forward_propagate,
    forward_propagate_dropout,
    gains_from_forward,
    gradient_check,
    handout_cost,
    handout_softmax_gradient,
    init_params,
    layer_errors,
    layer_index,
    load_digits,
    noisy_digits,
    numerical_gradient,
    pack_params,
    plot_costs,
    plot_digits,
    plot_masks,
    plot_predictions,
    predict,
    rel_error,
    sigmoid,
    sigmoid_gradient,
    softmax,
    softmax_gradient,
    train,
    unflatten_images,
    unpack_params,
)

SIZE = [25, 6, 4, 5]
INDEX = np.cumsum(np.array(SIZE[1:]) * np.array(SIZE[:-1]))
X, Y, LABELS = course_data()
_rng = np.random.default_rng(0)
P = _rng.uniform(-1, 1, int(INDEX[-1]))
P2 = _rng.uniform(-1, 1, int(INDEX[-1]))
Z = _rng.normal(size=(5, 4))
E = _rng.normal(size=(5, 4))
THETAS = [P[:150].reshape(6, 25), P[150:174].reshape(4, 6), P[174:].reshape(5, 4)]
Z_OUT, A_OUT = forward_propagate_dropout(X, THETAS, sigmoid, 0.25, seed=0)


def _sum_sin(v):
    return float(np.sum(np.sin(np.asarray(v))))


#: name -> (function, positional args, keyword args). Arrays in args may be turned into np.matrix.
CALLS = {
    "ReLU": (ReLU, (Z,), {}),
    "ReLU_gradient": (ReLU_gradient, (Z,), {}),
    "sigmoid": (sigmoid, (Z,), {}),
    "sigmoid_gradient": (sigmoid_gradient, (Z,), {}),
    "softmax": (softmax, (Z,), {}),
    "softmax_gradient": (softmax_gradient, (Z,), {}),
    "handout_softmax_gradient": (handout_softmax_gradient, (Z,), {}),
    "activation_backward(diagonal)": (activation_backward, (sigmoid_gradient(Z), E), {}),
    "activation_backward(jacobian)": (activation_backward, (softmax_gradient(Z), E), {}),
    "unflatten_images": (unflatten_images, (X,), {}),
    "forward_propagate": (forward_propagate, (X, THETAS, ReLU), {}),
    "cost_fcn": (cost_fcn, (P, SIZE, INDEX, X, Y, ReLU), {}),
    "handout_cost": (handout_cost, (P, SIZE, INDEX, X, Y, sigmoid), {}),
    "backprop": (backprop, (P, SIZE, INDEX, X, Y, ReLU, ReLU_gradient), {}),
    "backprop(ratio=0.2)": (backprop, (P, SIZE, INDEX, X, Y, sigmoid, sigmoid_gradient), dict(ratio=0.2, seed=1)),
    "backprop(softmax)": (backprop, (P, SIZE, INDEX, X, Y, softmax, softmax_gradient), {}),
    "pack_params": (pack_params, (THETAS,), {}),
    "unpack_params": (unpack_params, (P, SIZE), {}),
    "predict": (predict, (P, SIZE, X, ReLU), {}),
    "forward_propagate_dropout": (forward_propagate_dropout, (X, THETAS, ReLU, 0.25), dict(seed=2)),
    "gains_from_forward": (gains_from_forward, (Z_OUT, A_OUT, sigmoid), {}),
    "train": (train, (X, Y, P, SIZE, 0.1, 3, ReLU, ReLU_gradient), {}),
    "train(dropout, mini-batch)": (train, (X, Y, P, SIZE, 0.1, 3, sigmoid, sigmoid_gradient),
                                   dict(ratio=0.2, step=2, seed=3)),
    "numerical_gradient": (numerical_gradient, (_sum_sin, Z), {}),
    "rel_error": (rel_error, (Z, E), {}),
    "layer_errors": (layer_errors, (P, P2, SIZE), {}),
    "gradient_check": (gradient_check, (P, SIZE, INDEX, X, Y, ReLU, ReLU_gradient), dict(ratio=0.2, seed=4)),
}

#: Functions with no array input: only their outputs are checked.
NO_ARRAY_INPUT = {
    "load_digits": lambda: load_digits(),
    "noisy_digits": lambda: noisy_digits(2, 3, seed=0),
    "init_params": lambda: init_params(SIZE, seed=0, method="he"),
    "layer_index": lambda: layer_index(SIZE),
    "Dropout": lambda: Dropout(10, 0.3, seed=0),
}


def to_matrix(obj):
    """Every 1-D or 2-D ndarray in obj (also inside lists and tuples) as an np.matrix; 1-D ones become (1, N) rows."""
    if isinstance(obj, np.ndarray) and obj.ndim in (1, 2):
        return np.matrix(obj)
    if isinstance(obj, list):
        return [to_matrix(o) for o in obj]
    if isinstance(obj, tuple):
        return tuple(to_matrix(o) for o in obj)
    return obj


def count_matrices(obj):
    if isinstance(obj, np.matrix):
        return 1
    if isinstance(obj, (list, tuple)):
        return sum(count_matrices(o) for o in obj)
    return 0


def assert_same(a, b, path="result"):
    """Recursively equal: same structure, ndarray (not matrix) with equal values, or equal scalars."""
    assert not isinstance(b, np.matrix), f"{path} is an np.matrix"
    if isinstance(a, (list, tuple)):
        assert isinstance(b, type(a)) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, np.ndarray):
        assert type(b) is np.ndarray, f"{path} is a {type(b).__name__}"
        assert a.shape == b.shape and a.dtype == b.dtype, path
        np.testing.assert_allclose(b, a, rtol=1e-13, atol=1e-15, err_msg=path)
    else:
        assert a == pytest.approx(b, rel=1e-13), path


def assert_unchanged(before, after, path="arg"):
    if isinstance(before, (list, tuple)):
        for i, (x, y) in enumerate(zip(before, after)):
            assert_unchanged(x, y, f"{path}[{i}]")
    elif isinstance(before, np.ndarray):
        assert type(after) is type(before) and after.dtype == before.dtype, path
        np.testing.assert_array_equal(after, before, err_msg=f"{path} was changed")


@pytest.mark.parametrize("name", list(CALLS))
def test_matrix_accepted_never_returned(name):
    """Does the function accept np.matrix for its array inputs, give the ndarray result, and return no np.matrix anywhere?"""
    fn, args, kwargs = CALLS[name]
    margs = to_matrix(args)
    assert count_matrices(margs) > 0
    expected = fn(*args, **kwargs)
    got = fn(*margs, **kwargs)
    assert not contains_matrix(got)
    assert_same(expected, got)


def test_handout_style_call_with_matrices():
    """Does the handout's own calling style (int np.matrix X, np.matrix Y, uniform params) train and predict as with ndarrays?"""
    Xm, Ym = np.matrix(X.astype(int)), np.matrix(np.eye(5))
    size = [25, 20, 20, 20, 5]
    params = init_params(size, seed=0)
    p_m, cost_m = train(Xm, Ym, params, size, 0.05, 50, ReLU, ReLU_gradient)
    p_a, cost_a = train(X, Y, params, size, 0.05, 50, ReLU, ReLU_gradient)
    assert type(p_m) is np.ndarray and type(cost_m) is np.ndarray
    np.testing.assert_allclose(p_m, p_a, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(cost_m, cost_a, rtol=1e-13)
    labels = predict(p_m, size, Xm, ReLU)
    assert type(labels) is np.ndarray and labels.shape == (5,)


@pytest.mark.parametrize("name", list(NO_ARRAY_INPUT))
def test_outputs_never_matrix(name):
    """Do the functions without array inputs return plain ndarrays?"""
    out = NO_ARRAY_INPUT[name]()
    assert not contains_matrix(out)
    for a in out if isinstance(out, tuple) else (out,):
        assert type(a) is np.ndarray


@pytest.mark.parametrize("matrix", [False, True], ids=["ndarray", "matrix"])
@pytest.mark.parametrize("name", list(CALLS))
def test_inputs_not_mutated(name, matrix):
    """Are all array inputs (X, Y, params, thetas, z, ...) exactly the same after the call?"""
    fn, args, kwargs = CALLS[name]
    args = to_matrix(args) if matrix else copy.deepcopy(args)
    before = copy.deepcopy(args)
    fn(*args, **kwargs)
    assert_unchanged(before, args)


def test_plots_and_flatten_do_not_mutate():
    """Do flatten_images and the plots leave their inputs unchanged?"""
    images = np.random.default_rng(1).integers(0, 2, (3, 5, 5)).astype(float)
    args = [images, X.copy(), LABELS.copy(), np.array([1, 2, 3, 5, 5]), np.linspace(1, 0.1, 20),
            np.array([Dropout(8, 0.25, seed=s) for s in range(3)])]
    before = copy.deepcopy(args)
    flatten_images(args[0])
    plot_digits(args[1], args[2], args[3])
    plot_predictions(args[1], args[2], args[3])
    plot_costs({"run": args[4]})
    plot_masks(args[5])
    assert_unchanged(before, args)
