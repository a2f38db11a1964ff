"""Tests for reludrop_core.dropout: the masks, the forward pass with Dropout, and reading the masks back."""

import copy

import numpy as np
import pytest
from reference import one_hot, ref_forward, ref_layer_index, ref_relu, ref_sigmoid, ref_softmax, ref_unpack

from reludrop_core import (
    Dropout,
    ReLU,
    ReLU_gradient,
    backprop,
    cost_fcn,
    forward_propagate,
    forward_propagate_dropout,
    forward_propagate_masked,
    gains_from_forward,
    sigmoid,
    sigmoid_gradient,
)


def handout_dropout(size, ratio):
    """The handout's Dropout, verbatim apart from layout: draws from numpy's global generator."""
    num = np.round(size * (1 - ratio))
    index = np.random.permutation(size)[:int(num)]
    ym = np.zeros(size)
    ym[index] = size / num
    return ym


def network(seed, size, m):
    rng = np.random.default_rng(seed)
    thetas = [rng.uniform(-1, 1, (o, i)) for i, o in zip(size[:-1], size[1:])]
    X = rng.normal(size=(m, size[0]))
    return thetas, X


VALID = [(w, r) for w in (1, 2, 3, 4, 5, 7, 10, 13, 20, 25, 50) for r in (0.0, 0.1, 0.2, 0.25, 0.5, 0.75, 0.9)
         if round(w * (1 - r)) >= 1]


@pytest.mark.parametrize("width, ratio", VALID)
def test_mask_keeps_round_size_times_one_minus_ratio(width, ratio):
    """Does a mask keep exactly round(size * (1 - ratio)) nodes, each with gain size / num, the rest 0, summing to size?"""
    mask = Dropout(width, ratio, seed=width)
    num = round(width * (1 - ratio))
    assert mask.shape == (width,) and mask.dtype == np.float64
    assert np.count_nonzero(mask) == num
    np.testing.assert_allclose(mask[mask != 0], width / num, rtol=1e-15)
    assert mask.sum() == pytest.approx(width, rel=1e-13)


def test_ratio_zero_keeps_everything():
    """With ratio 0, is every node kept with gain exactly 1?"""
    for width in (1, 5, 20):
        np.testing.assert_array_equal(Dropout(width, 0.0, seed=1), np.ones(width))


def test_fresh_mask_each_call():
    """Does each call draw a new mask (from a Generator and from the global generator)?"""
    rng = np.random.default_rng(0)
    masks = [Dropout(20, 0.5, seed=rng) for _ in range(5)]
    assert len({tuple(m) for m in masks}) == 5
    np.random.seed(0)
    masks = [Dropout(20, 0.5) for _ in range(5)]
    assert len({tuple(m) for m in masks}) == 5


def test_each_node_kept_with_frequency_num_over_size():
    """Over 20000 masks, is each node kept with frequency num / size = 1 - ratio (within a 5-sigma binomial bound)?"""
    width, ratio, draws = 10, 0.3, 20000
    rng = np.random.default_rng(1)
    kept = np.array([Dropout(width, ratio, seed=rng) != 0 for _ in range(draws)])
    p = round(width * (1 - ratio)) / width        # 7 / 10 = 1 - ratio exactly here
    assert p == pytest.approx(1 - ratio)
    assert np.all(np.abs(kept.mean(axis=0) - p) < 5 * np.sqrt(p * (1 - p) / draws))


def test_dropout_seeded():
    """Do equal int seeds give equal masks, and does seed=None reproduce the handout's draw after np.random.seed?"""
    np.testing.assert_array_equal(Dropout(30, 0.2, seed=5), Dropout(30, 0.2, seed=5))
    assert not np.array_equal(Dropout(30, 0.5, seed=5), Dropout(30, 0.5, seed=6))
    np.random.seed(11)
    expected = [handout_dropout(20, 0.2) for _ in range(3)]
    np.random.seed(11)
    got = [Dropout(20, 0.2) for _ in range(3)]
    np.testing.assert_array_equal(got, expected)


