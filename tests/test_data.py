"""Tests for reludrop_core.data: the five digits, their flattening, and the noisy copies."""

import numpy as np
import pytest
from reference import assert_bilingual, course_data, digit_image, flatten_column_by_column

from reludrop_core import DIGITS, LABELS, flatten_images, load_digits, noisy_digits, unflatten_images


@pytest.mark.parametrize("d", [1, 2, 3, 4, 5])
def test_digit_images_match_the_spec(d):
    """Is DIGITS[d - 1] exactly the course's image of digit d, pixel for pixel?"""
    np.testing.assert_array_equal(DIGITS[d - 1], digit_image(d))


def test_digits_shape_values_and_labels():
    """Are there five 5x5 images of 0s and 1s, labelled 1 to 5?"""
    assert DIGITS.shape == (5, 5, 5)
    assert set(np.unique(DIGITS)) <= {0, 1}
    np.testing.assert_array_equal(LABELS, [1, 2, 3, 4, 5])


def test_load_digits_matches_handout_flattening():
    """Is X = DIGITS.transpose(0, 2, 1).reshape(5, 25) (column by column), Y = eye(5), labels 1..5?"""
    X, Y, labels = load_digits()
    X_ref, _, _ = course_data()
    assert X.shape == (5, 25) and X.dtype == np.float64
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(X, DIGITS.transpose(0, 2, 1).reshape(5, 25))
    np.testing.assert_array_equal(Y, np.eye(5))
    np.testing.assert_array_equal(labels, [1, 2, 3, 4, 5])


def test_load_digits_returns_fresh_arrays():
    """Can a caller change what load_digits returned without changing the next call's data or LABELS?"""
    X, Y, labels = load_digits()
    X[:] = 7
    Y[:] = 7
    labels[:] = 7
    X2, Y2, labels2 = load_digits()
    np.testing.assert_array_equal(X2, course_data()[0])
    np.testing.assert_array_equal(Y2, np.eye(5))
    np.testing.assert_array_equal(labels2, [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(LABELS, [1, 2, 3, 4, 5])


def test_flatten_order_is_column_by_column():
    """Does pixel (row r, column c) of an image land at position 5 c + r of its flattened row?"""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 2, size=(3, 5, 5))
    X = flatten_images(images)
    for i in range(3):
        np.testing.assert_array_equal(X[i], flatten_column_by_column(images[i]))
        for r in range(5):
            for c in range(5):
                assert X[i, 5 * c + r] == images[i, r, c]


def test_unflatten_undoes_flatten():
    """Does unflatten_images(flatten_images(images)) give the images back, and the other way round?"""
    rng = np.random.default_rng(1)
    images = rng.normal(size=(4, 5, 5))
    np.testing.assert_array_equal(unflatten_images(flatten_images(images)), images)
    X = rng.normal(size=(6, 25))
    np.testing.assert_array_equal(flatten_images(unflatten_images(X)), X)


def test_unflatten_single_row():
    """Does a single flattened image of 25 pixels come back as one 5x5 image?"""
    x = flatten_column_by_column(digit_image(4))
    np.testing.assert_array_equal(unflatten_images(x), digit_image(4)[None])


def test_unflatten_rejects_images():
    """Is passing (m, 5, 5) images (instead of flattened rows) to unflatten_images an error, not a silent transpose?"""
    with pytest.raises(ValueError, match=r"X must have shape \(m, 25\)") as excinfo:
        unflatten_images(DIGITS)
    assert_bilingual(excinfo)
    with pytest.raises(ValueError, match=r"X must have shape \(m, 25\)"):
        unflatten_images(np.ones((2, 24)))


@pytest.mark.parametrize("flips", [0, 1, 2, 7, 25])
def test_noisy_digits_flip_exactly_k_pixels(flips):
    """Does every noisy copy differ from its clean digit in exactly `flips` pixels, and stay 0/1?"""
    copies = 8
    X, Y, labels = noisy_digits(flips, copies, seed=3)
    X0, _, _ = course_data()
    assert X.shape == (5 * copies, 25) and Y.shape == (5 * copies, 5) and labels.shape == (5 * copies,)
    assert set(np.unique(X)) <= {0.0, 1.0}
    clean = np.tile(X0, (copies, 1))                      # copy after copy, digits 1-5 in each
    np.testing.assert_array_equal(np.sum(X != clean, axis=1), np.full(5 * copies, flips))
    np.testing.assert_array_equal(labels, np.tile([1, 2, 3, 4, 5], copies))
    np.testing.assert_array_equal(Y, np.eye(5)[labels - 1])


def test_noisy_digits_are_seeded():
    """Do equal seeds give equal noisy sets, and different seeds different ones?"""
    a = noisy_digits(3, 10, seed=42)[0]
    b = noisy_digits(3, 10, seed=42)[0]
    c = noisy_digits(3, 10, seed=43)[0]
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(noisy_digits(3, 10)[0], noisy_digits(3, 10, seed=0)[0])


def test_noisy_digits_generator_and_global_seed():
    """Does a Generator seed match its int seed, and does seed=None follow np.random.seed?"""
    np.testing.assert_array_equal(noisy_digits(2, 5, seed=np.random.default_rng(9))[0],
                                  noisy_digits(2, 5, seed=9)[0])
    np.random.seed(5)
    a = noisy_digits(2, 5, seed=None)[0]
    np.random.seed(5)
    b = noisy_digits(2, 5, seed=None)[0]
    np.testing.assert_array_equal(a, b)


def test_noisy_digits_flip_distinct_pixels_uniformly():
    """Over many copies, is every pixel flipped about equally often (a binomial bound)?"""
    copies, flips = 400, 3
    X, _, _ = noisy_digits(flips, copies, seed=7)
    changed = X != np.tile(course_data()[0], (copies, 1))
    n = 5 * copies
    p = flips / 25
    freq = changed.mean(axis=0)
    assert np.all(np.abs(freq - p) < 5 * np.sqrt(p * (1 - p) / n))


@pytest.mark.parametrize("flips", [-1, 26, 1.5, True, "2"])
def test_noisy_digits_bad_flips(flips):
    """Is a flips value that is not an integer in 0..25 rejected with a message?"""
    with pytest.raises(ValueError, match="must be an integer in 0..25") as excinfo:
        noisy_digits(flips)
    assert_bilingual(excinfo)


@pytest.mark.parametrize("copies", [0, -3, 2.0, True])
def test_noisy_digits_bad_copies(copies):
    """Is a copies value that is not a positive integer rejected?"""
    with pytest.raises(ValueError, match="copies must be a positive integer") as excinfo:
        noisy_digits(1, copies)
    assert_bilingual(excinfo)


@pytest.mark.parametrize("shape", [(5, 25), (3, 5, 4), (5, 5)])
def test_flatten_images_bad_shape(shape):
    """Is an array that is not (m, 5, 5) rejected by flatten_images?"""
    with pytest.raises(ValueError, match=r"images must have shape \(m, 5, 5\)") as excinfo:
        flatten_images(np.zeros(shape))
    assert_bilingual(excinfo)

