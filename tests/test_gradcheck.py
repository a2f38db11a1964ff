"""Gradient checks: backprop against centred differences, and tests of reludrop_core.gradcheck itself.

The centred differences here are the tests' own (``reference.centred_difference``
of ``reference.ref_loss``), not ``reludrop_core.numerical_gradient``; the Dropout
masks are drawn by the test from a copy of the Generator that backprop uses,
then held fixed in the reference loss.
"""

import copy

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from reference import (
    centred_difference,
    course_data,
    examples,
    layer_blocks,
    one_hot,
    ref_forward,
    ref_layer_index,
    ref_loss,
    ref_rel_error,
    ref_relu,
    ref_sigmoid,
    ref_softmax,
    ref_unpack,
)

from reludrop_core import (
    ReLU,
    ReLU_gradient,
    backprop,
    gradient_check,
    handout_softmax_gradient,
    init_params,
    layer_errors,
    numerical_gradient,
    rel_error,
    sigmoid,
    sigmoid_gradient,
    softmax,
    softmax_gradient,
    train,
)
from reludrop_core.dropout import _dropout

#: (activation, its gradient, the tests' own activation for the reference loss)
ACTIVATIONS = {
    "ReLU": (ReLU, ReLU_gradient, ref_relu),
    "sigmoid": (sigmoid, sigmoid_gradient, ref_sigmoid),
    "softmax": (softmax, softmax_gradient, ref_softmax),
}

TOL = 1e-7          # relative error of every layer's gradient

#: ReLU has no derivative at z = 0. A centred difference that straddles the kink
#: measures the average of the two one-sided slopes, not backprop's 0 or 1, so
#: examples with a hidden pre-activation within 1e-4 of 0 are excluded (the
#: finite-difference step h = 1e-5 moves any z by less than 1e-4 in these
#: networks: inputs and weights in [-1, 1), at most 4 inputs and 5 nodes a
#: layer, Dropout gains at most 5/3).
KINK = 1e-4

#: A float64 centred difference with h = 1e-5 is off by roughly 1e-11 per entry
#: (rounding, eps * J / h, plus truncation, h^2 * f''' / 6). A layer whose whole
#: gradient is smaller than 1e-3 in norm cannot be resolved to a relative error
#: of 1e-7 that way, whatever backprop does, so such examples are excluded too.
#: A layer whose centred difference is exactly 0 (e.g. behind dead ReLUs) is
#: kept: backprop must then give exactly 0 as well.
FLOOR = 1e-3


@st.composite
def small_networks(draw, min_hidden_layers=0):
    """A random small network: size (1-3 weight layers, widths up to 5, k >= 2), m samples, data seed."""
    hidden = draw(st.lists(st.integers(1, 5), min_size=min_hidden_layers, max_size=2))
    size = [draw(st.integers(1, 4)), *hidden, draw(st.integers(2, 4))]
    m = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    params = rng.uniform(-1, 1, int(ref_layer_index(size)[-1]))
    X = rng.uniform(-1, 1, (m, size[0]))
    Y = one_hot(rng.integers(0, size[-1], m), size[-1])
    return size, params, X, Y


def assert_layers_close(analytic, numeric, size):
    """Every layer's block of the two flat gradients agrees to a relative error below TOL."""
    errors = [ref_rel_error(a, n) for a, n in zip(layer_blocks(analytic, size), layer_blocks(numeric, size))]
    assert max(errors) < TOL, f"relative error per layer: {errors}"
    return errors


def resolvable(numeric, size):
    """True when every layer's centred-difference gradient is exactly 0 or at least FLOOR in norm."""
    norms = [np.linalg.norm(block) for block in layer_blocks(numeric, size)]
    return all(n == 0 or n >= FLOOR for n in norms)


def away_from_relu_kink(name, X, params, size, masks=None):
    if name != "ReLU":
        return True
    z_out = ref_forward(X, ref_unpack(params, size), ref_relu, masks)[0]
    return all(np.min(np.abs(z)) >= KINK for z in z_out[1:-1])


