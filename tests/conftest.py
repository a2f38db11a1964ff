"""Shared set-up for the reludrop_core tests.

* matplotlib draws off screen (Agg) and every figure is closed after each test.
* hypothesis has no deadline (the first example pays for imports); set
  HYPOTHESIS_PROFILE=thorough for a long run with 10 times the examples
  (see ``reference.examples``).
* numpy's global random state is restored after every test, since a few
  tests seed it on purpose (the handout draws from it when seed is None).
"""

import os

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
# Under CI (CI=true) the examples are derandomised, so a CI run is repeatable.
settings.register_profile("reludrop", derandomize=bool(os.environ.get("CI")), **_COMMON)
settings.register_profile("thorough", **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "reludrop"))


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(autouse=True)
def _restore_global_rng():
    state = np.random.get_state()
    yield
    np.random.set_state(state)


def pytest_configure(config):
    # The handout passes np.matrix everywhere and the tests check it is still accepted;
    # numpy's "the matrix subclass is not the recommended way" notice is expected then.
    config.addinivalue_line("filterwarnings", "ignore:the matrix subclass:PendingDeprecationWarning")
