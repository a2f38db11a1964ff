"""Recording a visible check for a student kit: its cases, expected values, stand-in answers and messages.

Build time only, in the instructor's install. ``record(name, options, implementations)`` runs the
visible cases of one check call of a release notebook (say ``check_backprop(backprop, globals(),
activation="sigmoid", ratio=0.2)``) on the given implementations (the reference answers first, then
the catalogued student implementations, ``autograder.variants``), with every stand-in the check hands
to student code (the activations, ``forward_propagate``, ``Dropout``, the recording ``backprop``...)
wrapped in a recorder. What comes out is plain data:

* each case's arguments, stand-ins named by id, and its expected value, as the check computes it;
* every answer a stand-in gave (its inputs and its output): the kit's stand-ins replay these and
  nothing else, so the kit holds no code that computes a graded function;
* the message the real visible check gives each catalogued mistake, with the mistake's results on
  the cases: a student whose function returns the same results reads the same message.

Letters: m samples, k columns, as in ``_cases``.
"""

import numpy as np

from . import _messages as msg
from . import _trusted
from ._cases import Case
from ._dropout_masks import keep_count
from ._runner import namespaces
from ._sandbox import Call, run
from .activations import (ReLUGradientSpec, ReLUSpec, SigmoidGradientSpec, SigmoidSpec, SoftmaxGradientSpec,
                          SoftmaxSpec)
from .dropout import ForwardDropoutSpec, _dropout_cases
from .network import BackpropSpec, CostSpec, ForwardSpec
from .relu_dropout import ReLUDropoutGradientSpec
from .training import NAMES as TRAIN_NAMES
from .training import TRUSTED_NAMES, _cases as train_cases, _expected as train_expected

#: The entry that starts each run of student code in a case's answers (a fresh Dropout stream starts there).
RUN = "#run"
#: Codes of failures the kit says in its own words (they need no recorded message).
GENERIC = frozenset({"not_implemented", "exception", "delegation", "tampering", "mutates_input", "not_callable"})


class StandIn:
    """A stand-in in a recorded case's arguments: the kit puts its replay of ``id`` there."""

    __slots__ = ("id",)

    def __init__(self, id):
        self.id = id

    def __eq__(self, other):
        return isinstance(other, StandIn) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"StandIn({self.id!r})"


class Recorder:
    """Calls ``target`` and appends (id, args, kwargs, result) to ``log``; other attributes are the target's."""

    def __init__(self, target, id, log):
        self._target, self._id, self._log = target, id, log
        self.__name__ = getattr(target, "__name__", id)

    def __call__(self, *args, **kwargs):
        shown = tuple(_plain(a) for a in args)
        result = self._target(*args, **kwargs)
        self._log.append((self._id, shown, {k: _plain(v) for k, v in kwargs.items()}, _plain(result)))
        return result

    def __getattr__(self, name):
        return getattr(self._target, name)


def _plain(value):
    """A copy of an argument or a result as plain ndarrays, lists, tuples and numbers; a recorder as its StandIn."""
    if isinstance(value, Recorder):
        return StandIn(value._id)
    if isinstance(value, np.ndarray):
        return np.array(value, dtype=value.dtype if value.dtype != object else np.float64)
    if isinstance(value, (list, tuple)):
        out = [_plain(v) for v in value]
        return out if isinstance(value, list) else tuple(out)
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    return value


# --- the stand-ins of a case, wrapped -------------------------------------------------------------------------

#: The id a trusted stand-in is recorded under, by the object.
_IDS = {id(obj): name for name, obj in TRUSTED_NAMES.items()}
_IDS[id(_trusted.softmax_gradient)] = "softmax_gradient"


def _wrap_args(args, log):
    out = []
    for a in args:
        if callable(a) and id(a) in _IDS:
            out.append(Recorder(a, _IDS[id(a)], log))
        else:
            out.append(a)
    return tuple(out)


def _encode_args(args):
    return tuple(StandIn(_IDS[id(a)]) if callable(a) and id(a) in _IDS else _plain(a) for a in args)


def _swaps(spec, case, log):
    """The namespace bindings of ``spec`` for ``case``, every stand-in wrapped; fresh Dropout recorders per case."""
    swaps = {}
    for name, obj in (spec.swaps or {}).items():
        if isinstance(obj, _trusted.FrozenDropout):          # forward_propagate's "no Dropout here" recorder
            swaps[name] = Recorder(_trusted.FrozenDropout(0), "Dropout", log)
        else:
            swaps[name] = Recorder(obj, _IDS.get(id(obj), name), log)
    if hasattr(spec, "case_swaps") and getattr(spec, "ratio", 1) > 0:
        dropout = _trusted.FrozenDropout(case.seed)
        case.info["dropout"] = dropout
        frozen = Recorder(dropout, "Dropout", log)
        swaps["Dropout"] = frozen
        if "forward_propagate_dropout" in getattr(spec, "swapped_per_case", ()):
            swaps["forward_propagate_dropout"] = Recorder(_trusted.ForwardDropout(frozen), "forward_propagate_dropout", log)
    return swaps


