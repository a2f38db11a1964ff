"""Tests for autograder.checks: every student variant gets its verdict, and the checks cannot be fooled.

The catalogue of student implementations lives in ``autograder/variants/``;
each is judged in its own fresh notebook namespace, visible and hidden.
"""

import ast
import glob
import inspect
import math
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))

from autograder import variants  # noqa: E402

import reludrop_core  # noqa: E402
from autograder import checks  # noqa: E402
from autograder.checks import _cases, _compare, _runner, _trusted  # noqa: E402
from autograder.checks.activations import ReLUSpec, SoftmaxSpec  # noqa: E402
from autograder.checks.dropout import hoeffding_bound  # noqa: E402
from autograder.checks.relu_dropout import column_factor  # noqa: E402

VARIANTS = variants.load()
SEED = 4242


def run(variant, hidden, seed=SEED):
    """Judge ``variant`` in a fresh notebook; return (passed, message)."""
    ns, fn = variant.notebook()
    check = getattr(checks, "check_" + variant.check)
    try:
        return True, check(fn, ns, hidden=hidden, seed=seed, **variant.options)
    except AssertionError as exc:
        return False, str(exc)


def code_of(message):
    return message.split("diagnosis code: ", 1)[1].split("\n", 1)[0]


def is_chinese(line):
    return any("\u4e00" <= ch <= "\u9fff" for ch in line)


BUGGY = [v for v in VARIANTS if v.expect is not None]
CORRECT = [v for v in VARIANTS if v.expect is None]


def test_catalogue_size():
    """Does the catalogue hold at least 80 buggy and 55 correct-but-different implementations, the handout's included,
    and at least one of each for every check?"""
    assert len({id(v.fn) for v in BUGGY}) >= 80
    assert len({id(v.fn) for v in CORRECT}) >= 55
    for name in checks.__all__:
        judged = [v for v in VARIANTS if "check_" + v.check == name]
        assert any(v.expect is None for v in judged) and any(v.expect is not None for v in judged), name
    handout = {v.fn.__name__: v for v in VARIANTS if v.fn.__module__.endswith("handout")}
    assert handout["softmax_gradient"].expect == "softmax_grad_diagonal"
    assert handout["forward_propagate"].expect is None


@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
@pytest.mark.parametrize("variant", BUGGY, ids=[v.id for v in BUGGY])
def test_buggy_variant_fails_with_its_diagnosis(variant, hidden):
    """Does each buggy implementation fail its check, naming the mistake, Chinese first and then English?"""
    passed, message = run(variant, hidden)
    assert not passed, f"{variant.id} passed but should fail with {variant.expect}"
    assert code_of(message) == variant.expect, message
    first, second = message.split("\n")[:2]
    assert is_chinese(first) and not is_chinese(second) and "failed" in second


@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
@pytest.mark.parametrize("variant", CORRECT, ids=[v.id for v in CORRECT])
def test_correct_variant_passes(variant, hidden):
    """Does each correct-but-different implementation pass, with a short bilingual success message?"""
    passed, message = run(variant, hidden)
    assert passed, message
    assert message.startswith("✓") and is_chinese(message.split("\n")[0]) and "pass" in message.split("\n")[1]


def _variant(module, name, expect=None, **options):
    return next(v for v in VARIANTS if v.fn.__module__.endswith(module) and v.fn.__name__ == name
                and v.expect == expect and all(v.options.get(k) == x for k, x in options.items()))


# --- messages ------------------------------------------------------------------------------------------------

def test_unrecognised_mismatch_shows_the_first_differing_case():
    """Does an unrecognised mistake show the inputs, the expected and the obtained values and the relative error?"""
    passed, message = run(_variant("activations", "sigmoid", "mismatch"), hidden=False)
    assert not passed
    for label in ("输入 / input z", "期望 / expected", "得到 / got", "相对误差 / relative error"):
        assert label in message


