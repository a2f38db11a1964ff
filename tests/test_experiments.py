"""Tests for reludrop_core.experiments: the handout's four experiments and the command line."""

import os
import re
import subprocess
import sys

import numpy as np
import pytest
from reference import (
    assert_bilingual,
    course_data,
    ref_forward,
    ref_handout_cost,
    ref_loss,
    ref_relu,
    ref_sigmoid,
    ref_softmax,
    ref_unpack,
)

from reludrop_core import (
    ReLU,
    ReLU_gradient,
    init_params,
    noisy_digits,
    sigmoid,
    sigmoid_gradient,
    softmax,
    softmax_gradient,
    train,
)
from reludrop_core.experiments import run_experiment

#: The handout's settings, typed in from the handout: size, activation pair, reference activation, alpha, ratio.
HANDOUT = {
    "relu": ([25, 20, 20, 20, 5], ReLU, ReLU_gradient, ref_relu, 0.05, 0.0),
    "softmax": ([25, 50, 5], softmax, softmax_gradient, ref_softmax, 0.05, 0.0),
    "sigmoid-dropout": ([25, 20, 20, 20, 5], sigmoid, sigmoid_gradient, ref_sigmoid, 0.1, 0.2),
    "relu-dropout": ([25, 20, 20, 20, 5], ReLU, ReLU_gradient, ref_relu, 0.05, 0.2),
}

#: Upper bounds on the final loss after 10000 epochs: "small". The single-hidden-layer
#: softmax network learns much more slowly (the handout's point), hence its looser bound.
SMALL_LOSS = {"relu": 1e-3, "softmax": 0.1, "sigmoid-dropout": 1e-3, "relu-dropout": 1e-3}


@pytest.fixture(scope="module")
def results():
    """The four experiments with seed 0 and the default 10000 epochs, run once for this module."""
    return {name: run_experiment(name, 0) for name in HANDOUT}


@pytest.mark.parametrize("name", list(HANDOUT))
def test_experiment_classifies_all_five_digits(results, name):
    """With seed 0 and 10000 epochs, does the experiment classify all five training digits, with a small final loss?"""
    r = results[name]
    np.testing.assert_array_equal(r.predicted, [1, 2, 3, 4, 5])
    assert r.cost.shape == (10000,)
    assert r.final_loss < SMALL_LOSS[name]
    assert r.cost[-1] < r.cost[0] / 10


@pytest.mark.parametrize("name", list(HANDOUT))
def test_experiment_result_fields_are_consistent(results, name):
    """Are final_loss, handout_loss, predicted and noisy_accuracy what the trained params give, recomputed independently?"""
    r = results[name]
    size, _, _, ref_act, _, _ = HANDOUT[name]
    X, Y, labels = course_data()
    thetas = ref_unpack(r.params, size)
    h = ref_forward(X, thetas, ref_act)[1][-1]
    assert r.name == name and r.seed == 0
    assert r.final_loss == pytest.approx(ref_loss(r.params, size, X, Y, ref_act), rel=1e-9)
    assert r.handout_loss == pytest.approx(ref_handout_cost(h, Y), rel=1e-6)
    np.testing.assert_array_equal(r.predicted, np.argmax(h, axis=1) + 1)
    Xn, _, labels_n = noisy_digits(2, 20, seed=12345)
    picked = np.argmax(ref_forward(Xn, thetas, ref_act)[1][-1], axis=1) + 1
    assert r.noisy_accuracy == pytest.approx(np.mean(picked == labels_n))
    assert r.noisy_accuracy > 0.5                 # well above chance (0.2) on slightly noisy digits


