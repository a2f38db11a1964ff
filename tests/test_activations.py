"""Tests for reludrop_core.activations: each activation, its gradient, and how backprop applies it."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import H, centred_difference, examples, precise_sigmoid, ref_relu, ref_sigmoid, ref_softmax

from reludrop_core import (
    ReLU,
    ReLU_gradient,
    activation_backward,
    handout_softmax_gradient,
    sigmoid,
    sigmoid_gradient,
    softmax,
    softmax_gradient,
)

EPS = np.finfo(np.float64).eps

#: Inputs at and beyond the edges of float64 exp: exp(710) overflows, exp(-746) underflows to 0.
EXTREMES = np.array([1e308, -1e308, 710.0, -710.0, 745.0, -745.0, 746.0, -746.0, 0.0, -0.0,
                     np.finfo(np.float64).max, -np.finfo(np.float64).max, 5e-324, -5e-324])


def call_strictly(f, z):
    """Call f(z) with all warnings raised as errors and numpy's default errstate (underflow ignored)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(divide="warn", over="warn", invalid="warn", under="ignore"):
            return f(z)


def random_z(seed, shape=(4, 6), scale=3.0):
    return np.random.default_rng(seed).normal(scale=scale, size=shape)


# --- ReLU ------------------------------------------------------------------

def test_relu_matches_reference():
    """Does ReLU equal max(0, z) entry by entry, as float64, for any shape?"""
    for shape in [(4, 6), (7,), (2, 3, 4)]:
        z = random_z(0, shape)
        a = ReLU(z)
        assert isinstance(a, np.ndarray) and a.dtype == np.float64 and a.shape == shape
        np.testing.assert_array_equal(a, ref_relu(z))


def test_relu_of_integers_is_float64():
    """Does ReLU turn an integer input into float64 (so later arithmetic does not truncate)?"""
    a = ReLU(np.array([[-2, 0, 3]]))
    assert a.dtype == np.float64
    np.testing.assert_array_equal(a, [[0.0, 0.0, 3.0]])


def test_relu_gradient_at_zero_and_dtype():
    """Is ReLU_gradient 0 at z = 0 (also -0.0), 1 for z > 0, 0 for z < 0, and float64 (not bool as in the handout)?"""
    z = np.array([[-3.0, -1e-300, -0.0, 0.0, 1e-300, 2.5]])
    g = ReLU_gradient(z)
    assert g.dtype == np.float64
    np.testing.assert_array_equal(g, [[0.0, 0.0, 0.0, 0.0, 1.0, 1.0]])


def test_relu_gradient_matches_finite_differences():
    """Away from the kink, does ReLU_gradient equal the centred difference of ReLU?"""
    z = random_z(1)
    z = z[np.abs(z) > 1e-3]                        # the kink at 0 has no derivative
    weights = np.random.default_rng(2).normal(size=z.shape)
    numeric = centred_difference(lambda v: float(np.sum(ReLU(v) * weights)), z)
    np.testing.assert_allclose(ReLU_gradient(z) * weights, numeric, rtol=1e-8, atol=1e-10)


# --- sigmoid ---------------------------------------------------------------

def test_sigmoid_no_warning_at_extremes():
    """Does sigmoid (and its gradient) run without any warning for every float64 input, ±1e308 and ±710 included?"""
    for f in (sigmoid, sigmoid_gradient):
        out = call_strictly(f, EXTREMES)
        assert np.all(np.isfinite(out))


def test_sigmoid_values_at_extremes():
    """Is sigmoid exactly 1 for huge z, exactly 0 for hugely negative z, and 1/2 at 0?"""
    s = sigmoid(EXTREMES)
    expected = np.array([precise_sigmoid(v) for v in EXTREMES])
    # Where the true value is a normal float the result must be within a few ulp;
    # below 2.2e-308 (subnormals) only absolute accuracy is possible.
    np.testing.assert_allclose(s, expected, rtol=4 * EPS, atol=1e-320)
    assert sigmoid(np.array([1e308]))[0] == 1.0 and sigmoid(np.array([-1e308]))[0] == 0.0
    assert sigmoid(np.array([0.0]))[0] == 0.5


def test_sigmoid_of_infinities():
    """Does sigmoid map +inf to 1 and -inf to 0 without a warning?"""
    np.testing.assert_array_equal(call_strictly(sigmoid, np.array([np.inf, -np.inf])), [1.0, 0.0])