def test_backprop_mismatch_reports_the_relative_error_per_layer():
    """Does an unrecognised backprop mistake list the relative error of each layer's gradient?"""
    passed, message = run(_variant("network", "backprop", "mismatch"), hidden=False)
    assert not passed
    assert "relative error per layer" in message and "thetas[0]:" in message and "thetas[1]:" in message


def test_hidden_flavour_needs_a_seed():
    """Is a hidden check without its seed refused?"""
    with pytest.raises(ValueError, match="seed"):
        checks.check_ReLU(lambda z: np.maximum(z, 0), hidden=True)


# --- delegation ----------------------------------------------------------------------------------------------

def _notebook(**names):
    ns = {"__name__": "__main__", "np": np}
    ns.update(names)
    return ns


def _define(ns, source):
    exec(compile(source, "<notebook cell>", "exec"), ns)


def test_the_reference_itself_scores_zero():
    """Does passing the reference's own ReLU score 0 with a message that says so?"""
    with pytest.raises(AssertionError, match="delegation") as info:
        checks.check_ReLU(reludrop_core.ReLU, hidden=True, seed=1)
    assert "参考实现" in str(info.value) and "reference implementation" in str(info.value)


def test_a_function_that_calls_the_reference_scores_zero():
    """Does a backprop that calls reludrop_core.backprop (imported in the notebook) score 0?"""
    ns = _notebook(ref_backprop=reludrop_core.backprop)
    _define(ns, "def backprop(params, size, index, X, Y, f, g, ratio=0.):\n"
                "    return ref_backprop(params, size, index, np.asarray(X), np.asarray(Y), f, g)\n")
    with pytest.raises(AssertionError, match="diagnosis code: delegation"):
        checks.check_backprop(ns["backprop"], ns)


def test_reaching_the_reference_through_sys_modules_is_caught_at_run_time():
    """Is a call reaching the reference by a route no static scan can see (sys.modules) caught, even if swallowed?"""
    ns = _notebook()
    _define(ns, "import sys\n"
                "def softmax(z):\n"
                "    try:\n"
                "        return getattr(sys.modules['reludrop_core.activations'], 'soft' + 'max')(z)\n"
                "    except:\n"
                "        return np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)\n")
    with pytest.raises(AssertionError, match="diagnosis code: delegation"):
        checks.check_softmax(ns["softmax"], ns)


def test_calling_the_graders_own_helpers_scores_zero():
    """Does a ReLU that calls the grading module's trusted ReLU score 0?"""
    ns = _notebook(checks=checks)
    _define(ns, "def ReLU(z):\n    return checks._trusted.ReLU(z)\n")
    with pytest.raises(AssertionError, match="diagnosis code: delegation"):
        checks.check_ReLU(ns["ReLU"], ns)


def test_earlier_functions_imported_from_the_core_are_not_delegation():
    """Does a softmax_gradient that calls the notebook's softmax, imported from reludrop_core, pass?

    Each notebook imports what earlier notebooks built from the core; the check swaps
    those names for its own stand-ins while the student's code runs.
    """
    ns = _notebook(softmax=reludrop_core.softmax)
    _define(ns, "def softmax_gradient(z):\n"
                "    s = softmax(z)\n"
                "    return s[:, :, None] * (np.eye(s.shape[1]) - s[:, None, :])\n")
    assert "✓" in checks.check_softmax_gradient(ns["softmax_gradient"], ns, hidden=True, seed=3)
    assert ns["softmax"] is reludrop_core.softmax