# --- the value checks -------------------------------------------------------------------------------------------

def _spec(name, options, namespace):
    activation = options.get("activation")
    table = {
        "ReLU": lambda: ReLUSpec(), "ReLU_gradient": lambda: ReLUGradientSpec(), "sigmoid": lambda: SigmoidSpec(),
        "sigmoid_gradient": lambda: SigmoidGradientSpec(), "softmax": lambda: SoftmaxSpec(),
        "softmax_gradient": lambda: SoftmaxGradientSpec(), "forward_propagate": lambda: ForwardSpec(),
        "cost_fcn": lambda: CostSpec(),
        "backprop": lambda: BackpropSpec(activation or "relu", options.get("ratio", 0.0), namespace),
        "forward_propagate_dropout": lambda: ForwardDropoutSpec(activation or "sigmoid"),
        "ReLU_dropout_gradient": lambda: ReLUDropoutGradientSpec(),
    }
    return table[name]()


class _Visible:
    hidden, seed = False, None


def _kind(name):
    return {"softmax_gradient": "jacobian", "forward_propagate": "layers", "forward_propagate_dropout": "layers",
            "cost_fcn": "scalar", "backprop": "backprop", "ReLU_gradient": "either",
            "ReLU_dropout_gradient": "either"}.get(name, "array")


def _judge_info(name, spec, case):
    """What the kit's judge needs besides the expected value (no reference code: numbers only)."""
    z = case.args[0] if case.args else None
    if name == "ReLU_gradient":
        expected = spec.reference(case)
        return {"either": np.where(z == 0, 1.0, expected), "rtol": 1e-7}
    if name == "ReLU_dropout_gradient":
        mask = case.info["mask"]
        expected = spec.reference(case)
        return {"either": np.where(z == 0, np.broadcast_to(mask, z.shape), expected), "rtol": 1e-6}
    if name == "softmax_gradient":
        return {"errors": [e.copy() for e in spec._errors(case)]}
    if name == "backprop":
        return {"size": list(case.args[1])}
    return {}


def _run_value(spec, fn, namespace, case, style, log):
    log.append((RUN, (), {}, None))
    swaps = _swaps(spec, case, log)
    args = _wrap_args(case.args_for(style), log)
    (outcome,) = run([Call(fn, args, seed=case.seed)], namespaces(fn, namespace), swaps, None)
    return outcome


def _expected_after_run(spec, case):
    value = spec.expected(case)
    if isinstance(spec, BackpropSpec) and value is not None:
        value = (value[0], [np.asarray(t) for t in value[1]])
    return value


def record(name, options, implementations, check):
    """Record the visible check of ``name`` with ``options`` (as the release notebook calls it).

    Parameters
    ----------
    name : str, the graded function ("backprop")
    options : dict, the keywords of the notebook's visible call (activation=, ratio=)
    implementations : list of (label, fn, namespace): the reference answers first (they must pass), then
        the catalogued student implementations of this function
    check : the public check (``checks.check_backprop``), run on each implementation for its message

    Returns
    -------
    dict with keys ``kind``, ``names``, ``success`` (the message of a pass), ``cases`` (list of dict:
    label, args, seed, expected, info, answers: list of (stand-in id, args, kwargs, result)) and
    ``mistakes`` (list of dict: label, code, message, results: per case the (style, value) it returned, or None)
    """
    if name == "train":
        return _record_train(options, implementations, check)
    if name == "Dropout":
        return _record_dropout(implementations, check)
    label0, fn0, ns0 = implementations[0]
    spec = _spec(name, options, ns0)
    cases = spec.cases(_Visible())
    recorded = []
    for case in cases:
        log = []
        matrix = _run_value(spec, fn0, ns0, case, "matrix", log)
        outcome = _run_value(spec, fn0, ns0, case, "array", log)
        if not outcome.ok:
            outcome = _run_value(spec, fn0, ns0, case, "matrix", log)
        expected = _expected_after_run(spec, case)
        if not outcome.ok or expected is None or not spec.judge(case, outcome.value):
            raise RuntimeError(f"the reference {name} ({label0}) fails its own visible case {case.label}: "
                               f"{outcome.error!r}, matrix style: {matrix.error!r}")
        recorded.append({"label": case.label, "names": list(case.names), "args": _encode_args(case.args),
                         "seed": case.seed, "expected": _plain(expected), "info": _judge_info(name, spec, case),
                         "answers": log, "dropout_calls": _dropout_history(case)})
    mistakes = []
    for label, fn, ns in implementations[1:]:
        message, code = _message(check, fn, ns, options)
        results = []
        for case, rec in zip(cases, recorded):
            fresh = Case(case.label, case.kind, case.names, case.args, case.info, case.seed)
            outcome = _run_value(_spec(name, options, ns), fn, ns, fresh, "array", rec["answers"])
            style = "array"
            if not outcome.ok:
                outcome = _run_value(_spec(name, options, ns), fn, ns, fresh, "matrix", rec["answers"])
                style = "matrix"
            results.append((style, _plain(outcome.value)) if outcome.ok else None)
        if code is not None and code not in GENERIC:
            mistakes.append({"label": label, "code": code, "message": message, "results": results})
    swaps = set(spec.swaps or ()) | ({"Dropout"} if "dropout" in cases[0].info else set())
    swaps |= set(getattr(spec, "swapped_per_case", ())) & ({"Dropout", "forward_propagate_dropout"} if "dropout" in cases[0].info else set())
    return {"kind": _kind(name), "success": msg.success(name, len(cases)), "cases": recorded, "mistakes": mistakes,
            "swaps": sorted(swaps)}


