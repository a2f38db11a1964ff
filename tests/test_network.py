"""Tests for reludrop_core.network: parameters, forward propagation, the loss, backprop and predict."""

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import (
    assert_bilingual,
    centred_difference,
    contains_matrix,
    examples,
    one_hot,
    ref_cross_entropy,
    ref_forward,
    ref_forward_loops,
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
    backward_propagate,
    cost_fcn,
    cross_entropy,
    forward_propagate,
    forward_propagate_dropout,
    forward_propagate_masked,
    gains_from_forward,
    handout_cost,
    init_params,
    layer_index,
    pack_params,
    predict,
    sigmoid,
    sigmoid_gradient,
    softmax,
    softmax_gradient,
    unpack_params,
)

SCALAR_ACTIVATIONS = {"ReLU": (ReLU, lambda v: max(v, 0.0)),
                      "sigmoid": (sigmoid, lambda v: 1.0 / (1.0 + np.exp(-v)))}
#: (activation, its gradient, the tests' own activation)
ACTIVATIONS = {"ReLU": (ReLU, ReLU_gradient, ref_relu), "sigmoid": (sigmoid, sigmoid_gradient, ref_sigmoid),
               "softmax": (softmax, softmax_gradient, ref_softmax)}


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


# --- a pass with Dropout masks frozen: forward, backward, cross-entropy -------

def frozen_masks(rng, widths, ratio):
    """Dropout masks drawn by the test itself: num = round(w (1 - ratio)) kept nodes with gain w / num, per layer."""
    masks = []
    for w in widths:
        num = int(round(w * (1 - ratio)))
        mask = np.zeros(w)
        mask[rng.permutation(w)[:num]] = w / num
        masks.append(mask)
    return masks


#: A seed whose [4, 5, 4, 3] network (4 samples) has no hidden pre-activation within 1e-4 of ReLU's kink at 0,
#: with or without its masks: a centred difference across the kink measures neither of the one-sided slopes.
SEED_AWAY_FROM_THE_KINK = 13


def masked_network(seed, size, m, ratio):
    """A random network as random_network's, its thetas, and frozen masks for its hidden layers (None for ratio 0)."""
    params, X, Y = random_network(seed, size, m)
    masks = frozen_masks(np.random.default_rng(seed + 1), size[1:-1], ratio) if ratio else None
    return ref_unpack(params, size), X, Y, masks, params