DROPOUT_BACKPROP = """
def Dropout(size, ratio):
    num = int(np.round(size * (1 - ratio)))
    ym = np.zeros(size)
    ym[np.random.permutation(size)[:num]] = size / num
    return ym

def forward_propagate_dropout(X, thetas, activate_fcn, ratio):
    z_out, a_out = [X], [X]
    for theta in thetas:
        z_out.append(a_out[-1] @ theta.T)
        a_out.append(activate_fcn(z_out[-1]) * Dropout(theta.shape[0], ratio))
    a_out[-1] = softmax(z_out[-1])
    return z_out, a_out

def backprop(params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio=0.):
    X, Y = np.asarray(X), np.asarray(Y)
    m = X.shape[0]
    thetas = unpack_params(params, size)
    if ratio > 0:
        z_out, a_out = forward_propagate_dropout(X, thetas, activate_fcn, ratio)
        cost = cost_fcn(params, size, index, X, Y, activate_fcn)
    else:
        z_out, a_out = forward_propagate(X, thetas, activate_fcn)
        cost = -np.sum(Y * np.log(a_out[-1])) / m
    grads, delta = [], (a_out[-1] - Y) / m
    for i in range(len(thetas) - 1, -1, -1):
        grads.append(delta.T @ a_out[i])
        if i > 0:
            g = activate_fcn(z_out[i])
            gain = np.divide(a_out[i], g, out=np.zeros_like(g), where=g != 0)
            delta = (delta @ thetas[i]) * gain * activate_fcn_gradient(z_out[i])
    return cost, np.concatenate([g.ravel() for g in grads[::-1]])
"""


@pytest.mark.parametrize("ratio", [0.0, 0.2])
def test_backprop_built_on_imported_helpers_passes(ratio):
    """Does a backprop that calls forward_propagate, cost_fcn, softmax and unpack_params imported from the core pass?"""
    ns = _notebook(**{name: getattr(reludrop_core, name) for name in
                      ("ReLU", "ReLU_gradient", "sigmoid", "sigmoid_gradient", "softmax",
                       "forward_propagate", "cost_fcn", "unpack_params", "layer_index")})
    _define(ns, DROPOUT_BACKPROP)
    for activation in ("relu", "sigmoid"):
        assert "✓" in checks.check_backprop(ns["backprop"], ns, activation=activation, ratio=ratio,
                                            hidden=True, seed=11)
    assert ns["forward_propagate"] is reludrop_core.forward_propagate


def test_calling_the_reference_of_the_graded_function_by_module_attribute_still_scores_zero():
    """Does a softmax_gradient that reaches reludrop_core.softmax_gradient through the module still score 0?"""
    ns = _notebook(rc=reludrop_core)
    _define(ns, "def softmax_gradient(z):\n    return rc.softmax_gradient(z)\n")
    with pytest.raises(AssertionError, match="diagnosis code: delegation"):
        checks.check_softmax_gradient(ns["softmax_gradient"], ns, hidden=True, seed=3)


def test_reference_functions_work_again_after_a_check():
    """Are the tripwires disarmed after a check, also one that failed?"""
    code = reludrop_core.ReLU.__code__
    with pytest.raises(AssertionError):
        checks.check_ReLU(reludrop_core.ReLU)
    assert reludrop_core.ReLU.__code__ is code
    assert np.array_equal(reludrop_core.ReLU(np.array([[-1.0, 2.0]])), [[0.0, 2.0]])


@pytest.mark.parametrize("piece", ["backward_propagate", "forward_propagate_masked", "cross_entropy"])
def test_calling_the_cores_frozen_mask_pieces_scores_zero(piece):
    """Does a backprop built on the core's public backward_propagate, forward_propagate_masked or cross_entropy score 0?"""
    ns = _notebook(**{name: getattr(reludrop_core, name) for name in
                      ("forward_propagate", "unpack_params", "backward_propagate", "forward_propagate_masked",
                       "cross_entropy")})
    calls = {"backward_propagate": "grads = backward_propagate(thetas, z_out, a_out, Y, g)\n"
                                   "    cost = -np.sum(Y * np.log(a_out[-1])) / X.shape[0]\n",
             "forward_propagate_masked": "z_out, a_out = forward_propagate_masked(X, thetas, f)\n"
                                         "    grads, cost = mine(thetas, z_out, a_out, Y, g)\n",
             "cross_entropy": "grads, _ = mine(thetas, z_out, a_out, Y, g)\n"
                              "    cost = cross_entropy(a_out[-1], Y)\n"}
    _define(ns, "def mine(thetas, z_out, a_out, Y, g):\n"
                "    delta, grads = (a_out[-1] - Y) / Y.shape[0], []\n"
                "    for i in range(len(thetas) - 1, -1, -1):\n"
                "        grads.insert(0, delta.T @ a_out[i])\n"
                "        if i:\n"
                "            delta = (delta @ thetas[i]) * g(z_out[i])\n"
                "    return grads, -np.sum(Y * np.log(a_out[-1])) / Y.shape[0]\n"
                "def backprop(params, size, index, X, Y, f, g, ratio=0.):\n"
                "    X, Y = np.asarray(X), np.asarray(Y)\n"
                "    thetas = unpack_params(params, size)\n"
                "    z_out, a_out = forward_propagate(X, thetas, f)\n"
                f"    {calls[piece]}"
                "    return cost, np.concatenate([t.ravel() for t in grads])\n")
    with pytest.raises(AssertionError, match="diagnosis code: delegation") as info:
        checks.check_backprop(ns["backprop"], ns)
    assert piece in str(info.value)


