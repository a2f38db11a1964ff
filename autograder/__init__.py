"""autograder: the grading checks that the notebooks' hidden tests call, and the instructor tools.

``from autograder import checks`` in a notebook's read-only first cell, then
``checks.check_<name>(student_function, globals(), hidden=True, seed=...)``
in the hidden part of each test cell; see ``autograder.checks``.
"""

from . import checks
from .checks import (
    check_backprop,
    check_cost_fcn,
    check_Dropout,
    check_forward_propagate,
    check_forward_propagate_dropout,
    check_ReLU,
    check_ReLU_gradient,
    check_sigmoid,
    check_sigmoid_gradient,
    check_softmax,
    check_softmax_gradient,
    check_train,
)

__all__ = [
    "checks",
    "check_ReLU", "check_ReLU_gradient", "check_sigmoid", "check_sigmoid_gradient",
    "check_softmax", "check_softmax_gradient", "check_forward_propagate", "check_cost_fcn",
    "check_backprop", "check_train", "check_Dropout", "check_forward_propagate_dropout",
]