def _dropout_history(case):
    dropout = case.info.get("dropout")
    if dropout is None:
        return None
    return [[n, r] for n, r, _ in dropout.calls]


def _message(check, fn, namespace, options):
    """(message, diagnosis code) of the real visible check on ``fn``, or (success text, None)."""
    try:
        return check(fn, namespace, **options), None
    except AssertionError as error:
        text = str(error)
        code = next((line.split(":", 1)[1].strip() for line in text.splitlines()
                     if line.startswith("诊断代码 / diagnosis code:")), "mismatch")
        return text, code


# --- train ----------------------------------------------------------------------------------------------------------

def _record_train(options, implementations, check):
    activation = options.get("activation", "relu")
    cases = train_cases(activation, False, None)
    label0, fn0, ns0 = implementations[0]
    recorded = []
    for case in cases:
        log = []
        _run_train(fn0, ns0, case, "matrix", log)
        outcome, calls = _run_train(fn0, ns0, case, "array", log)
        if not outcome.ok:
            outcome, calls = _run_train(fn0, ns0, case, "matrix", log)
        if not outcome.ok:
            raise RuntimeError(f"the reference train ({label0}) raised on case {case['label']}: {outcome.error!r}")
        X, Y, params, size, alpha, iters, f, g, ratio, step = case["args"]
        expected = train_expected(case)
        recorded.append({"label": case["label"], "names": list(TRAIN_NAMES), "args": _encode_args(case["args"]),
                         "seed": case["seed"], "expected": _plain(expected),
                         "info": {"index": [float(v) for v in case["index"]], "iters": iters, "ratio": ratio},
                         "answers": log, "dropout_calls": None})
    mistakes = []
    for label, fn, ns in implementations[1:]:
        message, code = _message(check, fn, ns, options)
        results = []
        for case, rec in zip(cases, recorded):
            outcome, calls = _run_train(fn, ns, case, "array", rec["answers"])
            style = "array"
            if not outcome.ok:
                outcome, calls = _run_train(fn, ns, case, "matrix", rec["answers"])
                style = "matrix"
            results.append((style, _plain(outcome.value), calls) if outcome.ok else None)
        if code is not None and code not in GENERIC:
            mistakes.append({"label": label, "code": code, "message": message, "results": results})
    return {"kind": "train", "success": msg.success("train", len(cases)), "cases": recorded, "mistakes": mistakes,
            "swaps": sorted(set(TRUSTED_NAMES) | {"backprop", "cost_fcn"})}


def _run_train(fn, namespace, case, style, log):
    """Run ``train`` on ``case`` with the recording backprop and cost_fcn wrapped; (Outcome, the index each got)."""
    log.append((RUN, (), {}, None))
    recorder = _trusted.RecordingBackprop(case["seed"])
    swaps = {name: Recorder(obj, name, log) for name, obj in TRUSTED_NAMES.items()}
    swaps["cost_fcn"] = Recorder(recorder.cost, "cost_fcn", log)
    swaps["backprop"] = Recorder(recorder, "backprop", log)
    X, Y, params, *rest = case["args"]
    if style == "matrix":
        args = (np.asmatrix(X.copy()), np.asmatrix(Y.copy()), params.copy(), *rest)
    else:
        args = (X.copy(), Y.copy(), params.copy(), *rest)
    args = _wrap_args(args, log)
    (outcome,) = run([Call(fn, args, seed=case["seed"])], namespaces(fn, namespace), swaps, None)
    calls = {"backprop": [None if c["index"] is None else c["index"].tolist() for c in recorder.calls],
             "cost_fcn": [None if c["index"] is None else c["index"].tolist() for c in recorder.cost.calls],
             "ratios": [c["ratio"] for c in recorder.calls]}
    return outcome, calls


# --- Dropout --------------------------------------------------------------------------------------------------------

def _record_dropout(implementations, check):
    """Dropout is judged on the masks themselves (``_dropout_masks``): only the cases and the message of a pass."""
    label0, fn0, ns0 = implementations[0]
    message, code = _message(check, fn0, ns0, {})
    if code is not None:
        raise RuntimeError(f"the reference Dropout ({label0}) fails its visible check: {message}")
    cases = [{"size": size, "ratio": ratio, "draws": draws, "seed": seed, "label": label,
              "num": keep_count(size, ratio)}
             for size, ratio, draws, seed, label in _dropout_cases(False, None)]
    return {"kind": "dropout", "success": message, "cases": cases, "mistakes": [], "swaps": []}


__all__ = ["GENERIC", "StandIn", "Recorder", "RUN", "record"]