def test_the_checks_use_no_private_name_of_the_core():
    """Do the checks reach reludrop_core through its public names only (no `from reludrop_core.x import _y`, no `core._y`)?"""
    found = []
    for path in sorted(glob.glob(os.path.join(os.path.dirname(checks.__file__), "*.py"))):
        tree = ast.parse(open(path, encoding="utf-8").read())
        core_names = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.Import)
                      for a in n.names if a.name.startswith("reludrop_core")}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("reludrop_core"):
                found += [f"{os.path.basename(path)}: from {node.module} import {a.name}"
                          for a in node.names if a.name.startswith("_") or "._" in node.module]
            if (isinstance(node, ast.Attribute) and node.attr.startswith("_") and isinstance(node.value, ast.Name)
                    and node.value.id in core_names):
                found.append(f"{os.path.basename(path)}: {node.value.id}.{node.attr}")
    assert not found, found


# --- the checks' signatures ---------------------------------------------------------------------------------------

#: The modules that hold the check bodies (``check_X(fn, namespace=None, *, ..., ctx)``).
CHECK_MODULES = (checks.activations, checks.network, checks.dropout, checks.training, checks.relu_dropout)


@pytest.mark.parametrize("name", checks.__all__)
def test_every_check_shows_hidden_and_seed_but_its_body_only_reads_ctx(name):
    """Does check_X keep the notebooks' signature (fn, namespace=None, *, <options>, hidden=False, seed=None), its body
    taking the flavour through ctx alone?"""
    public = getattr(checks, name)
    params = list(inspect.signature(public).parameters.values())
    assert [p.name for p in params[:2]] == [name[len("check_"):], "namespace"] and params[1].default is None
    assert [(p.name, p.default, p.kind) for p in params[-2:]] == [
        ("hidden", False, inspect.Parameter.KEYWORD_ONLY), ("seed", None, inspect.Parameter.KEYWORD_ONLY)]
    assert "ctx" not in inspect.signature(public).parameters
    body = next(getattr(m, name) for m in CHECK_MODULES
                if hasattr(m, name))
    body_params = inspect.signature(body).parameters
    assert "ctx" in body_params and "hidden" not in body_params and "seed" not in body_params


@pytest.mark.parametrize("name", checks.__all__)
def test_every_keyword_a_check_body_takes_is_read(name):
    """Is every parameter of a check's body (its options, namespace, ctx) used in it: no keyword that nothing reads?"""
    body = next(getattr(m, name) for m in CHECK_MODULES
                if hasattr(m, name))
    tree = ast.parse(inspect.getsource(body))
    fn = tree.body[0]
    read = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    params = [a.arg for a in fn.args.args + fn.args.kwonlyargs]
    assert [p for p in params if p not in read] == []