@pytest.mark.parametrize("name", list(HANDOUT))
def test_experiment_uses_the_handouts_settings(name):
    """Is an experiment train() with the handout's size, activation, alpha and ratio, weights and masks from one Generator?"""
    size, act, act_grad, _, alpha, ratio = HANDOUT[name]
    X, Y, _ = course_data()
    rng = np.random.default_rng(3)
    want_p, want_cost = train(X, Y, init_params(size, seed=rng), size, alpha, 25, act, act_grad, ratio=ratio, seed=rng)
    r = run_experiment(name, 3, 25)
    np.testing.assert_allclose(r.params, want_p, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(r.cost, want_cost, rtol=1e-12)


def test_experiments_are_reproducible_and_seed_dependent():
    """Does the same seed give the same run, and another seed another run?"""
    a, b, c = (run_experiment("relu-dropout", seed, 50) for seed in (1, 1, 2))
    np.testing.assert_array_equal(a.params, b.params)
    np.testing.assert_array_equal(a.cost, b.cost)
    assert not np.allclose(a.params, c.params)


def test_unknown_experiment_name():
    """Is an unknown experiment name a ValueError that lists the valid names?"""
    with pytest.raises(ValueError, match=r"name must be one of \['relu', 'softmax'") as excinfo:
        run_experiment("ReLU")
    assert_bilingual(excinfo)


# --- the command line --------------------------------------------------------

def cli(*args):
    """Run ``python -m reludrop_core`` in a fresh interpreter; return the CompletedProcess."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "reludrop_core", *args], capture_output=True, text=True,
                          env=env, timeout=120)


def parse_report(text):
    """The numbers each report prints: list of (name, predicted digits, final loss, handout loss)."""
    pattern = re.compile(
        r"== (\S+) \(seed \d+, \d+ epochs\).*?\n"
        r"\s+predicted digit for images 1 2 3 4 5: ([\d ]+)\n"
        r"\s+final loss, categorical cross-entropy: (\S+)\n"
        r"\s+the handout's printed figure.*?: (\S+)\n")
    return [(name, [int(d) for d in digits.split()], float(loss), float(handout))
            for name, digits, loss, handout in pattern.findall(text)]


def test_cli_experiment_prints_digits_and_both_losses(results):
    """Does `experiment relu` print the predicted digits 1 2 3 4 5 and both losses of the seed-0, 10000-epoch run?"""
    out = cli("experiment", "relu")
    assert out.returncode == 0, out.stderr
    reports = parse_report(out.stdout)
    assert len(reports) == 1
    name, digits, loss, handout = reports[0]
    assert name == "relu" and digits == [1, 2, 3, 4, 5]
    assert loss == pytest.approx(results["relu"].final_loss, rel=1e-5)
    assert handout == pytest.approx(results["relu"].handout_loss, rel=1e-5)


def test_cli_all_with_plot(tmp_path):
    """Does `experiment all --epochs 300 --plot FILE` report all four experiments and write a PNG?"""
    target = tmp_path / "curves.png"
    out = cli("experiment", "all", "--epochs", "300", "--plot", str(target))
    assert out.returncode == 0, out.stderr
    reports = parse_report(out.stdout)
    assert [r[0] for r in reports] == list(HANDOUT)
    for name, digits, loss, _ in reports:
        r = run_experiment(name, 0, 300)
        assert digits == list(r.predicted)
        assert loss == pytest.approx(r.final_loss, rel=1e-5)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert target.stat().st_size > 1000
    assert f"figure written to {target}" in out.stdout


def test_cli_seeds_prints_spread():
    """Does `--seeds 0:3 --epochs 300` print one row per seed and a spread line with min <= median <= max?"""
    out = cli("experiment", "relu", "--seeds", "0:3", "--epochs", "300")
    assert out.returncode == 0, out.stderr
    rows = re.findall(r"^\s+(\d+)\s+(\S+)\s+(\d)/5", out.stdout, flags=re.M)
    assert [int(s) for s, _, _ in rows] == [0, 1, 2]
    spread = re.search(r"final loss: min (\S+), median (\S+), max (\S+) .*all 5 digits right in (\d+)/3 runs",
                       out.stdout)
    assert spread, out.stdout
    lo, mid, hi = (float(v) for v in spread.groups()[:3])
    assert lo <= mid <= hi
    losses = sorted(run_experiment("relu", s, 300).final_loss for s in range(3))
    np.testing.assert_allclose([lo, mid, hi], losses, rtol=1e-3)
    assert int(spread.group(4)) == sum(int(c) == 5 for _, _, c in rows)


@pytest.mark.parametrize("args", [
    ["experiment", "relu", "--seeds", "5"],
    ["experiment", "relu", "--seeds", "a:b"],
    ["experiment", "relu", "--seeds", "3:1"],
    ["experiment", "relu", "--seeds", "2:2"],
    ["experiment", "relu", "--seeds", "0:2:4"],
    ["experiment", "relu", "--epochs", "0"],
    ["experiment", "ReLU"],
    [],
])
def test_cli_usage_errors(args):
    """Is a bad --seeds (or --epochs, or experiment name) a usage error with exit code 2 and a message naming the problem?"""
    out = cli(*args)
    assert out.returncode == 2
    assert "usage:" in out.stderr
    if "--seeds" in args:
        assert "--seeds" in out.stderr.split("error:")[-1]