def test_hand_worked_backward_with_a_mask():
    """On the hand-worked [2, 2, 2] ReLU network with hidden node 1 dropped, do the pieces give the arithmetic done by hand?"""
    X = np.array([[1.0, -1.0], [-2.0, 3.0]])
    Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    thetas = [np.array([[2.0, 1.0], [1.0, 0.0]]), np.array([[2.0, -1.0], [0.0, 1.0]])]
    masks = [np.array([2.0, 0.0])]       # keep node 0 with gain size/num = 2/1, drop node 1
    # z1 = [[1, 1], [-1, -2]] as before; a1 = ReLU(z1) * mask = [[1, 1], [0, 0]] * [2, 0] = [[2, 0], [0, 0]]
    # z2 = a1 @ theta2.T: sample 0 [2*2 + (-1)*0, 0*2 + 1*0] = [4, 0]; sample 1 [0, 0]
    # h = softmax(z2) = [[s, 1 - s], [1/2, 1/2]] with s = e^4 / (e^4 + 1) = sigmoid(4)
    z_out, a_out = forward_propagate_masked(X, thetas, ReLU, masks)
    s = 1 / (1 + np.exp(-4.0))
    np.testing.assert_array_equal(z_out[1], [[1, 1], [-1, -2]])      # z_out keeps the unmasked linear output
    np.testing.assert_array_equal(a_out[1], [[2, 0], [0, 0]])
    np.testing.assert_array_equal(z_out[2], [[4, 0], [0, 0]])
    np.testing.assert_allclose(a_out[2], [[s, 1 - s], [0.5, 0.5]], rtol=1e-15)
    # J = -(1/2) (log s + log 1/2) = (log 2 - log s) / 2
    assert cross_entropy(a_out[2], Y) == pytest.approx((np.log(2) - np.log(s)) / 2, rel=1e-14)
    # delta2 = (h - Y) / 2 = [[(s - 1)/2, (1 - s)/2], [1/4, -1/4]]
    # dtheta2 = delta2.T @ a1 = [[s - 1, 0], [1 - s, 0]]        (column 1: the dropped node sends nothing)
    # error1 = delta2 @ theta2 = [[s - 1, 1 - s], [1/2, -1/2]]; times the gains [2, 0]: [[2(s - 1), 0], [1, 0]]
    # delta1 = that * ReLU'(z1) = that * [[1, 1], [0, 0]] = [[2(s - 1), 0], [0, 0]]
    # dtheta1 = delta1.T @ X = [[2(s - 1), -2(s - 1)], [0, 0]]  (row 1: the dropped node's weights learn nothing)
    grads = backward_propagate(thetas, z_out, a_out, Y, ReLU_gradient, masks)
    np.testing.assert_allclose(grads[0], [[2 * (s - 1), -2 * (s - 1)], [0, 0]], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(grads[1], [[s - 1, 0], [1 - s, 0]], rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("per_sample", [False, True], ids=["mask per layer", "gains per sample"])
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_forward_propagate_masked_matches_reference(name, per_sample):
    """Is every layer of forward_propagate_masked the reference forward pass with the same masks, z_out unmasked?"""
    act, _, ref = ACTIVATIONS[name]
    size, m = [6, 5, 4, 3], 4
    thetas, X, _, masks, _ = masked_network(10, size, m, 0.4)
    if per_sample:
        masks = [np.tile(mk, (m, 1)) * np.random.default_rng(2).integers(0, 2, (m, 1)) for mk in masks]
    z_out, a_out = forward_propagate_masked(X, thetas, act, masks)
    z_ref, a_ref = ref_forward(X, thetas, ref, masks)
    assert len(z_out) == len(a_out) == len(size)
    for i, width in enumerate(size):
        assert z_out[i].shape == a_out[i].shape == (m, width)
        np.testing.assert_allclose(z_out[i], z_ref[i], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(a_out[i], a_ref[i], rtol=1e-12, atol=1e-15)
    for i in (1, 2):                      # the dropped nodes output exactly 0
        assert np.all(a_out[i][np.broadcast_to(masks[i - 1], (m, size[i])) == 0] == 0)


def test_forward_propagate_masked_without_masks_is_forward_propagate():
    """With masks=None (or all gains 1), is forward_propagate_masked exactly forward_propagate?"""
    size = [6, 5, 4, 3]
    params, X, _ = random_network(11, size, 5)
    thetas = ref_unpack(params, size)
    plain = forward_propagate(X, thetas, sigmoid)
    for masks in (None, [np.ones(5), np.ones(4)]):
        for got, want in zip(forward_propagate_masked(X, thetas, sigmoid, masks), plain):
            for a, b in zip(got, want):
                np.testing.assert_array_equal(a, b)


@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.integers(2, 6))
@settings(max_examples=examples(40))
def test_cross_entropy_matches_reference(seed, m, k):
    """Is cross_entropy(h, Y) the reference -(1/m) sum Y log h, and the loss cost_fcn computes from the same h?"""
    rng = np.random.default_rng(seed)
    h = ref_softmax(rng.normal(0, 3, (m, k)))
    Y = one_hot(rng.integers(0, k, m), k)
    assert cross_entropy(h, Y) == pytest.approx(ref_cross_entropy(h, Y), rel=1e-12)


def test_cross_entropy_is_finite_when_a_probability_is_zero():
    """Is the loss of a true class given probability 0.0 large but finite (log is clipped), like cost_fcn's?"""
    cost = cross_entropy(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))
    assert np.isfinite(cost) and cost > 700


@pytest.mark.parametrize("ratio", [0.0, 0.4], ids=["no Dropout", "masks frozen"])
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_backward_propagate_is_the_centred_difference_with_masks_frozen(name, ratio):
    """Is backward_propagate, layer by layer, the centred difference of the reference loss with the same masks held fixed?"""
    act, grad, ref = ACTIVATIONS[name]
    size, m = [4, 5, 4, 3], 4
    thetas, X, Y, masks, params = masked_network(SEED_AWAY_FROM_THE_KINK, size, m, ratio)
    z_out, a_out = forward_propagate_masked(X, thetas, act, masks)
    # ReLU has no derivative at 0: no hidden pre-activation of this example is near the kink.
    assert min(np.abs(z).min() for z in z_out[1:-1]) > 1e-4
    analytic = backward_propagate(thetas, z_out, a_out, Y, grad, masks)
    numeric = ref_unpack(centred_difference(lambda p: ref_loss(p, size, X, Y, ref, masks), params), size)
    for i, (a, b) in enumerate(zip(analytic, numeric)):
        assert a.shape == thetas[i].shape
        assert np.linalg.norm(b) > 1e-3          # large enough for a centred difference to resolve 1e-7
        assert ref_rel_error(a, b) < 1e-7, f"thetas[{i}]: {ref_rel_error(a, b):.2e}"


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_backward_propagate_with_the_gains_read_back_is_backprop(name):
    """Does backward_propagate through forward_propagate_dropout's pass, with the gains read back, give backprop's gradient?"""
    act, grad, _ = ACTIVATIONS[name]
    size = [25, 20, 20, 20, 5]
    params, X, Y = random_network(13, size, 5)
    index = layer_index(size)
    thetas = unpack_params(params, size)
    z_out, a_out = forward_propagate_dropout(X, thetas, act, 0.2, seed=5)      # the draws backprop makes with seed=5
    grads = backward_propagate(thetas, z_out, a_out, Y, grad, gains_from_forward(z_out, a_out, act))
    cost, expected = backprop(params, size, index, X, Y, act, grad, ratio=0.2, seed=5)
    np.testing.assert_allclose(pack_params(grads), expected, rtol=1e-12, atol=1e-15)
    plain = forward_propagate(X, thetas, act)
    np.testing.assert_allclose(pack_params(backward_propagate(thetas, *plain, Y, grad)),
                               backprop(params, size, index, X, Y, act, grad)[1], rtol=1e-12, atol=1e-15)
    assert cross_entropy(plain[1][-1], Y) == pytest.approx(cost, rel=1e-14)


def test_masked_pieces_accept_matrix_return_ndarray_and_leave_inputs_alone():
    """Do the three pieces accept np.matrix (the handout's type), return no np.matrix and leave their inputs unchanged?"""
    size, m = [5, 4, 3, 2], 3
    thetas, X, Y, masks, _ = masked_network(14, size, m, 0.25)
    z_out, a_out = forward_propagate_masked(X, thetas, sigmoid, masks)
    grads = backward_propagate(thetas, z_out, a_out, Y, sigmoid_gradient, masks)
    mat = np.asmatrix
    args = (mat(X), [mat(t) for t in thetas], [mat(mk) for mk in masks])
    before = copy.deepcopy(args)
    z_m, a_m = forward_propagate_masked(args[0], args[1], sigmoid, args[2])
    g_m = backward_propagate(args[1], [mat(z) for z in z_m], [mat(a) for a in a_m], mat(Y), sigmoid_gradient, args[2])
    c_m = cross_entropy(mat(a_m[-1]), mat(Y))
    assert not contains_matrix([z_m, a_m, g_m]) and isinstance(c_m, float)
    for got, want in zip(z_m + a_m + g_m, z_out + a_out + grads):
        assert type(got) is np.ndarray
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(args[0], before[0])
    for got, want in zip(args[1] + args[2], before[1] + before[2]):
        np.testing.assert_array_equal(got, want)
    copies = [z.copy() for z in z_out], [a.copy() for a in a_out]
    backward_propagate(thetas, z_out, a_out, Y, sigmoid_gradient, masks)
    for got, want in zip(z_out + a_out, copies[0] + copies[1]):
        np.testing.assert_array_equal(got, want)


def _bad_piece_calls():
    size, m = [5, 4, 3, 2], 6
    thetas, X, Y, masks, _ = masked_network(15, size, m, 0.25)
    z, a = forward_propagate_masked(X, thetas, ReLU, masks)
    g = ReLU_gradient
    return {
        "masks count": (ValueError, "masks must have L - 1 = 2 entries (one per hidden layer, widths [4, 3]), got 1",
                        lambda: forward_propagate_masked(X, thetas, ReLU, masks[:1])),
        "mask width": (ValueError, "masks[1] has shape (4,) but hidden layer 2 has 3 nodes: it must be (3,) or (6, 3)",
                       lambda: forward_propagate_masked(X, thetas, ReLU, [masks[0], masks[0]])),
        "masks ndarray": (TypeError, "masks must be a list with one Dropout mask",
                          lambda: forward_propagate_masked(X, thetas, ReLU, np.ones(4))),
        "mask nan": (ValueError, "masks[0] contains NaN or infinity",
                     lambda: forward_propagate_masked(X, thetas, ReLU, [np.full(4, np.nan), masks[1]])),
        "mask for the output": (ValueError, "masks must have L - 1 = 2 entries",
                                lambda: forward_propagate_masked(X, thetas, ReLU, masks + [np.ones(2)])),
        "z_out short": (ValueError, "z_out must have L + 1 = 4 entries (the input X and one per layer), got 3",
                        lambda: backward_propagate(thetas, z[:-1], a, Y, g, masks)),
        "a_out not a list": (TypeError, "a_out must be a list with one array per layer",
                             lambda: backward_propagate(thetas, z, a[-1], Y, g, masks)),
        "a_out layer shape": (ValueError, "a_out[2] has shape (6, 4) but layer 2 needs (m samples, size[2]) = (6, 3)",
                              lambda: backward_propagate(thetas, z, [a[0], a[1], a[1], a[3]], Y, g, masks)),
        "z_out rows": (ValueError, "z_out[0] has shape (5, 5) but layer 0 needs (m samples, size[0]) = (6, 5)",
                       lambda: backward_propagate(thetas, [zi[:5] for zi in z], a, Y, g, masks)),
        "thetas chain": (ValueError, "thetas[1] has shape (3, 5) but layer 2 expects (3, 4)",
                         lambda: backward_propagate([thetas[0], np.zeros((3, 5)), thetas[2]], z, a, Y, g, masks)),
        "Y not one-hot": (ValueError, "Y must be one-hot", lambda: backward_propagate(thetas, z, a, Y * 2, g, masks)),
        "Y classes": (ValueError, "Y must have shape (m samples, k classes) = (6, 2), got (6, 3)",
                      lambda: backward_propagate(thetas, z, a, np.eye(3)[[0, 1, 2, 0, 1, 2]], g, masks)),
        "gradient called": (TypeError, "activate_fcn_gradient must be a function",
                            lambda: backward_propagate(thetas, z, a, Y, g(z[1]), masks)),
        "gains width": (ValueError, "gains[0] has shape (3,) but hidden layer 1 has 4 nodes",
                        lambda: backward_propagate(thetas, z, a, Y, g, [masks[1], masks[1]])),
        "h is z": (ValueError, "h must hold probabilities", lambda: cross_entropy(z[-1] + 2, Y)),
        "h and Y": (ValueError, "Y must have shape (m samples, k classes) = (6, 2), got (5, 2)",
                    lambda: cross_entropy(a[-1], Y[:5])),
        "h 1-D": (ValueError, "h must be 2-D", lambda: cross_entropy(a[-1][0], Y[:1])),
    }


BAD_PIECE_CALLS = _bad_piece_calls()


@pytest.mark.parametrize("case", list(BAD_PIECE_CALLS))
def test_masked_pieces_explain_bad_input(case):
    """Does a bad argument to forward_propagate_masked, backward_propagate or cross_entropy raise a bilingual error saying what to fix?

    The match is a literal part of the English line.
    """
    exc, match, call = BAD_PIECE_CALLS[case]
    with pytest.raises(exc) as info:
        call()
    assert_bilingual(info)
    assert match in str(info.value).split("\n")[-1], str(info.value)


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
