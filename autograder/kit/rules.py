"""Which functions each assignment grades, and which ones a student kit may implement.

A kit of assignment K implements none of the functions graded in K, and none graded in a later
assignment unless an earlier one graded it too; of the functions graded earlier, only those of
assignments whose solutions the instructor has released (``c.StudentKit.released_solutions``)::

    allowed(K, released) = (union of graded(A) for A in released, A before K) - graded(K)
    forbidden(K, released) = every graded function - allowed(K, released)

``IMPLEMENTS`` says which functions of ``reludrop_core`` (public or private) compute a graded function,
so that "under any name" covers the core's own helpers (``_propagate`` is a forward pass).
"""

import json
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent

#: The course's assignments in course order (nbgrader_config.py lists the same).
ASSIGNMENTS = ("01_relu_network", "02_softmax_comparison", "03_sigmoid_dropout", "04_relu_dropout")

#: reludrop_core's functions that compute a graded function, by the graded function's name.
IMPLEMENTS = {
    "ReLU": ("ReLU",),
    "ReLU_gradient": ("ReLU_gradient",),
    "sigmoid": ("sigmoid",),
    "sigmoid_gradient": ("sigmoid_gradient",),
    "softmax": ("softmax", "_softmax"),
    "softmax_gradient": ("softmax_gradient",),
    "forward_propagate": ("forward_propagate", "_propagate", "forward_propagate_masked"),
    "cost_fcn": ("cost_fcn", "cross_entropy", "_cross_entropy"),
    "backprop": ("backprop", "_backprop", "backward_propagate", "_backward", "activation_backward"),
    "train": ("train",),
    "Dropout": ("Dropout", "_dropout"),
    "forward_propagate_dropout": ("forward_propagate_dropout", "_forward_dropout"),
    "ReLU_dropout_gradient": ("gains_from_forward",),
}

_CHECK_CALL = re.compile(r"\bchecks\.check_(\w+)\(")


class KitError(Exception):
    """A kit that cannot be built as asked (an unknown assignment, solutions it needs not released...)."""


def source_notebook(assignment, root=ROOT):
    """solutions/<assignment>/<assignment>.ipynb, the instructor's notebook."""
    return pathlib.Path(root) / "solutions" / assignment / f"{assignment}.ipynb"


def release_notebook(assignment, root=ROOT):
    """notebooks/<assignment>/<assignment>.ipynb, nbgrader's student release."""
    return pathlib.Path(root) / "notebooks" / assignment / f"{assignment}.ipynb"


def check_assignment(assignment):
    if assignment not in ASSIGNMENTS:
        raise KitError(f"没有作业 {assignment!r}：可选的有 {', '.join(ASSIGNMENTS)}。\n"
                       f"there is no assignment {assignment!r}: choose from {', '.join(ASSIGNMENTS)}.")
    return assignment


def graded(assignment, root=ROOT):
    """The functions the assignment's autograded test cells check, in notebook order (``check_<name>`` calls)."""
    nb = json.loads(source_notebook(check_assignment(assignment), root).read_text(encoding="utf-8"))
    names = []
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] == "code" and meta.get("grade"):
            names += [name for name in checked("".join(cell["source"])) if name not in names]
    return names


def checked(source):
    """The graded functions a test cell checks (its ``checks.check_<name>(`` calls), in order, once each."""
    return list(dict.fromkeys(_CHECK_CALL.findall(source)))


def all_graded(root=ROOT):
    """{assignment: its graded functions}."""
    return {a: graded(a, root) for a in ASSIGNMENTS}


def allowed(assignment, released, root=ROOT):
    """The graded functions the kit of ``assignment`` may implement, given the released solutions."""
    table = all_graded(root)
    position = ASSIGNMENTS.index(check_assignment(assignment))
    names = set()
    for earlier in ASSIGNMENTS[:position]:
        if earlier in released:
            names.update(table[earlier])
    return names - set(table[assignment])


def forbidden(assignment, released, root=ROOT):
    """The graded functions the kit of ``assignment`` must not implement, under any name."""
    every = {name for names in all_graded(root).values() for name in names}
    return every - allowed(assignment, released, root)


def forbidden_core(assignment, released, root=ROOT):
    """The reludrop_core functions (public and private) the kit must not hold: those that compute a forbidden one."""
    return {impl for name in forbidden(assignment, released, root) for impl in IMPLEMENTS.get(name, (name,))}


def released_for(assignment, released):
    """The earlier assignments whose solutions are released, for messages."""
    position = ASSIGNMENTS.index(check_assignment(assignment))
    return [a for a in ASSIGNMENTS[:position] if a in released]


def owner(function, root=ROOT):
    """The first assignment that grades ``function`` (a graded name or a core helper of one), or None."""
    names = {function} | {g for g, impls in IMPLEMENTS.items() if function in impls}
    for assignment, graded_names in all_graded(root).items():
        if names & set(graded_names):
            return assignment
    return None