# --- forward propagation with Dropout ----------------------------------------

def test_forward_dropout_one_mask_per_hidden_layer():
    """Does forward_propagate_dropout apply one valid mask per hidden layer, the same for all rows, and nothing else?"""
    size, ratio, m = [6, 10, 8, 4], 0.3, 7
    thetas, X = network(0, size, m)
    z_out, a_out = forward_propagate_dropout(X, thetas, sigmoid, ratio, seed=3)
    masks = []
    for i in (1, 2):
        per_row = a_out[i] / ref_sigmoid(z_out[i])        # sigmoid is never 0: the gain of every node
        mask = per_row[0]
        np.testing.assert_allclose(per_row, np.broadcast_to(mask, per_row.shape), rtol=1e-14)
        num = round(size[i] * (1 - ratio))
        np.testing.assert_allclose(np.sort(mask), [0.0] * (size[i] - num) + [size[i] / num] * num,
                                   rtol=1e-14, atol=1e-15)
        masks.append(np.where(mask > 0, size[i] / num, 0.0))
    # The whole pass is the plain forward pass with these masks held fixed.
    z_ref, a_ref = ref_forward(X, thetas, ref_sigmoid, masks)
    for z, a, zr, ar in zip(z_out, a_out, z_ref, a_ref):
        np.testing.assert_allclose(z, zr, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(a, ar, rtol=1e-12, atol=1e-14)


def test_forward_dropout_never_drops_input_or_output():
    """Are the input X and the softmax output untouched by Dropout, even at a high ratio?"""
    size = [6, 10, 5]
    thetas, X = network(1, size, 4)
    z_out, a_out = forward_propagate_dropout(X, thetas, ReLU, 0.8, seed=0)
    np.testing.assert_array_equal(a_out[0], X)
    np.testing.assert_array_equal(z_out[0], X)
    np.testing.assert_allclose(a_out[-1], ref_softmax(z_out[-1]), rtol=1e-14)
    assert np.all(a_out[-1] > 0)
    # Only 2 of the 10 hidden nodes are kept (ratio 0.8): the other 8 columns are all zero.
    assert np.sum(np.any(a_out[1] != 0, axis=0)) <= 2


def test_forward_dropout_masks_are_the_generators_next_draws():
    """Are the masks exactly Dropout's draws, layer by layer, from (a copy of) the same Generator?"""
    size, ratio = [5, 9, 7, 6, 3], 0.4
    thetas, X = network(2, size, 3)
    rng = np.random.default_rng(21)
    replay = copy.deepcopy(rng)
    masks = [Dropout(w, ratio, seed=replay) for w in size[1:-1]]
    z_out, a_out = forward_propagate_dropout(X, thetas, sigmoid, ratio, seed=rng)
    _, a_ref = ref_forward(X, thetas, ref_sigmoid, masks)
    for a, ar in zip(a_out, a_ref):
        np.testing.assert_allclose(a, ar, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("act", [ReLU, sigmoid], ids=["ReLU", "sigmoid"])
def test_forward_dropout_is_the_masked_pass_with_the_masks_it_drew(act):
    """Is forward_propagate_dropout exactly forward_propagate_masked with the masks Dropout draws from the same Generator?"""
    size, ratio = [5, 9, 7, 6, 3], 0.3
    thetas, X = network(8, size, 4)
    rng = np.random.default_rng(22)
    replay = copy.deepcopy(rng)
    masks = [Dropout(w, ratio, seed=replay) for w in size[1:-1]]
    for got, want in zip(forward_propagate_dropout(X, thetas, act, ratio, seed=rng),
                         forward_propagate_masked(X, thetas, act, masks)):
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)


def test_forward_dropout_fresh_masks_each_call():
    """Do two calls with the same Generator drop different nodes, and two calls with the same int seed the same ones?"""
    size = [4, 20, 3]
    thetas, X = network(3, size, 2)
    rng = np.random.default_rng(0)
    first = forward_propagate_dropout(X, thetas, sigmoid, 0.5, seed=rng)[1][1]
    second = forward_propagate_dropout(X, thetas, sigmoid, 0.5, seed=rng)[1][1]
    assert not np.array_equal(first != 0, second != 0)
    a = forward_propagate_dropout(X, thetas, sigmoid, 0.5, seed=9)[1]
    b = forward_propagate_dropout(X, thetas, sigmoid, 0.5, seed=9)[1]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_forward_dropout_ratio_zero_is_plain_forward():
    """With ratio 0, is forward_propagate_dropout the same as forward_propagate?"""
    size = [6, 5, 5, 3]
    thetas, X = network(4, size, 4)
    for got, want in zip(forward_propagate_dropout(X, thetas, ReLU, 0.0, seed=0)[1],
                         forward_propagate(X, thetas, ReLU)[1]):
        np.testing.assert_allclose(got, want, rtol=1e-15)


# --- reading the masks back ----------------------------------------------------

def test_gains_from_forward_recovers_sigmoid_masks():
    """With sigmoid (never 0), does gains_from_forward give back each hidden layer's mask on every row?"""
    size, ratio, m = [5, 8, 6, 3], 0.25, 4
    thetas, X = network(5, size, m)
    rng = np.random.default_rng(2)
    replay = copy.deepcopy(rng)
    masks = [Dropout(w, ratio, seed=replay) for w in size[1:-1]]
    z_out, a_out = forward_propagate_dropout(X, thetas, sigmoid, ratio, seed=rng)
    gains = gains_from_forward(z_out, a_out, sigmoid)
    assert len(gains) == len(size) - 2
    for g, mask, w in zip(gains, masks, size[1:-1]):
        assert g.shape == (m, w)
        np.testing.assert_allclose(g, np.broadcast_to(mask, (m, w)), rtol=1e-14, atol=0)


def test_gains_from_forward_relu_zero_where_inactive():
    """With ReLU, is the gain the mask where z > 0 and 0 where z <= 0 (where the gradient is 0 anyway)?"""
    size, ratio, m = [5, 12, 10, 3], 0.25, 6
    thetas, X = network(6, size, m)
    rng = np.random.default_rng(3)
    replay = copy.deepcopy(rng)
    masks = [Dropout(w, ratio, seed=replay) for w in size[1:-1]]
    z_out, a_out = forward_propagate_dropout(X, thetas, ReLU, ratio, seed=rng)
    for g, z, mask in zip(gains_from_forward(z_out, a_out, ReLU), z_out[1:-1], masks):
        expected = np.where(z > 0, mask, 0.0)
        np.testing.assert_allclose(g, expected, rtol=1e-14, atol=0)
        assert np.any(z <= 0) and np.any((z > 0) & (mask > 0))     # both cases occur here


@pytest.mark.parametrize("act, grad", [(ReLU, ReLU_gradient), (sigmoid, sigmoid_gradient)])
def test_backprop_with_dropout_returns_the_loss_without_dropout(act, grad):
    """With ratio > 0, is backprop's cost the loss without Dropout (as the handout records it), while its gradient differs?"""
    size = [25, 20, 20, 20, 5]
    rng = np.random.default_rng(7)
    params = rng.uniform(-1, 1, int(ref_layer_index(size)[-1]))
    X = rng.integers(0, 2, (5, 25)).astype(float)
    Y = one_hot(np.arange(5), 5)
    index = ref_layer_index(size)
    cost, g_drop = backprop(params, size, index, X, Y, act, grad, ratio=0.2, seed=0)
    assert cost == pytest.approx(cost_fcn(params, size, index, X, Y, act), rel=1e-14)
    ref = {ReLU: ref_relu, sigmoid: ref_sigmoid}[act]
    h = ref_forward(X, ref_unpack(params, size), ref)[1][-1]
    assert cost == pytest.approx(-np.sum(Y * np.log(h)) / 5, rel=1e-12)
    _, g_plain = backprop(params, size, index, X, Y, act, grad)
    assert not np.allclose(g_drop, g_plain)