def test_sigmoid_is_accurate_to_a_few_ulp():
    """Is sigmoid within 4 ulp of a 60-digit reference over z in [-708, 708] (all outputs normal floats)?"""
    z = np.concatenate([np.linspace(-708, 708, 1201), random_z(3, (400,), scale=10.0),
                        [-1e-8, 1e-8, -36.5, 36.5, -37.5, 37.5]])
    expected = np.array([precise_sigmoid(v) for v in z])
    np.testing.assert_allclose(sigmoid(z), expected, rtol=4 * EPS, atol=0)


@given(st.floats(allow_nan=False, allow_infinity=False))
@settings(max_examples=examples(200))
def test_sigmoid_any_float(z):
    """For any finite float, is sigmoid in [0, 1], warning-free and within 4 ulp (or 1e-320 absolute) of the exact value?"""
    s = call_strictly(sigmoid, np.array([z]))[0]
    assert 0.0 <= s <= 1.0
    assert abs(s - precise_sigmoid(z)) <= max(4 * EPS * precise_sigmoid(z), 1e-320)


def test_sigmoid_symmetry():
    """Is sigmoid(-z) = 1 - sigmoid(z) to rounding?"""
    z = random_z(4, (500,), scale=8.0)
    np.testing.assert_allclose(sigmoid(-z), 1.0 - sigmoid(z), rtol=0, atol=2 * EPS)


def test_sigmoid_gradient_matches_finite_differences():
    """Does sigmoid_gradient equal the centred difference of sigmoid?"""
    z = random_z(5, scale=4.0)
    weights = np.random.default_rng(6).normal(size=z.shape)
    numeric = centred_difference(lambda v: float(np.sum(sigmoid(v) * weights)), z)
    np.testing.assert_allclose(sigmoid_gradient(z) * weights, numeric, rtol=1e-7, atol=1e-10)


def test_sigmoid_gradient_is_absolutely_accurate():
    """Is sigmoid_gradient within 2 eps (absolute) of the exact s(1 - s) over z in [-50, 50]?"""
    # s (1 - s) loses relative accuracy for large positive z (1 - s cancels), so
    # only an absolute bound holds there; that is all backprop needs.
    z = np.linspace(-50, 50, 1001)
    exact = np.array([precise_sigmoid(v) * precise_sigmoid(-v) for v in z])
    np.testing.assert_allclose(sigmoid_gradient(z), exact, rtol=1e-14, atol=2 * EPS)


def test_sigmoid_matches_textbook_formula():
    """For moderate z, does sigmoid equal the textbook 1 / (1 + exp(-z))?"""
    z = random_z(7)
    np.testing.assert_allclose(sigmoid(z), ref_sigmoid(z), rtol=4 * EPS)


# --- softmax ---------------------------------------------------------------

def test_softmax_rows_sum_to_one():
    """Is every row of softmax positive and summing to 1?"""
    s = softmax(random_z(8, (10, 7), scale=5.0))
    assert s.shape == (10, 7) and s.dtype == np.float64
    assert np.all(s > 0)
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=0, atol=4 * EPS)


def test_softmax_matches_reference():
    """Does softmax equal exp(z) / rowsum(exp(z)) computed independently?"""
    z = random_z(9, (6, 5))
    np.testing.assert_allclose(softmax(z), ref_softmax(z), rtol=1e-14)
    direct = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)     # no shift: fine for |z| < 20
    np.testing.assert_allclose(softmax(z), direct, rtol=1e-13)


@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.integers(1, 6),
       st.floats(-1e4, 1e4, allow_nan=False))
@settings(max_examples=examples(60))
def test_softmax_invariant_to_row_constant(seed, m, k, scale):
    """Is softmax unchanged when a (different) constant is added to each row?"""
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=3.0, size=(m, k))
    c = rng.uniform(-1, 1, size=(m, 1)) * scale
    # z + c rounds z to about |c| * eps; the softmax moves by at most that much.
    tol = 1e-14 + 4 * EPS * (abs(scale) + 10)
    np.testing.assert_allclose(softmax(z + c), softmax(z), rtol=0, atol=tol)


