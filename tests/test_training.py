"""Tests for reludrop_core.training.train: updates, cost history, mini-batches, Dropout and seeds."""

import numpy as np
import pytest
from reference import course_data, ref_layer_index, ref_loss, ref_relu, ref_sigmoid, ref_softmax

from reludrop_core import (
    ReLU,
    ReLU_gradient,
    backprop,
    cost_fcn,
    init_params,
    sigmoid,
    sigmoid_gradient,
    softmax,
    softmax_gradient,
    train,
)

ACTIVATIONS = {
    "ReLU": (ReLU, ReLU_gradient, ref_relu),
    "sigmoid": (sigmoid, sigmoid_gradient, ref_sigmoid),
    "softmax": (softmax, softmax_gradient, ref_softmax),
}
SIZE = [25, 8, 6, 5]
ALPHA = 0.1


def hand_train(X, Y, params, size, alpha, iters, name, ratio=0.0, step=-1, seed=None):
    """Gradient descent written out with backprop: walk the slices in order, update after each.

    The cost of epoch i is the loss (no Dropout) at the parameters before its updates.
    """
    act, act_grad, ref_act = ACTIVATIONS[name]
    index = ref_layer_index(size)
    p = np.array(params, dtype=np.float64)
    m = len(X)
    step = m if step == -1 else step
    costs = []
    for _ in range(iters):
        costs.append(ref_loss(p, size, X, Y, ref_act))
        for j in range(0, m, step):
            _, g = backprop(p, size, index, X[j:j + step], Y[j:j + step], act, act_grad, ratio=ratio, seed=seed)
            p = p - alpha * g
    return p, np.array(costs)


def run(name, iters, ratio=0.0, step=-1, seed=None, params=None, size=SIZE):
    X, Y, _ = course_data()
    act, act_grad, _ = ACTIVATIONS[name]
    params = init_params(size, seed=0) if params is None else params
    return train(X, Y, params, size, ALPHA, iters, act, act_grad, ratio=ratio, step=step, seed=seed)