@pytest.mark.parametrize("name", ["ReLU", "sigmoid", "softmax"])
@given(net=small_networks())
@settings(max_examples=examples(300))
def test_backprop_gradient_check(name, net):
    """Does backprop's gradient match centred differences of the loss, every layer to 1e-7, for random small networks?"""
    size, params, X, Y = net
    act, act_grad, ref_act = ACTIVATIONS[name]
    assume(away_from_relu_kink(name, X, params, size))
    numeric = centred_difference(lambda p: ref_loss(p, size, X, Y, ref_act), params)
    assume(resolvable(numeric, size))
    cost, grad = backprop(params, size, ref_layer_index(size), X, Y, act, act_grad)
    assert_layers_close(grad, numeric, size)
    assert cost == pytest.approx(ref_loss(params, size, X, Y, ref_act), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name", ["ReLU", "sigmoid", "softmax"])
@given(net=small_networks(min_hidden_layers=1), ratio=st.floats(0.1, 0.45),
       mask_seed=st.integers(0, 2**32 - 1))
@settings(max_examples=examples(300))
def test_backprop_gradient_check_with_dropout(name, net, ratio, mask_seed):
    """With Dropout masks held fixed, does backprop match centred differences of the masked loss, every layer to 1e-7?"""
    size, params, X, Y = net
    act, act_grad, ref_act = ACTIVATIONS[name]
    rng = np.random.default_rng(mask_seed)
    replay = copy.deepcopy(rng)                      # the masks backprop is about to draw
    masks = [_dropout(w, ratio, replay) for w in size[1:-1]]
    assume(away_from_relu_kink(name, X, params, size, masks))
    numeric = centred_difference(lambda p: ref_loss(p, size, X, Y, ref_act, masks), params)
    assume(resolvable(numeric, size))
    cost, grad = backprop(params, size, ref_layer_index(size), X, Y, act, act_grad, ratio=ratio, seed=rng)
    assert_layers_close(grad, numeric, size)
    # The cost reported is the loss without Dropout.
    assert cost == pytest.approx(ref_loss(params, size, X, Y, ref_act), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name, size, ratio", [
    ("ReLU", [25, 20, 20, 20, 5], 0.0),
    ("ReLU", [25, 20, 20, 20, 5], 0.2),
    ("sigmoid", [25, 20, 20, 20, 5], 0.0),
    ("sigmoid", [25, 20, 20, 20, 5], 0.2),
    ("softmax", [25, 50, 5], 0.0),
    ("softmax", [25, 50, 5], 0.2),
])
def test_gradient_check_course_networks(name, size, ratio):
    """On the course's networks and data, does gradient_check report every layer below 1e-7, agreeing with our own check?"""
    act, act_grad, ref_act = ACTIVATIONS[name]
    X, Y, _ = course_data()
    params = init_params(size, seed=0)
    index = ref_layer_index(size)
    errors = gradient_check(params, size, index, X, Y, act, act_grad, ratio=ratio, seed=1)
    assert errors.shape == (len(size) - 1,)
    assert np.all(errors < TOL), errors
    # Our own check with the same masks (drawn from a copy of seed 1's Generator).
    rng = np.random.default_rng(1)
    replay = copy.deepcopy(rng)
    masks = [_dropout(w, ratio, replay) for w in size[1:-1]] if ratio > 0 else None
    _, grad = backprop(params, size, index, X, Y, act, act_grad, ratio=ratio, seed=rng)
    numeric = centred_difference(lambda p: ref_loss(p, size, X, Y, ref_act, masks), params)
    assert_layers_close(grad, numeric, size)


# --- the handout's softmax gradient ----------------------------------------------

def test_handout_softmax_gradient_fails_the_check():
    """On the course's [25, 50, 5] softmax network, does the handout's diagonal gradient fail the check, the Jacobian pass?"""
    size = [25, 50, 5]
    X, Y, _ = course_data()
    index = ref_layer_index(size)
    params = init_params(size, seed=0)            # the softmax experiment's starting point
    wrong = gradient_check(params, size, index, X, Y, softmax, handout_softmax_gradient)
    right = gradient_check(params, size, index, X, Y, softmax, softmax_gradient)
    # Layer 1 (input -> hidden) is wrong by a large fraction; the output layer, which
    # does not go through the hidden activation's gradient, is still right.
    assert 0.1 < wrong[0] < 1.0, wrong
    assert wrong[1] < TOL
    assert np.all(right < TOL), right
    # The same verdict from our own centred differences.
    numeric = centred_difference(lambda p: ref_loss(p, size, X, Y, ref_softmax), params)
    _, g_wrong = backprop(params, size, index, X, Y, softmax, handout_softmax_gradient)
    first = slice(0, 50 * 25)
    assert ref_rel_error(g_wrong[first], numeric[first]) > 0.1