def test_the_flavour_reaches_the_body_through_ctx():
    """Is the hidden flavour and its seed, passed to the public check, what the body's ctx holds?"""
    seen = {}

    def body(fn, namespace=None, *, ctx):
        seen.update(hidden=ctx.hidden, seed=ctx.seed)
        return "ok"

    public = checks._public(body, "ReLU", checks._holder, checks._TRIPWIRES)
    assert str(inspect.signature(public)) == "(fn, namespace=None, *, hidden=False, seed=None)"
    assert public(None, hidden=True, seed=7) == "ok" and seen == {"hidden": True, "seed": 7}
    assert public(None) == "ok" and seen == {"hidden": False, "seed": None}
    with pytest.raises(TypeError, match="hidden and seed"):
        checks._public(lambda fn, namespace=None, *, hidden=False, ctx: None, "ReLU", checks._holder,
                       checks._TRIPWIRES)


# --- cached answers -------------------------------------------------------------------------------------------

def test_stored_answers_for_the_visible_inputs_score_zero():
    """Does a ReLU that looks up the visible cases' answers pass the visible check but score 0 hidden, named?"""
    ctx = _runner.Ctx("ReLU", False, None, checks._holder[0], checks._TRIPWIRES)
    answers = {c.args[0].tobytes(): reludrop_core.ReLU(c.args[0]) for c in ReLUSpec().cases(ctx)}
    ns = _notebook(ANSWERS=answers)
    _define(ns, "def ReLU(z):\n"
                "    z = np.asarray(z, dtype=float)\n"
                "    return ANSWERS.get(z.tobytes(), z)\n")
    assert checks.check_ReLU(ns["ReLU"], ns).startswith("✓")
    with pytest.raises(AssertionError, match="diagnosis code: cached") as info:
        checks.check_ReLU(ns["ReLU"], ns, hidden=True, seed=3)
    assert "预先存好的答案" in str(info.value) and "stored answers" in str(info.value)


def test_answers_stored_by_shape_score_zero():
    """Does a backprop that returns the stored visible answer for each network shape score 0 hidden, named?"""
    from autograder.checks.network import BackpropSpec

    ctx = _runner.Ctx("backprop", False, None, checks._holder[0], checks._TRIPWIRES)
    answers = {}
    for c in BackpropSpec("relu", 0.0, None).cases(ctx):
        params, size, index, X, Y = c.args[:5]
        answers[params.size] = reludrop_core.backprop(params, size, index, X, Y, reludrop_core.ReLU,
                                                      reludrop_core.ReLU_gradient)
    ns = _notebook(ANSWERS=answers)
    _define(ns, "def backprop(params, size, index, X, Y, f, g, ratio=0.):\n"
                "    return ANSWERS[len(params)]\n")
    assert checks.check_backprop(ns["backprop"], ns).startswith("✓")
    with pytest.raises(AssertionError, match="diagnosis code: cached"):
        checks.check_backprop(ns["backprop"], ns, hidden=True, seed=3)


# --- mutation -----------------------------------------------------------------------------------------------------

def test_a_function_that_changes_its_input_scores_zero():
    """Does a softmax that subtracts the row maximum in place (changing the caller's z) score 0, named?"""
    ns = _notebook()
    _define(ns, "def softmax(z):\n"
                "    z -= z.max(axis=1, keepdims=True)\n"
                "    np.exp(z, out=z)\n"
                "    return z / z.sum(axis=1, keepdims=True)\n")
    with pytest.raises(AssertionError, match="diagnosis code: mutates_input") as info:
        checks.check_softmax(ns["softmax"], ns)
    assert "参数 z" in str(info.value)


# --- tampering ------------------------------------------------------------------------------------------------------

def test_rebinding_np_allclose_is_detected():
    """Does rebinding np.allclose make every check fail with 'tampering detected', and work again once restored?"""
    original = np.allclose
    np.allclose = lambda *a, **k: True
    try:
        with pytest.raises(AssertionError, match="diagnosis code: tampering") as info:
            checks.check_ReLU(_trusted_free_relu())
        assert "numpy.allclose" in str(info.value) and "检测到篡改" in str(info.value)
    finally:
        np.allclose = original
    assert checks.check_ReLU(_trusted_free_relu()).startswith("✓")


