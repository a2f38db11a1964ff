"""Comparing a student's result with the reference: conversions, relative errors, closeness.

Student functions may return ``np.matrix``, bool arrays, lists, 0-d arrays
or 1x1 matrices; everything is turned into float64 ndarrays here before it
is compared. Tolerances are loose enough for any order of summation (loops
over samples included) and tight enough to catch every real mistake.
"""

import numpy as np

_asarray = np.asarray
_abs = np.abs
_all = np.all
_isfinite = np.isfinite
_norm = np.linalg.norm
_float64 = np.float64

#: Relative error below which two arrays count as equal.
RTOL = 1e-7
#: Absolute slack per entry (values of sigmoid and softmax can be as small as 1e-300).
ATOL = 1e-12


class NotNumeric(Exception):
    """The student returned something that is not a numeric array."""


def as_array(value):
    """``value`` as a float64 ndarray (np.matrix, bool, lists and 0-d values accepted)."""
    try:
        arr = _asarray(value, dtype=_float64)
    except (TypeError, ValueError) as exc:
        raise NotNumeric(f"{type(value).__name__}: {exc}") from None
    return arr


def as_scalar(value):
    """A float from a float, a 0-d array or any array of one element (a 1x1 matrix)."""
    arr = as_array(value)
    if arr.size != 1:
        raise NotNumeric(f"expected one number, got an array of shape {arr.shape}")
    return float(arr.reshape(-1)[0])


def rel_error(a, b):
    """``||a - b|| / (||a|| + ||b||)``: 0 when equal, 1 when opposite; inf when a value is not finite."""
    a, b = _asarray(a, dtype=_float64), _asarray(b, dtype=_float64)
    if not (_all(_isfinite(a)) and _all(_isfinite(b))):
        return float("inf")
    denom = _norm(a) + _norm(b)
    return float(_norm(a - b) / denom) if denom > 0 else 0.0


def close(got, expected, rtol=RTOL, atol=ATOL):
    """Same shape and every entry within ``atol + rtol * |expected|`` (arrays of float64)."""
    got, expected = _asarray(got), _asarray(expected)
    if got.shape != expected.shape or not _all(_isfinite(got)):
        return False
    return bool(_all(_abs(got - expected) <= atol + rtol * _abs(expected)))


def scalar_close(got, expected, rtol=RTOL, atol=1e-10):
    return bool(abs(got - expected) <= atol + rtol * abs(expected))


def proportional(got, expected, tol=1e-6):
    """The factor c with ``got = c * expected`` (least squares), or None when no single factor fits."""
    got, expected = _asarray(got, dtype=_float64).ravel(), _asarray(expected, dtype=_float64).ravel()
    if got.shape != expected.shape or not _all(_isfinite(got)):
        return None
    denom = float(expected @ expected)
    if denom == 0:
        return None
    c = float(got @ expected) / denom
    return c if rel_error(got, c * expected) <= tol else None
