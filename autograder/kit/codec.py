"""The recorded visible checks as JSON: arrays, tuples, stand-ins and dicts, exactly (floats by repr).

``encode`` runs when a kit is built, ``decode`` in the kit; both need only numpy. NaN and infinity are
written as JSON's NaN/Infinity extensions, which Python's json reads back.
"""

import numpy as np

_DTYPES = {"f": "float64", "b": "bool", "i": "int64", "u": "int64"}


class StandInRef:
    """Where a case's arguments hold a stand-in: the kit puts the replay called ``id`` there."""

    __slots__ = ("id",)

    def __init__(self, id):
        self.id = id

    def __repr__(self):
        return f"StandInRef({self.id!r})"


def encode(value):
    """A JSON-ready form of ``value`` (ndarray, np.matrix, list, tuple, dict with str keys, numbers, str, None,
    or an object with an ``id`` attribute and the class name StandIn)."""
    if type(value).__name__ in ("StandIn", "StandInRef"):
        return {"__standin__": value.id}
    if isinstance(value, np.ndarray):
        dtype = _DTYPES.get(value.dtype.kind, "float64")
        arr = np.asarray(value, dtype=dtype)
        return {"__nd__": [dtype, list(arr.shape), arr.ravel().tolist()]}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {"__dict__": {str(k): encode(v) for k, v in value.items()}}
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"cannot record a {type(value).__name__} in a kit: {value!r:.80}")


def decode(value):
    """The value ``encode`` wrote: float64/bool/int64 ndarrays, tuples, lists, dicts, StandInRef."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if "__nd__" in value:
            dtype, shape, flat = value["__nd__"]
            return np.array(flat, dtype=dtype).reshape(shape)
        if "__tuple__" in value:
            return tuple(decode(v) for v in value["__tuple__"])
        if "__standin__" in value:
            return StandInRef(value["__standin__"])
        if "__dict__" in value:
            return {k: decode(v) for k, v in value["__dict__"].items()}
    return value