def _trusted_free_relu():
    ns = _notebook()
    _define(ns, "def ReLU(z):\n    return np.maximum(z, 0)\n")
    return ns["ReLU"]


def test_student_code_that_rebinds_numpy_while_running_is_caught():
    """Is a student function that rebinds np.array_equal when called caught, even though it was fine before?"""
    ns = _notebook()
    _define(ns, "def ReLU(z):\n"
                "    np.array_equal = lambda *a, **k: True\n"
                "    return np.minimum(z, 0)\n")
    original = np.array_equal
    try:
        with pytest.raises(AssertionError, match="diagnosis code: tampering"):
            checks.check_ReLU(ns["ReLU"], ns)
    finally:
        np.array_equal = original


def test_rebinding_the_checks_helpers_is_detected():
    """Does rebinding one of the grader's helpers, or swapping its code, make the check fail with 'tampering detected'?"""
    original = _compare.close
    _compare.close = lambda *a, **k: True
    try:
        with pytest.raises(AssertionError, match="diagnosis code: tampering"):
            checks.check_ReLU(_trusted_free_relu())
    finally:
        _compare.close = original
    code = _compare.rel_error.__code__
    _compare.rel_error.__code__ = (lambda a, b: 0.0).__code__
    try:
        with pytest.raises(AssertionError, match="diagnosis code: tampering"):
            checks.check_ReLU(_trusted_free_relu())
    finally:
        _compare.rel_error.__code__ = code
    assert checks.check_ReLU(_trusted_free_relu()).startswith("✓")


def test_rebinding_a_public_check_is_detected_by_the_next_check():
    """Is replacing checks.check_ReLU by a fake noticed by any other check that runs afterwards?"""
    original = checks.check_ReLU
    checks.check_ReLU = lambda *a, **k: "✓"
    try:
        with pytest.raises(AssertionError, match="diagnosis code: tampering"):
            checks.check_sigmoid(_variant("handout", "sigmoid").notebook()[1])
    finally:
        checks.check_ReLU = original


# --- determinism ----------------------------------------------------------------------------------------------------

def _hidden_cases(spec, seed):
    ctx = _runner.Ctx(spec.name, True, seed, checks._holder[0], checks._TRIPWIRES)
    return [c.args[0] for c in spec.cases(ctx)]


def test_hidden_cases_depend_only_on_the_seed():
    """Are the hidden cases the same for the same seed and different for another one?"""
    a, b, c = _hidden_cases(SoftmaxSpec(), 7), _hidden_cases(SoftmaxSpec(), 7), _hidden_cases(SoftmaxSpec(), 8)
    assert len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip(a[-6:], c[-6:]))


def test_hidden_cases_do_not_depend_on_global_random_state():
    """Does seeding numpy's global generator in the notebook leave the hidden cases unchanged?"""
    np.random.seed(1)
    a = _hidden_cases(ReLUSpec(), 11)
    np.random.seed(2)
    np.random.random(100)
    b = _hidden_cases(ReLUSpec(), 11)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("module, name, expect", [("dropout", "Dropout", "dropout_biased"),
                                                   ("network", "backprop", "dropout_gain_missing")])
def test_a_regrade_gives_the_same_message(module, name, expect):
    """Does grading the same submission twice give exactly the same message, random draws included?"""
    variant = _variant(module, name, expect)
    first, second = run(variant, True, seed=99), run(variant, True, seed=99)
    assert first == second and not first[0]


def test_hoeffding_bound_keeps_false_failures_below_1e_9():
    """Is the frequency test's bound wide enough: exact binomial tails, summed over the nodes, below 1e-9?"""
    for size, num, draws in ((10, 7, 1000), (20, 16, 1000), (33, 5, 2000), (8, 1, 2000)):
        p, t = num / size, hoeffding_bound(size, draws)
        log_pmf = [math.lgamma(draws + 1) - math.lgamma(k + 1) - math.lgamma(draws - k + 1)
                   + k * math.log(p) + (draws - k) * math.log(1 - p) for k in range(draws + 1)]
        tail = sum(math.exp(lp) for k, lp in enumerate(log_pmf) if abs(k / draws - p) >= t)
        assert size * tail < 1e-9


