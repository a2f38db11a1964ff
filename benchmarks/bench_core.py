"""Time the core's training loop against a handout-style np.matrix implementation.

    python benchmarks/bench_core.py [--epochs N] [--repeat R]

For each of the handout's four experiments, both implementations train from
the same initial parameters; the table gives microseconds per epoch (best of
R runs) and the speed-up. On experiment A (ReLU, no Dropout, full batch),
where the handout's gradient is already exact, both must end with the same
parameters: the script prints the largest difference. Last, the wall time of
one whole CLI process, ``python -m reludrop_core experiment relu``.
Targets (issue 2): experiment A at least 5x faster; the CLI under 1 s.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import handout_style as hs  # noqa: E402

import reludrop_core as rc  # noqa: E402
from reludrop_core.experiments import ACTIVATIONS, EXPERIMENTS  # noqa: E402

HANDOUT_ACTIVATIONS = {
    "ReLU": (hs.ReLU, hs.ReLU_gradient),
    "sigmoid": (hs.sigmoid, hs.sigmoid_gradient),
    "softmax": (hs.softmax, hs.softmax_gradient),
}


def best_time(fn, repeat):
    """Run ``fn`` ``repeat`` times; return (best seconds, last result)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def time_experiment(name, epochs, repeat):
    spec = EXPERIMENTS[name]
    size, alpha, ratio = spec["size"], spec["alpha"], spec["ratio"]
    X, Y, _ = rc.load_digits()
    params = rc.init_params(size, seed=0)

    def core():
        return rc.train(X, Y, params, size, alpha, epochs, *ACTIVATIONS[spec["activation"]], ratio=ratio, seed=1)

    def handout():
        np.random.seed(1)   # the handout draws Dropout masks from numpy's global generator
        with np.errstate(all="ignore"):     # its binary cross-entropy takes log(1 - h) of h == 1
            return hs.train(np.matrix(X), np.matrix(Y), params, size, alpha, epochs,
                            *HANDOUT_ACTIVATIONS[spec["activation"]], ratio)

    t_core, (p_core, _) = best_time(core, repeat)
    t_handout, (p_handout, _) = best_time(handout, repeat)
    return t_core, t_handout, float(np.max(np.abs(np.asarray(p_core) - np.asarray(p_handout).ravel())))


def cli_wall_time(repeat):
    cmd = [sys.executable, "-m", "reludrop_core", "experiment", "relu"]
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    print(f"numpy {np.__version__}, {args.epochs} epochs, best of {args.repeat}")
    print("| experiment | core (us/epoch) | handout style (us/epoch) | speed-up |")
    print("|---|---:|---:|---:|")
    diff_a = None
    for name in EXPERIMENTS:
        t_core, t_handout, diff = time_experiment(name, args.epochs, args.repeat)
        if name == "relu":
            diff_a = diff
        print(f"| {name} | {t_core / args.epochs * 1e6:.1f} | {t_handout / args.epochs * 1e6:.1f} "
              f"| {t_handout / t_core:.2f}x |")
    print(f"experiment A (relu): max |params_core - params_handout| after training = {diff_a:.3g}")
    print(f"CLI, whole process (python -m reludrop_core experiment relu): {cli_wall_time(args.repeat):.2f} s")


if __name__ == "__main__":
    main()
