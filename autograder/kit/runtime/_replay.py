"""The kit's stand-ins: they replay answers recorded when the kit was built, and compute nothing.

While a visible check runs, the student's code is handed these in place of the functions the grader
would lend it (the activations, ``forward_propagate``, ``Dropout``, a recording ``backprop``...). Each
answers only the inputs that the reference answers and the course's catalogue of student mistakes
gave it when the kit was built; any other input raises ``NotRecorded``, and the check then says that
this case needs the grader (more is checked at grading, with the reference).

* ``Elementwise`` (ReLU, sigmoid and their gradients): a table of recorded values, entry by entry,
  so any shape, slice, transpose or loop over entries of recorded values is answered;
* ``Rows`` (softmax, softmax_gradient): a table of recorded rows;
* ``Calls`` (forward_propagate, cost_fcn, backprop, forward_propagate_dropout): recorded calls,
  matched argument by argument; each call is remembered (``calls``) for the judge;
* ``Masks`` (Dropout): the masks handed out, in call order, for each recorded sequence of calls.

They keep ``np.matrix`` when given one, as the grader's stand-ins do.
"""

import numpy as np

from ._sandbox import copy
from .codec import StandInRef

RTOL, ATOL = 1e-9, 1e-12
RUN = "#run"


class NotRecorded(Exception):
    """A stand-in was called with an input the kit has no recorded answer for."""

    def __init__(self, standin, what):
        super().__init__(f"{standin}: {what}")
        self.standin, self.what = standin, what