def test_softmax_finite_for_large_inputs():
    """Does softmax stay finite, warning-free and exact for inputs like ±1000?"""
    z = np.array([[1000.0, 1000.0], [1000.0, -1000.0], [-1000.0, -1000.0], [1000.0, 999.0]])
    s = call_strictly(softmax, z)
    assert np.all(np.isfinite(s))
    np.testing.assert_allclose(s[0], [0.5, 0.5])
    np.testing.assert_allclose(s[1], [1.0, 0.0], atol=1e-300)
    np.testing.assert_allclose(s[2], [0.5, 0.5])
    e = np.exp(-1.0)
    np.testing.assert_allclose(s[3], [1 / (1 + e), e / (1 + e)], rtol=1e-15)


def test_softmax_single_column_is_one():
    """With a single node per row (k = 1), is softmax exactly 1?"""
    np.testing.assert_array_equal(softmax(np.array([[-5.0], [0.0], [1e3]])), np.ones((3, 1)))


def test_softmax_gradient_equals_finite_difference_jacobian():
    """Is softmax_gradient the full (m, k, k) Jacobian J[i, j, l] = d s_ij / d z_il, as centred differences give it?"""
    z = random_z(10, (3, 4), scale=2.0)
    J = softmax_gradient(z)
    assert J.shape == (3, 4, 4) and J.dtype == np.float64
    numeric = np.empty_like(J)
    for i in range(3):
        for l in range(4):
            up, down = z.copy(), z.copy()
            up[i, l] += H
            down[i, l] -= H
            numeric[i, :, l] = (softmax(up)[i] - softmax(down)[i]) / (2 * H)
    np.testing.assert_allclose(J, numeric, rtol=1e-7, atol=1e-10)


def test_softmax_gradient_formula():
    """Is softmax_gradient s_j (1[j == l] - s_l), written out entry by entry?"""
    z = random_z(11, (2, 3))
    s = ref_softmax(z)
    J = softmax_gradient(z)
    for i in range(2):
        for j in range(3):
            for l in range(3):
                assert J[i, j, l] == pytest.approx(s[i, j] * ((j == l) - s[i, l]), rel=1e-13, abs=1e-16)


def test_handout_softmax_gradient_is_only_the_diagonal():
    """Is the handout's s (1 - s) exactly the diagonal of the softmax Jacobian, whose off-diagonal is not zero?"""
    z = random_z(12, (4, 5))
    J = softmax_gradient(z)
    diag = np.einsum("ijj->ij", J)
    np.testing.assert_allclose(handout_softmax_gradient(z), diag, rtol=1e-14)
    off = J - np.einsum("ij,jk->ijk", diag, np.eye(5))
    assert np.min(np.abs(off[:, ~np.eye(5, dtype=bool)])) > 0


# --- activation_backward ---------------------------------------------------

def test_activation_backward_diagonal():
    """For a 2-D (diagonal) gradient, is delta the entry-by-entry product error * gradient?"""
    rng = np.random.default_rng(13)
    g, e = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    np.testing.assert_array_equal(activation_backward(g, e), e * g)


def test_activation_backward_full_jacobian():
    """For a 3-D Jacobian, is delta[i] = error[i] @ J[i] for every sample i?"""
    rng = np.random.default_rng(14)
    J, e = rng.normal(size=(4, 3, 3)), rng.normal(size=(4, 3))
    expected = np.array([e[i] @ J[i] for i in range(4)])
    np.testing.assert_allclose(activation_backward(J, e), expected, rtol=1e-13)


def test_activation_backward_softmax_closed_form():
    """With the softmax Jacobian, is delta = s * (e - rowsum(e * s)) as the module docstring says?"""
    rng = np.random.default_rng(15)
    z, e = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    s = ref_softmax(z)
    expected = s * (e - np.sum(e * s, axis=1, keepdims=True))
    np.testing.assert_allclose(activation_backward(softmax_gradient(z), e), expected, rtol=1e-12, atol=1e-15)


def test_activation_backward_matrix_error_is_entrywise():
    """With the error given as a square np.matrix (m == k), is delta still error * gradient entry by entry, as an ndarray?"""
    g = np.array([[0.0, 1.0], [2.0, 3.0]])
    e = np.matrix([[1.0, 2.0], [3.0, 4.0]])
    delta = activation_backward(g, e)
    assert type(delta) is np.ndarray
    np.testing.assert_array_equal(delta, [[0.0, 2.0], [6.0, 12.0]])    # [[1*0, 2*1], [3*2, 4*3]]