def test_handout_softmax_gradient_fails_after_training():
    """After 1000 epochs of training, is the handout's softmax gradient still far off (error above 0.1)?"""
    size = [25, 50, 5]
    X, Y, _ = course_data()
    index = ref_layer_index(size)
    params, _ = train(X, Y, init_params(size, seed=0), size, 0.05, 1000, softmax, softmax_gradient)
    wrong = gradient_check(params, size, index, X, Y, softmax, handout_softmax_gradient)
    assert wrong[0] > 0.1, wrong
    assert np.all(gradient_check(params, size, index, X, Y, softmax, softmax_gradient) < TOL)


def test_gradient_check_flags_a_wrong_gradient():
    """Does gradient_check report a large error when the activation and its gradient do not belong together?"""
    size = [25, 20, 20, 5]
    X, Y, _ = course_data()
    errors = gradient_check(init_params(size, seed=3), size, ref_layer_index(size), X, Y, sigmoid, ReLU_gradient)
    assert np.all(errors[:-1] > 0.1), errors
    assert errors[-1] < TOL


def test_gradient_check_does_not_change_params():
    """Does gradient_check leave the caller's params as they were (it nudges a copy)?"""
    size = [25, 20, 5]
    X, Y, _ = course_data()
    params = init_params(size, seed=4)
    before = params.copy()
    gradient_check(params, size, ref_layer_index(size), X, Y, ReLU, ReLU_gradient, ratio=0.2, seed=0)
    np.testing.assert_array_equal(params, before)


# --- numerical_gradient, rel_error, layer_errors --------------------------------------

def test_numerical_gradient_of_known_function():
    """Does numerical_gradient match the analytic gradient of sum(w * sin(x)) + (x . x)^2 to 1e-9, for a 2-D x?"""
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))

    def f(v):
        return float(np.sum(w * np.sin(v)) + np.sum(v * v) ** 2)

    exact = w * np.cos(x) + 4 * np.sum(x * x) * x
    before = x.copy()
    got = numerical_gradient(f, x)
    assert got.shape == x.shape
    assert ref_rel_error(got, exact) < 1e-9
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_is_centred():
    """Is numerical_gradient exact (to rounding) for a quadratic, as a centred difference must be?"""
    x = np.array([0.3, -1.2, 2.0])
    got = numerical_gradient(lambda v: float(3 * v[0] ** 2 - v[1] ** 2 + 5 * v[2]), x)
    # A one-sided difference would be off by h * f'' = 3e-5 in the first entry.
    np.testing.assert_allclose(got, [1.8, 2.4, 5.0], rtol=0, atol=1e-9)


def test_rel_error_properties():
    """Is rel_error 0 for equal arrays and for two zero arrays, 1 for opposite ones, symmetric, and the norm formula?"""
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=7), rng.normal(size=7)
    assert rel_error(a, a) == 0.0
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error(a, -a) == pytest.approx(1.0)
    assert rel_error(a, b) == pytest.approx(rel_error(b, a))
    assert rel_error(a, b) == pytest.approx(ref_rel_error(a, b), rel=1e-14)
    assert 0.0 <= rel_error(a, b) <= 1.0


def test_layer_errors_are_per_layer():
    """Does layer_errors give rel_error of each layer's block, and localise a change to its layer?"""
    size = [4, 3, 2]
    rng = np.random.default_rng(2)
    a = rng.normal(size=4 * 3 + 3 * 2)
    b = a.copy()
    b[-1] += 0.5                                       # only the last layer differs
    errors = layer_errors(a, b, size)
    assert errors.shape == (2,)
    assert errors[0] == 0.0 and errors[1] > 0
    c = rng.normal(size=a.size)
    expected = [ref_rel_error(x, y) for x, y in zip(layer_blocks(a, size), layer_blocks(c, size))]
    np.testing.assert_allclose(layer_errors(a, c, size), expected, rtol=1e-14)
