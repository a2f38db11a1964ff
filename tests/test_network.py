"""Tests for reludrop_core.network: parameters, forward propagation, the loss, backprop and predict."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import (
    examples,
    one_hot,
    ref_forward,
    ref_forward_loops,
    ref_layer_index,
    ref_loss,
    ref_relu,
    ref_sigmoid,
    ref_softmax,
    ref_unpack,
)

from reludrop_core import (
    ReLU,
    ReLU_gradient,
    backprop,
    cost_fcn,
    forward_propagate,
    handout_cost,
    init_params,
    layer_index,
    pack_params,
    predict,
    sigmoid,
    softmax,
    unpack_params,
)

SCALAR_ACTIVATIONS = {"ReLU": (ReLU, lambda v: max(v, 0.0)),
                      "sigmoid": (sigmoid, lambda v: 1.0 / (1.0 + np.exp(-v)))}


def random_network(seed, size, m):
    """Parameters uniform in [-1, 1), X normal, Y one-hot with random labels."""
    rng = np.random.default_rng(seed)
    params = rng.uniform(-1, 1, int(ref_layer_index(size)[-1]))
    X = rng.normal(size=(m, size[0]))
    Y = one_hot(rng.integers(0, size[-1], m), size[-1])
    return params, X, Y


# --- the hand-worked example -------------------------------------------------

def test_hand_worked_example():
    """On a [2, 2, 2] ReLU network with two samples, do cost and gradient match the arithmetic done by hand?"""
    size = [2, 2, 2]
    index = [4, 8]                       # 2*2 weights in layer 1, then 2*2 more in layer 2
    X = np.array([[1.0, -1.0],           # sample 0
                  [-2.0, 3.0]])          # sample 1
    Y = np.array([[1.0, 0.0],            # sample 0 is class 1
                  [0.0, 1.0]])           # sample 1 is class 2
    theta1 = np.array([[2.0, 1.0],
                       [1.0, 0.0]])
    theta2 = np.array([[2.0, -1.0],
                       [0.0, 1.0]])
    params = np.concatenate([theta1.ravel(), theta2.ravel()])   # [2, 1, 1, 0, 2, -1, 0, 1]

    # Forward, z1 = X @ theta1.T:
    #   sample 0: [2*1 + 1*(-1), 1*1 + 0*(-1)] = [1, 1]
    #   sample 1: [2*(-2) + 1*3, 1*(-2) + 0*3] = [-1, -2]
    # a1 = ReLU(z1) = [[1, 1], [0, 0]]          (sample 1's hidden nodes are both off)
    # z2 = a1 @ theta2.T:
    #   sample 0: [2*1 + (-1)*1, 0*1 + 1*1] = [1, 1]
    #   sample 1: [0, 0]
    # h = softmax(z2): equal entries in each row, so h = [[1/2, 1/2], [1/2, 1/2]]
    z_out, a_out = forward_propagate(X, [theta1, theta2], ReLU)
    np.testing.assert_array_equal(z_out[1], [[1, 1], [-1, -2]])
    np.testing.assert_array_equal(a_out[1], [[1, 1], [0, 0]])
    np.testing.assert_array_equal(z_out[2], [[1, 1], [0, 0]])
    np.testing.assert_allclose(a_out[2], np.full((2, 2), 0.5), rtol=0, atol=1e-15)

    # Loss: J = -(1/m) sum Y log h = -(1/2) (log 1/2 + log 1/2) = log 2.
    # The handout's figure sums the binary cross-entropy over all 4 outputs, each
    # -log(1/2) = log 2: (1/2) * 4 log 2 = 2 log 2.
    # Backward: output delta = (h - Y) / m = [[-1/4, 1/4], [1/4, -1/4]]
    #   dtheta2 = delta2.T @ a1:
    #     row 0: -1/4 * [1, 1] + 1/4 * [0, 0] = [-1/4, -1/4]
    #     row 1:  1/4 * [1, 1] - 1/4 * [0, 0] = [ 1/4,  1/4]
    #   error at the hidden layer = delta2 @ theta2:
    #     sample 0: [-1/4, 1/4] @ [[2, -1], [0, 1]] = [-1/2, 1/4 + 1/4] = [-1/2, 1/2]
    #     sample 1: [1/4, -1/4] @ [[2, -1], [0, 1]] = [1/2, -1/2]
    #   ReLU'(z1) = [[1, 1], [0, 0]], so delta1 = [[-1/2, 1/2], [0, 0]]
    #   dtheta1 = delta1.T @ X:
    #     row 0: -1/2 * [1, -1] = [-1/2, 1/2]
    #     row 1:  1/2 * [1, -1] = [1/2, -1/2]
    cost, grad = backprop(params, size, index, X, Y, ReLU, ReLU_gradient)
    expected_grad = [-0.5, 0.5, 0.5, -0.5, -0.25, -0.25, 0.25, 0.25]
    assert abs(cost - np.log(2)) < 1e-12
    np.testing.assert_allclose(grad, expected_grad, rtol=0, atol=1e-12)
    assert abs(cost_fcn(params, size, index, X, Y, ReLU) - np.log(2)) < 1e-12
    assert abs(handout_cost(params, size, index, X, Y, ReLU) - 2 * np.log(2)) < 1e-12


# --- forward propagation ---------------------------------------------------

@pytest.mark.parametrize("name", ["ReLU", "sigmoid"])
def test_forward_matches_loops(name):
    """Does forward_propagate's output equal a forward pass written with loops over samples and nodes?"""
    act, act_scalar = SCALAR_ACTIVATIONS[name]
    size = [6, 5, 4, 3]
    params, X, _ = random_network(0, size, 4)
    thetas = ref_unpack(params, size)
    z_out, a_out = forward_propagate(X, thetas, act)
    np.testing.assert_allclose(a_out[-1], ref_forward_loops(X, thetas, act_scalar), rtol=1e-12)