# --- silence and restoration -------------------------------------------------------------------------------------------

def test_a_naive_sigmoid_that_warns_passes_without_writing_to_stderr(capfd):
    """Does the handout's overflowing sigmoid get full marks with nothing on stdout or stderr?"""
    variant = _variant("handout", "sigmoid")
    for hidden in (False, True):
        passed, message = run(variant, hidden)
        assert passed, message
    out, err = capfd.readouterr()
    assert err == "" and out == ""


def test_a_relu_dropout_gradient_that_warns_passes_without_writing_to_stderr(capfd):
    """Does a ReLU_dropout_gradient computing a / z inside np.where (0/0 warns where z == 0) get full marks, silently?"""
    ns = _notebook()
    _define(ns, "def ReLU_dropout_gradient(z, a):\n    return np.where(z > 0, a / z, 0)\n")
    assert checks.check_ReLU_dropout_gradient(ns["ReLU_dropout_gradient"], ns).startswith("✓")
    assert checks.check_ReLU_dropout_gradient(ns["ReLU_dropout_gradient"], ns, hidden=True, seed=247809).startswith("✓")
    out, err = capfd.readouterr()
    assert err == "" and out == ""


def test_relu_dropout_gradient_accepts_either_value_at_zero_column_by_column():
    """At z == 0, is the column's own gain accepted (ReLU'(0) = 1), and another column's gain refused?"""
    z = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0]])
    gain = np.array([1.25, 0.0, 2.0])
    assert column_factor(np.array([[1.25, 0.0, 2.0], [0.0, 0.0, 2.0]]), z, gain)
    assert column_factor(np.array([[0.0, 0.0, 2.0], [0.0, 0.0, 0.0]]), z, gain)
    assert not column_factor(np.array([[2.0, 0.0, 2.0], [0.0, 0.0, 0.0]]), z, gain)
    assert not column_factor(np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 0.0]]), z, gain)


def test_a_wrong_index_names_the_expected_and_the_received_one():
    """Does a train that passes backprop np.cumsum(size[1:] * size[:1]) fail, naming both index arrays and the slip?"""
    variant = next(v for v in VARIANTS if v.expect == "train_wrong_index" and "size[:1]" in inspect.getsource(v.fn))
    passed, message = run(variant, hidden=False)
    assert not passed and code_of(message) == "train_wrong_index"
    assert "[30, 50]" in message and "[30, 54]" in message and "size[:1]" in message


def test_a_failing_check_and_noisy_student_code_write_nothing(capfd):
    """Is a failing check silent too, even when the student's code prints and warns (to stdout and stderr)?"""
    ns = _notebook()
    _define(ns, "import sys, warnings\n"
                "def softmax(z):\n"
                "    print('debug', z.shape)\n"
                "    print('oops', file=sys.stderr)\n"
                "    warnings.warn('student warning')\n"
                "    d = np.exp(z)\n"
                "    return d / d.sum(axis=1, keepdims=True)\n")
    with pytest.raises(AssertionError, match="softmax_overflow"):
        checks.check_softmax(ns["softmax"], ns, hidden=True, seed=5)
    out, err = capfd.readouterr()
    assert err == "" and out == ""


@pytest.mark.parametrize("expect", [None, "dropout_on_output"])
def test_freezing_dropout_restores_the_namespace(expect):
    """After a Dropout-freezing check, passing or failing, are Dropout and the activations the notebook's own again?"""
    variant = _variant("dropout", "forward_propagate_dropout", expect, activation="sigmoid")
    ns, fn = variant.notebook()
    before = dict(ns)
    state = np.random.get_state()
    try:
        checks.check_forward_propagate_dropout(fn, ns, hidden=True, seed=2)
    except AssertionError:
        assert expect is not None
    assert ns.keys() == before.keys() and all(ns[k] is before[k] for k in before)
    after = np.random.get_state()
    assert all(np.array_equal(x, y) for x, y in zip(state[1:2], after[1:2])) and state[2:] == after[2:]