@pytest.mark.parametrize("name", ["ReLU", "sigmoid", "softmax"])
@pytest.mark.parametrize("ratio", [0.0, 0.2])
@pytest.mark.parametrize("step", [-1, 5, 2, 1, 3])
def test_train_matches_hand_written_loop(name, ratio, step):
    """Does train equal a hand-written loop of backprop updates over the mini-batches, parameters and cost history alike?"""
    X, Y, _ = course_data()
    p0 = init_params(SIZE, seed=0)
    act, act_grad, _ = ACTIVATIONS[name]
    got_p, got_cost = train(X, Y, p0, SIZE, ALPHA, 4, act, act_grad, ratio=ratio, step=step, seed=3)
    want_p, want_cost = hand_train(X, Y, p0, SIZE, ALPHA, 4, name, ratio, step, seed=np.random.default_rng(3))
    np.testing.assert_allclose(got_p, want_p, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(got_cost, want_cost, rtol=1e-12)


@pytest.mark.parametrize("ratio", [0.0, 0.2])
@pytest.mark.parametrize("step", [-1, 2])
def test_cost_entry_is_loss_before_the_epoch(ratio, step):
    """Is cost[0] the loss at the starting params, and cost[1] the loss at the params one epoch of training gives?"""
    X, Y, _ = course_data()
    index = ref_layer_index(SIZE)
    p0 = init_params(SIZE, seed=1)
    p1, cost1 = run("ReLU", 1, ratio, step, seed=5, params=p0)
    p2, cost2 = run("ReLU", 2, ratio, step, seed=5, params=p0)
    assert cost1.shape == (1,) and cost2.shape == (2,)
    assert cost1[0] == pytest.approx(cost_fcn(p0, SIZE, index, X, Y, ReLU), rel=1e-13)
    assert cost1[0] == pytest.approx(ref_loss(p0, SIZE, X, Y, ref_relu), rel=1e-12)
    assert cost2[0] == cost1[0]
    assert cost2[1] == pytest.approx(ref_loss(p1, SIZE, X, Y, ref_relu), rel=1e-12)
    assert not np.allclose(p1, p0) and not np.allclose(p2, p1)


@pytest.mark.parametrize("iters", [1, 2, 17])
def test_cost_history_has_one_entry_per_epoch(iters):
    """Is the cost history a float64 ndarray of shape (iters,)?"""
    _, cost = run("sigmoid", iters, 0.2, 2, seed=0)
    assert type(cost) is np.ndarray and cost.shape == (iters,) and cost.dtype == np.float64
    assert np.all(np.isfinite(cost))


def test_training_reduces_the_loss():
    """After 300 epochs on the course data, is the loss far below where it started?"""
    _, cost = run("ReLU", 300, seed=0)
    assert cost[-1] < cost[0] / 10


@pytest.mark.parametrize("ratio", [0.0, 0.2])
def test_callers_params_unchanged(ratio):
    """Are the caller's params left as they were, and the returned params a new array?"""
    p0 = init_params(SIZE, seed=2)
    before = p0.copy()
    p, _ = run("ReLU", 3, ratio, 2, seed=0, params=p0)
    np.testing.assert_array_equal(p0, before)
    assert not np.shares_memory(p, p0)


def test_dropout_runs_reproducible_with_int_seed():
    """With ratio > 0, do two runs with the same int seed agree exactly, and runs with different seeds differ?"""
    a = run("ReLU", 20, 0.2, seed=4)
    b = run("ReLU", 20, 0.2, seed=4)
    c = run("ReLU", 20, 0.2, seed=5)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.allclose(a[0], c[0])


def test_seed_none_uses_numpys_global_generator():
    """With seed=None, does np.random.seed make runs repeat, and do the masks come from numpy's global generator?"""
    np.random.seed(8)
    a = run("sigmoid", 10, 0.2, seed=None)
    np.random.seed(8)
    b = run("sigmoid", 10, 0.2, seed=None)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    after_training = np.random.random()
    np.random.seed(8)
    assert np.random.random() != after_training          # training consumed global draws
    # The same masks as a hand loop drawing from the global generator.
    X, Y, _ = course_data()
    np.random.seed(8)
    want_p, want_cost = hand_train(X, Y, init_params(SIZE, seed=0), SIZE, ALPHA, 10, "sigmoid", 0.2, seed=None)
    np.testing.assert_allclose(a[0], want_p, rtol=1e-10, atol=1e-13)
    np.random.seed(9)
    assert not np.allclose(run("sigmoid", 10, 0.2, seed=None)[0], a[0])


def test_seed_is_ignored_without_dropout():
    """Without Dropout, is training deterministic whatever the seed?"""
    np.testing.assert_array_equal(run("ReLU", 5, seed=1)[0], run("ReLU", 5, seed=2)[0])


# --- mini-batches ------------------------------------------------------------

def test_step_m_equals_full_batch_exactly():
    """Is step = m exactly the full batch (step = -1), with and without Dropout?"""
    for ratio in (0.0, 0.2):
        full = run("ReLU", 30, ratio, -1, seed=6)
        m = run("ReLU", 30, ratio, 5, seed=6)
        np.testing.assert_array_equal(full[0], m[0])
        np.testing.assert_array_equal(full[1], m[1])


def test_minibatch_differs_from_full_batch():
    """Does a mini-batch run (step = 2) end somewhere else than full batch from the same start?"""
    full_p, full_cost = run("ReLU", 30, step=-1)
    mini_p, mini_cost = run("ReLU", 30, step=2)
    assert not np.allclose(full_p, mini_p, rtol=1e-6)
    assert full_cost[0] == mini_cost[0]                       # same start
    assert not np.allclose(full_cost[1:], mini_cost[1:])


def test_minibatch_uses_its_own_slice():
    """Is each mini-batch update the gradient of that slice only (not of the whole set, as the handout's loop computed)?"""
    X, Y, _ = course_data()
    index = ref_layer_index(SIZE)
    p0 = init_params(SIZE, seed=7)
    got, _ = train(X, Y, p0, SIZE, ALPHA, 1, ReLU, ReLU_gradient, step=2)
    # One epoch by hand: slices rows 0-1, 2-3, 4.
    p = p0.copy()
    for rows in (slice(0, 2), slice(2, 4), slice(4, 5)):
        p = p - ALPHA * backprop(p, SIZE, index, X[rows], Y[rows], ReLU, ReLU_gradient)[1]
    np.testing.assert_allclose(got, p, rtol=1e-12, atol=1e-15)
    # The handout's loop sliced the batches but took the gradient of all of X each time.
    q = p0.copy()
    for _ in range(3):
        q = q - ALPHA * backprop(q, SIZE, index, X, Y, ReLU, ReLU_gradient)[1]
    assert not np.allclose(got, q)


def test_last_minibatch_may_be_smaller():
    """With step = 4 and m = 5, are there two updates per epoch, the second on the last row alone?"""
    X, Y, _ = course_data()
    index = ref_layer_index(SIZE)
    p0 = init_params(SIZE, seed=8)
    got, _ = train(X, Y, p0, SIZE, ALPHA, 1, sigmoid, sigmoid_gradient, step=4)
    p = p0 - ALPHA * backprop(p0, SIZE, index, X[:4], Y[:4], sigmoid, sigmoid_gradient)[1]
    p = p - ALPHA * backprop(p, SIZE, index, X[4:], Y[4:], sigmoid, sigmoid_gradient)[1]
    np.testing.assert_allclose(got, p, rtol=1e-12, atol=1e-15)