def _close(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return False
    return bool(np.all((a == b) | (np.abs(a - b) <= ATOL + RTOL * np.abs(b))))


def _same(got, recorded):
    """Is an argument the student passed the recorded one (arrays approximately, stand-ins by id)?"""
    if isinstance(recorded, StandInRef):
        return getattr(got, "standin_id", None) == recorded.id
    if isinstance(recorded, (list, tuple)) and not (recorded and isinstance(recorded[0], (int, float))
                                                    and not isinstance(got, (list, tuple))):
        try:
            items = list(got)
        except TypeError:
            return False
        return len(items) == len(recorded) and all(_same(g, r) for g, r in zip(items, recorded))
    try:
        return _close(got, recorded)
    except (TypeError, ValueError):
        return False


def _keep_matrix(value, like):
    """``value`` with its 2-D arrays as np.matrix when ``like`` is one (lists and tuples followed)."""
    if not isinstance(like, np.matrix):
        return value
    if isinstance(value, np.ndarray) and value.ndim == 2:
        return np.asmatrix(value)
    if isinstance(value, list):
        return [_keep_matrix(v, like) for v in value]
    if isinstance(value, tuple):
        return tuple(_keep_matrix(v, like) for v in value)
    return value


class Elementwise:
    """An entry-by-entry function known only on recorded values.

    Parameters
    ----------
    id : str, the name shown to the student ("ReLU")
    pairs : list of (input, output) arrays of equal size
    """

    def __init__(self, id, pairs):
        self.standin_id = self.__name__ = id
        xs = [np.asarray(x, dtype=np.float64).ravel() for x, _ in pairs]
        ys = [np.asarray(y, dtype=np.float64).ravel() for _, y in pairs]
        xs = np.concatenate(xs) if xs else np.zeros(0)
        ys = np.concatenate(ys) if ys else np.zeros(0)
        order = np.argsort(xs, kind="stable")
        self.xs, self.ys = xs[order], ys[order]

    def __call__(self, z, *args, **kwargs):
        arr = np.asarray(z, dtype=np.float64)
        flat = arr.ravel()
        n = self.xs.size
        if n == 0:
            raise NotRecorded(self.__name__, f"an input of shape {arr.shape}")
        idx = np.searchsorted(self.xs, flat)
        lo, hi = np.clip(idx - 1, 0, n - 1), np.clip(idx, 0, n - 1)
        with np.errstate(invalid="ignore"):
            pick = np.where(np.abs(self.xs[lo] - flat) <= np.abs(self.xs[hi] - flat), lo, hi)
            found = self.xs[pick]
            ok = (found == flat) | (np.abs(found - flat) <= ATOL + RTOL * np.abs(flat))
        if not np.all(ok):
            raise NotRecorded(self.__name__, f"an input of shape {arr.shape}")
        out = self.ys[pick].reshape(arr.shape)
        return np.asmatrix(out) if isinstance(z, np.matrix) and out.ndim == 2 else out


class Rows:
    """A row-by-row function (each row's result depends on that row only) known on recorded rows."""

    def __init__(self, id, pairs):
        self.standin_id = self.__name__ = id
        self.table = {}
        for x, y in pairs:
            x, y = np.atleast_2d(np.asarray(x, dtype=np.float64)), np.asarray(y, dtype=np.float64)
            if y.ndim == 1:
                y = y[None, :]
            for row, out in zip(x, y):
                self.table.setdefault(row.size, ([], []))
                self.table[row.size][0].append(row)
                self.table[row.size][1].append(out)
        self.table = {k: (np.array(r), outs) for k, (r, outs) in self.table.items()}

    def __call__(self, z, *args, **kwargs):
        arr = np.asarray(z, dtype=np.float64)
        rows = np.atleast_2d(arr)
        if rows.ndim != 2 or rows.shape[1] not in self.table:
            raise NotRecorded(self.__name__, f"an input of shape {arr.shape}")
        known, outs = self.table[rows.shape[1]]
        result = []
        for row in rows:
            hit = np.flatnonzero(np.all((known == row) | (np.abs(known - row) <= ATOL + RTOL * np.abs(row)), axis=1))
            if hit.size == 0:
                raise NotRecorded(self.__name__, f"a row of an input of shape {arr.shape}")
            result.append(outs[hit[0]])
        out = np.array(result)
        if arr.ndim == 1:
            out = out[0]
        return np.asmatrix(out) if isinstance(z, np.matrix) and out.ndim == 2 else out


#: The handout's signatures of the functions replayed call by call: (parameter names, defaults, matched names).
SIGNATURES = {
    "forward_propagate": (("X", "thetas", "activate_fcn"), {}, ("X", "thetas", "activate_fcn")),
    "cost_fcn": (("params", "size", "index", "X", "Y", "activate_fcn"), {}, ("params", "size", "X", "Y", "activate_fcn")),
    "backprop": (("params", "size", "index", "X", "Y", "activate_fcn", "activate_fcn_gradient", "ratio"), {"ratio": 0.0},
                 ("params", "size", "X", "Y", "activate_fcn", "activate_fcn_gradient", "ratio")),
    "forward_propagate_dropout": (("X", "thetas", "activate_fcn", "ratio"), {}, ("X", "thetas", "activate_fcn", "ratio")),
}


def bind(id, args, kwargs):
    """The arguments of a call by the handout's parameter names (extra ones ignored, as the grader's stand-ins do)."""
    names, defaults, _ = SIGNATURES[id]
    bound = dict(defaults)
    bound.update(zip(names, args))
    bound.update({k: v for k, v in kwargs.items() if k in names})
    missing = [n for n in names if n not in bound]
    if missing:
        raise TypeError(f"{id}() missing argument(s): {', '.join(missing)}")
    return bound


class Calls:
    """A function known on recorded calls.

    Parameters
    ----------
    id : str, one of SIGNATURES
    entries : list of (bound arguments dict, result, ordinal, history): ordinal = how many calls of this
        stand-in came before in that run, history = the Dropout calls (size, ratio) made before it returned
    masks : the case's Masks, for forward_propagate_dropout (it draws one mask per hidden layer)

    Attributes
    ----------
    calls : list of dict, the arguments of every call made (by name, as passed)
    """

    def __init__(self, id, entries, masks=None):
        self.standin_id = self.__name__ = id
        self.entries, self.masks, self.calls = entries, masks, []

    def __call__(self, *args, **kwargs):
        bound = bind(self.standin_id, args, kwargs)
        ordinal = len(self.calls)
        self.calls.append(bound)
        history = None
        if self.standin_id == "forward_propagate_dropout" and self.masks is not None:
            for theta in list(bound["thetas"])[:-1]:
                self.masks(np.shape(theta)[0], bound["ratio"])
            history = [tuple(h) for h in self.masks.history]
        matched = self.standin_id in SIGNATURES and SIGNATURES[self.standin_id][2]
        hits = [e for e in self.entries if (history is None or e[3] == history)
                and all(_same(bound[name], e[0][name]) for name in matched)]
        if not hits:
            raise NotRecorded(self.standin_id, "these arguments")
        same_place = [e for e in hits if e[2] == ordinal]
        result = (same_place or hits)[0][1]
        like = bound.get("X")
        return _keep_matrix(copy(result), like)


class Masks:
    """Dropout(size, ratio) known on recorded sequences of calls: the i-th call gets the mask recorded after
    the same i - 1 calls.

    Attributes
    ----------
    calls : list of (size, ratio, mask), history : list of (size, ratio)
    """

    def __init__(self, sequences):
        self.standin_id = self.__name__ = "Dropout"
        self.next = {}
        for seq in sequences:
            prefix = ()
            for n, r, mask in seq:
                prefix = prefix + ((int(n), float(r)),)
                self.next.setdefault(prefix, np.asarray(mask, dtype=np.float64))
        self.calls, self.history = [], []

    def __call__(self, size, ratio, *args, **kwargs):
        key = (int(size), float(ratio))
        prefix = tuple(tuple(h) for h in self.history) + (key,)
        mask = self.next.get(prefix)
        self.history.append(key)
        if mask is None:
            self.calls.append((key[0], key[1], None))
            raise NotRecorded("Dropout", f"Dropout({key[0]}, {key[1]}) after {len(self.history) - 1} other call(s)")
        self.calls.append((key[0], key[1], mask.copy()))
        return mask.copy()


ELEMENTWISE = ("ReLU", "ReLU_gradient", "sigmoid", "sigmoid_gradient")
ROWS = ("softmax", "softmax_gradient")


def standins(answers):
    """The replays of one case from its recorded answers: {id: stand-in}.

    ``answers`` : list of (id, args, kwargs, result) in the order they were recorded, each run of student
    code starting with an entry whose id is RUN.
    """
    pairs, sequences, entries = {}, [], {}
    seq, history, counts = None, [], {}
    for id, args, kwargs, result in answers:
        if id == RUN:
            seq, history, counts = [], [], {}
            sequences.append(seq)
            continue
        if id in ELEMENTWISE or id in ROWS:
            pairs.setdefault(id, []).append((args[0], result))
        elif id == "Dropout":
            n, r = args[0], args[1]
            seq.append((n, r, result))
            history.append((int(n), float(r)))
        elif id in SIGNATURES:
            ordinal = counts.get(id, 0)
            counts[id] = ordinal + 1
            entries.setdefault(id, []).append((bind(id, args, kwargs), result, ordinal,
                                               list(history) if id == "forward_propagate_dropout" else None))
    masks = Masks(sequences)
    out = {"Dropout": masks}
    for id in ELEMENTWISE:
        out[id] = Elementwise(id, pairs.get(id, []))
    for id in ROWS:
        out[id] = Rows(id, pairs.get(id, []))
    for id in SIGNATURES:
        out[id] = Calls(id, entries.get(id, []), masks if id == "forward_propagate_dropout" else None)
    return out
