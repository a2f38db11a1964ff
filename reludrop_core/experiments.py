"""The handout's four experiments, reproducible from a seed, and the command line that runs them.

    python -m reludrop_core experiment relu|softmax|sigmoid-dropout|relu-dropout|all
        [--seed N] [--epochs N] [--plot FILE] [--seeds A:B]
"""

import argparse
import sys
from dataclasses import dataclass

import numpy as np

from ._checks import message
from .activations import ReLU, ReLU_gradient, sigmoid, sigmoid_gradient, softmax, softmax_gradient
from .data import load_digits, noisy_digits
from .network import cost_fcn, handout_cost, init_params, layer_index, predict
from .training import train

ACTIVATIONS = {
    "ReLU": (ReLU, ReLU_gradient),
    "sigmoid": (sigmoid, sigmoid_gradient),
    "softmax": (softmax, softmax_gradient),
}

#: The handout's settings: layer widths, hidden activation, learning rate, Dropout ratio.
EXPERIMENTS = {
    "relu": dict(size=[25, 20, 20, 20, 5], activation="ReLU", alpha=0.05, ratio=0.0),
    "softmax": dict(size=[25, 50, 5], activation="softmax", alpha=0.05, ratio=0.0),
    "sigmoid-dropout": dict(size=[25, 20, 20, 20, 5], activation="sigmoid", alpha=0.1, ratio=0.2),
    "relu-dropout": dict(size=[25, 20, 20, 20, 5], activation="ReLU", alpha=0.05, ratio=0.2),
}

#: Noisy test set: copies of each digit with this many pixels flipped, from a fixed seed.
NOISY_FLIPS, NOISY_COPIES, NOISY_SEED = 2, 20, 12345


@dataclass
class Result:
    """What one training run produced."""

    name: str
    seed: int
    params: np.ndarray        # (index[-1],) trained parameters
    cost: np.ndarray          # (epochs,) loss history
    predicted: np.ndarray     # (5,) digits picked for the training images
    final_loss: float         # categorical cross-entropy after training
    handout_loss: float       # the handout's printed figure after training
    noisy_accuracy: float     # accuracy on the noisy test set


def run_experiment(name, seed=0, epochs=10000):
    """Train one of the handout's experiments from ``seed``.

    Parameters
    ----------
    name : one of ``EXPERIMENTS``
    seed : int, seeds both the initial weights and the Dropout masks
    epochs : int >= 1

    Returns
    -------
    result : Result
    """
    if name not in EXPERIMENTS:
        raise ValueError(message(f"实验名 name 必须是 {list(EXPERIMENTS)} 之一，收到 {name!r}。",
                                 f"name must be one of {list(EXPERIMENTS)}, got {name!r}."))
    spec = EXPERIMENTS[name]
    size = spec["size"]
    act, act_grad = ACTIVATIONS[spec["activation"]]
    X, Y, _ = load_digits()
    rng = np.random.default_rng(seed)
    params, cost = train(X, Y, init_params(size, seed=rng), size, spec["alpha"], epochs, act, act_grad,
                         ratio=spec["ratio"], seed=rng)
    index = layer_index(size)
    Xn, _, labels_n = noisy_digits(NOISY_FLIPS, NOISY_COPIES, seed=NOISY_SEED)
    return Result(
        name=name, seed=seed, params=params, cost=cost,
        predicted=predict(params, size, X, act),
        final_loss=cost_fcn(params, size, index, X, Y, act),
        handout_loss=handout_cost(params, size, index, X, Y, act),
        noisy_accuracy=float(np.mean(predict(params, size, Xn, act) == labels_n)),
    )


def describe(name):
    """One line with an experiment's settings."""
    s = EXPERIMENTS[name]
    return f"size {s['size']}, hidden {s['activation']}, alpha {s['alpha']}, ratio {s['ratio']}"


def report(result):
    """The lines the command line prints for one run."""
    return [
        f"== {result.name} (seed {result.seed}, {result.cost.size} epochs): {describe(result.name)}",
        "   predicted digit for images 1 2 3 4 5: " + " ".join(str(d) for d in result.predicted),
        f"   final loss, categorical cross-entropy: {result.final_loss:.6g}",
        f"   the handout's printed figure (binary cross-entropy summed over outputs): {result.handout_loss:.6g}",
        f"   accuracy on {5 * NOISY_COPIES} noisy test digits ({NOISY_FLIPS} pixels flipped): {result.noisy_accuracy:.0%}",
    ]


def spread(name, seeds, epochs):
    """Final loss and accuracy over many seeds (the handout's exercise 13).

    Returns
    -------
    lines : list of str, a table and a summary
    """
    X, _, labels = load_digits()
    rows, losses = [f"== {name} over seeds {seeds[0]}..{seeds[-1]}: {describe(name)}",
                    "   seed  final loss    train correct  noisy accuracy"], []
    correct_runs = 0
    for seed in seeds:
        r = run_experiment(name, seed, epochs)
        correct = int(np.sum(r.predicted == labels))
        correct_runs += correct == len(labels)
        losses.append(r.final_loss)
        rows.append(f"   {seed:4d}  {r.final_loss:11.4e}  {correct}/5            {r.noisy_accuracy:.0%}")
    losses = np.array(losses)
    rows.append(f"   final loss: min {losses.min():.3e}, median {np.median(losses):.3e}, max {losses.max():.3e} "
                f"(max/min = {losses.max() / losses.min():.3g}); all 5 digits right in {correct_runs}/{len(seeds)} runs")
    return rows


def _seed_range(text):
    try:
        start, stop = (int(part) for part in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--seeds takes A:B, e.g. 0:20, not {text!r}") from None
    if stop <= start:
        raise argparse.ArgumentTypeError(f"--seeds A:B needs B > A, got {text!r}")
    return list(range(start, stop))


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m reludrop_core", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    exp = sub.add_parser("experiment", help="run one of the handout's experiments, or all four")
    exp.add_argument("name", choices=[*EXPERIMENTS, "all"])
    exp.add_argument("--seed", type=int, default=0, help="seed for the weights and the Dropout masks (default 0)")
    exp.add_argument("--epochs", type=_positive, default=10000, help="epochs of training (default 10000)")
    exp.add_argument("--plot", metavar="FILE", help="write the loss curves to this image file")
    exp.add_argument("--seeds", type=_seed_range, metavar="A:B",
                     help="run seeds A..B-1 and print the spread of final loss and accuracy")
    args = parser.parse_args(argv)

    names = list(EXPERIMENTS) if args.name == "all" else [args.name]
    if args.seeds:
        for name in names:
            print("\n".join(spread(name, args.seeds, args.epochs)))
        return 0
    results = [run_experiment(name, args.seed, args.epochs) for name in names]
    for r in results:
        print("\n".join(report(r)))
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        from .plots import plot_costs

        ax = plot_costs({r.name: r.cost for r in results},
                        title=f"the handout's experiments (their sizes, alpha, ratio), seed {args.seed}")
        ax.figure.savefig(args.plot, dpi=120, bbox_inches="tight")
        print(f"figure written to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