def test_a_namespace_without_the_frozen_names_gets_none_added():
    """Does a check leave no Dropout or activation behind in a namespace that had none?"""
    variant = _variant("handout", "backprop", "dropout_mask_not_applied", activation="sigmoid")
    ns, fn = variant.notebook()
    extra = {"__name__": "__main__"}
    with pytest.raises(AssertionError):
        checks.check_backprop(fn, extra, activation="sigmoid", ratio=0.2)
    assert extra == {"__name__": "__main__"}


# --- the grader's stand-ins agree with the reference ------------------------------------------------------------------

@pytest.mark.parametrize("activation", ["relu", "sigmoid", "softmax"])
def test_recording_backprop_agrees_with_the_reference(activation):
    """Does the stand-in backprop handed to train give the reference's cost and gradient?"""
    rng = np.random.default_rng(0)
    size, index, X, Y, params = _cases.network(rng, [7, 5, 6, 3], 6)
    f, g = _trusted.ACTIVATIONS[activation]
    ref = {"relu": (reludrop_core.ReLU, reludrop_core.ReLU_gradient),
           "sigmoid": (reludrop_core.sigmoid, reludrop_core.sigmoid_gradient),
           "softmax": (reludrop_core.softmax, reludrop_core.softmax_gradient)}[activation]
    cost, grad = _trusted.RecordingBackprop(0)(params, size, index, np.asmatrix(X), Y, f, g)
    ref_cost, ref_grad = reludrop_core.backprop(params, size, index, X, Y, *ref)
    assert abs(cost - ref_cost) < 1e-12 and _compare.rel_error(grad, ref_grad) < 1e-12


def test_frozen_dropout_expectation_matches_the_public_reference():
    """With Dropout frozen, is the expected gradient the one reludrop_core.backprop gives for the same masks?"""
    from autograder.checks.network import BackpropSpec

    rng = np.random.default_rng(5)
    size, index, X, Y, params = _cases.network(rng, [6, 5, 4, 3], 5)
    spec = BackpropSpec("sigmoid", 0.4, None)
    case = _cases.Case("#1", "visible", spec.names, (params, size, index, X, Y, _trusted.sigmoid,
                                                     _trusted.sigmoid_gradient, 0.4), seed=17)
    frozen = spec.case_swaps(case)["Dropout"]
    for w in size[1:-1]:
        frozen(w, 0.4)
    cost, grads = spec.expected(case)
    ref_cost, ref_grad = reludrop_core.backprop(params, size, index, X, Y, reludrop_core.sigmoid,
                                                reludrop_core.sigmoid_gradient, 0.4, seed=np.random.default_rng(17))
    assert abs(cost - ref_cost) < 1e-12
    assert _compare.rel_error(np.concatenate([g.ravel() for g in grads]), ref_grad) < 1e-12


@pytest.mark.parametrize("name", checks.__all__)
def test_the_stub_as_released_is_named_not_written_yet(name):
    """Does every check say, first and in both languages, that a function still raising the release's
    NotImplementedError is not written yet (not a crash with a traceback, not a mismatch)?"""
    function = name.removeprefix("check_")
    ns = {"__name__": "__main__", "np": np}
    exec(f"def {function}(*args, **kwargs):\n    raise NotImplementedError()\n", ns)
    with pytest.raises(AssertionError) as failed:
        getattr(checks, name)(ns[function], ns)
    message = str(failed.value)
    assert code_of(message) == "not_implemented"
    first, second = message.split("\n")[:2]
    assert first.startswith(f"{function}（可见测试）未通过：{function} 还没有实现") and "NotImplementedError" in first
    assert second.startswith(f"{function} (visible test) failed: {function} is not written yet")