@pytest.mark.parametrize("name, ref", [("ReLU", ref_relu), ("sigmoid", ref_sigmoid), ("softmax", ref_softmax)])
def test_forward_every_layer(name, ref):
    """Are z_out and a_out L + 1 float64 arrays of shape (m, size[i]), X first, softmax last, each matching the reference?"""
    act = {"ReLU": ReLU, "sigmoid": sigmoid, "softmax": softmax}[name]
    size = [7, 6, 5, 4]
    params, X, _ = random_network(1, size, 3)
    thetas = ref_unpack(params, size)
    z_out, a_out = forward_propagate(X, thetas, act)
    z_ref, a_ref = ref_forward(X, thetas, ref)
    assert len(z_out) == len(a_out) == len(size)
    for i, width in enumerate(size):
        assert z_out[i].shape == a_out[i].shape == (3, width)
        assert type(z_out[i]) is np.ndarray and z_out[i].dtype == np.float64
        np.testing.assert_allclose(z_out[i], z_ref[i], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(a_out[i], a_ref[i], rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(z_out[0], X)
    np.testing.assert_array_equal(a_out[0], X)
    np.testing.assert_allclose(a_out[-1].sum(axis=1), 1.0, rtol=1e-14)


# --- the loss --------------------------------------------------------------

@given(st.integers(0, 2**32 - 1), st.lists(st.integers(1, 6), min_size=2, max_size=4), st.integers(1, 6),
       st.sampled_from(["ReLU", "sigmoid", "softmax"]))
@settings(max_examples=examples(40))
def test_cost_matches_reference(seed, size, m, name):
    """Is cost_fcn the categorical cross-entropy -(1/m) sum Y log h of an independent forward pass?"""
    act, ref = {"ReLU": (ReLU, ref_relu), "sigmoid": (sigmoid, ref_sigmoid), "softmax": (softmax, ref_softmax)}[name]
    params, X, Y = random_network(seed, size, m)
    index = ref_layer_index(size)
    expected = ref_loss(params, size, X, Y, ref)
    assert cost_fcn(params, size, index, X, Y, act) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_handout_cost_matches_formula():
    """Is handout_cost (1/m) sum over samples and outputs of -y log h - (1 - y) log(1 - h)?"""
    size = [5, 4, 3]
    params, X, Y = random_network(2, size, 6)
    h = ref_forward(X, ref_unpack(params, size), ref_sigmoid)[1][-1]
    expected = np.sum(-Y * np.log(h) - (1 - Y) * np.log(1 - h)) / 6     # h is far from 0 and 1 here
    got = handout_cost(params, size, ref_layer_index(size), X, Y, sigmoid)
    assert got == pytest.approx(expected, rel=1e-12)
    assert got > cost_fcn(params, size, ref_layer_index(size), X, Y, sigmoid)   # it adds the (1 - y) terms


def test_cost_is_finite_when_a_probability_underflows():
    """When the true class gets probability exp(-2000) = 0.0, are the loss and gradient still finite (log is clipped)?"""
    size = [1, 2]
    params = np.array([1000.0, -1000.0])            # z = [1000, -1000] for x = 1
    X, Y = np.array([[1.0]]), np.array([[0.0, 1.0]])   # ... and the true class is the second
    cost, grad = backprop(params, size, [2], X, Y, ReLU, ReLU_gradient)
    assert np.isfinite(cost) and cost > 100
    assert cost == cost_fcn(params, size, [2], X, Y, ReLU)
    assert np.all(np.isfinite(grad))
    np.testing.assert_allclose(grad, [1.0, -1.0])   # (h - Y) x = ([1, 0] - [0, 1]) * 1


def test_backprop_cost_is_cost_fcn():
    """Without Dropout, is the cost backprop returns exactly what cost_fcn gives?"""
    size = [25, 20, 20, 20, 5]
    params, X, Y = random_network(3, size, 5)
    index = layer_index(size)
    cost, grad = backprop(params, size, index, X, Y, ReLU, ReLU_gradient)
    assert cost == pytest.approx(cost_fcn(params, size, index, X, Y, ReLU), rel=1e-14)
    assert grad.shape == params.shape and grad.dtype == np.float64


# --- predict ---------------------------------------------------------------

def test_predict_is_argmax_plus_one():
    """Does predict return the most probable class counted from 1, as ints?"""
    size = [6, 5, 4]
    params, X, _ = random_network(4, size, 30)
    got = predict(params, size, X, sigmoid)
    h = ref_forward(X, ref_unpack(params, size), ref_sigmoid)[1][-1]
    expected = np.array([int(np.argmax(row)) + 1 for row in h])
    assert got.shape == (30,) and np.issubdtype(got.dtype, np.integer)
    np.testing.assert_array_equal(got, expected)
    assert set(got) <= {1, 2, 3, 4}


# --- parameters ------------------------------------------------------------

@given(st.lists(st.integers(1, 30), min_size=2, max_size=6))
@settings(max_examples=examples(50))
def test_layer_index(size):
    """Is layer_index the running total of size[i] * size[i+1], as integers?"""
    got = layer_index(size)
    assert np.issubdtype(got.dtype, np.integer)
    np.testing.assert_array_equal(got, ref_layer_index(size))


def test_unpack_params_row_by_row():
    """Is thetas[i][r, c] the entry start_i + r * size[i] + c of params, layer after layer?"""
    size = [3, 4, 2]
    params = np.arange(3 * 4 + 4 * 2, dtype=np.float64)
    thetas = unpack_params(params, size)
    assert [t.shape for t in thetas] == [(4, 3), (2, 4)]
    start = 0
    for i, theta in enumerate(thetas):
        rows, cols = size[i + 1], size[i]
        for r in range(rows):
            for c in range(cols):
                assert theta[r, c] == params[start + r * cols + c]
        start += rows * cols


@given(st.integers(0, 2**32 - 1), st.lists(st.integers(1, 8), min_size=2, max_size=5))
@settings(max_examples=examples(30))
def test_pack_unpack_round_trip(seed, size):
    """Does pack_params(unpack_params(p)) give p back, and unpack_params(pack_params(thetas)) the thetas?"""
    rng = np.random.default_rng(seed)
    params = rng.normal(size=int(ref_layer_index(size)[-1]))
    np.testing.assert_array_equal(pack_params(unpack_params(params, size)), params)
    thetas = [rng.normal(size=(o, i)) for i, o in zip(size[:-1], size[1:])]
    back = unpack_params(pack_params(thetas), size)
    for a, b in zip(back, thetas):
        np.testing.assert_array_equal(a, b)


def test_init_uniform_range_and_moments():
    """Are "uniform" weights in [-1, 1), filling the range, with mean about 0 and variance about 1/3?"""
    size = [60, 50, 40]
    p = init_params(size, seed=0)
    n = 60 * 50 + 50 * 40
    assert p.shape == (n,) and p.dtype == np.float64
    assert p.min() >= -1.0 and p.max() < 1.0
    assert p.min() < -0.99 and p.max() > 0.99
    assert abs(p.mean()) < 5 * np.sqrt(1 / 3 / n)
    assert abs(p.var() - 1 / 3) < 0.02


def test_init_uniform_seed_none_is_the_handouts_draw():
    """With seed=None, is init_params the handout's np.random.random(N) * 2 - 1 from numpy's global generator?"""
    size = [25, 20, 20, 20, 5]
    np.random.seed(1234)
    expected = np.random.random(size=25 * 20 + 20 * 20 + 20 * 20 + 20 * 5) * 2 - 1
    np.random.seed(1234)
    np.testing.assert_array_equal(init_params(size), expected)


@pytest.mark.parametrize("method", ["uniform", "he", "xavier"])
def test_init_seeded(method):
    """Do equal seeds give equal weights, different seeds different ones, and a Generator its int seed's draws?"""
    size = [25, 20, 5]
    a = init_params(size, seed=7, method=method)
    np.testing.assert_array_equal(a, init_params(size, seed=7, method=method))
    np.testing.assert_array_equal(a, init_params(size, seed=np.random.default_rng(7), method=method))
    assert not np.array_equal(a, init_params(size, seed=8, method=method))
    rng = np.random.default_rng(7)
    first, second = init_params(size, seed=rng, method=method), init_params(size, seed=rng, method=method)
    assert not np.array_equal(first, second)          # a Generator moves on


def test_init_he_std():
    """Is each "he" layer normal with mean 0 and standard deviation sqrt(2 / fan_in)?"""
    size = [400, 300, 200]
    thetas = unpack_params(init_params(size, seed=1, method="he"), size)
    for theta, fan_in in zip(thetas, size[:-1]):
        std = np.sqrt(2.0 / fan_in)
        n = theta.size
        assert abs(theta.mean()) < 5 * std / np.sqrt(n)
        assert abs(theta.std() / std - 1) < 5 / np.sqrt(2 * n)
        # A normal sample: about 95.4 % within two standard deviations.
        assert abs(np.mean(np.abs(theta) < 2 * std) - 0.9545) < 0.01


def test_init_xavier_bound():
    """Is each "xavier" layer uniform in [-r, r), r = sqrt(6 / (fan_in + fan_out)), filling it?"""
    size = [300, 200, 100]
    thetas = unpack_params(init_params(size, seed=2, method="xavier"), size)
    for theta, fan_in, fan_out in zip(thetas, size[:-1], size[1:]):
        r = np.sqrt(6.0 / (fan_in + fan_out))
        assert np.all(theta >= -r) and np.all(theta < r)
        assert theta.min() < -0.99 * r and theta.max() > 0.99 * r
        assert abs(theta.var() / (r * r / 3) - 1) < 0.03


def test_init_methods_differ_in_scale():
    """Do the three methods really differ (He and Xavier much smaller than uniform(-1, 1) for wide layers)?"""
    size = [400, 300, 10]
    u, he, xa = (np.std(init_params(size, seed=3, method=m)) for m in ("uniform", "he", "xavier"))
    assert he < u / 4 and xa < u / 4
