"""The fault submissions for tests/test_pipeline.py: one student per case, all of notebook 01.

Each case is a ``Case``: how to write the student's submission (from the course's own release and
solutions, so the cases follow the notebooks), the autograded cells that must score 0 (every other
autograded cell must get full marks), and the event kinds the report must name.

Most faults sit in the ``train`` cells: no later test uses ``train``, so a fault there costs exactly
that test, and every score below is exact. The faults that stop grading sit earlier, to show that
everything before them keeps its marks and everything after scores 0.
"""

import dataclasses
import json
import pathlib

import nbformat

from autograder.batch import samples

ASSIGNMENT = "01_relu_network"
#: Autograded cells of notebook 01 and their points (the test checks this against the gradebook).
POINTS = {"test_ReLU": 1, "test_ReLU_gradient": 1, "test_sigmoid": 1, "test_sigmoid_gradient": 1, "test_softmax": 2,
          "test_forward_propagate": 2, "test_cost_fcn": 2, "test_backprop": 3, "test_train": 2}
AFTER_COST_FCN = {"test_cost_fcn", "test_backprop", "test_train"}
AFTER_SOFTMAX = {"test_softmax", "test_forward_propagate"} | AFTER_COST_FCN

#: A train that passes every visible assert (they all use ratio 0) but never passes ratio on to backprop.
TRAIN_WITHOUT_RATIO = '''def train(X, Y, params, size, alpha, iters, activate_fcn, activate_fcn_gradient, ratio=0., step=-1):
    m = X.shape[0]
    if step == -1:
        step = m
    index = np.cumsum(np.array(size[1:]) * np.array(size[:-1]))
    g, cost = np.array(params, dtype=np.float64).ravel(), np.zeros(iters)
    for i in range(iters):
        if step < m:
            cost[i] = cost_fcn(g, size, index, X, Y, activate_fcn)
        for j in range(0, m, step):
            J, grad = backprop(g, size, index, X[j:j + step], Y[j:j + step], activate_fcn, activate_fcn_gradient)
            g = g - alpha * grad
        if step >= m:
            cost[i] = J
    return g, cost
'''
FAKE_CHECKS = '''
class _AlwaysPass:
    def __getattr__(self, name):
        return lambda *args, **kwargs: "✓ all hidden cases pass."
checks = _AlwaysPass()
'''
STUBBORN_LOOP = '''
import time
def _stubborn():
    while True:
        try:
            time.sleep(0.05)
        except KeyboardInterrupt:
            print("不停 / not stopping", flush=True)
_stubborn()
'''
MEMORY_HOG = '''def train(X, Y, params, size, alpha, iters, activate_fcn, activate_fcn_gradient, ratio=0., step=-1):
    history = []
    while True:                                # keeps every epoch's copy: 800 MB a step, without end
        history.append(np.ones(10**8))
'''


@dataclasses.dataclass
class Case:
    """One fault submission: what the student did, and the grade it deserves."""
    what: str
    zero: set                                   # autograded cells that must score 0; all others full marks
    attention: set = dataclasses.field(default_factory=set)    # event kinds that need attention
    notes: set = dataclasses.field(default_factory=set)        # event kinds that are only noted
    answers: dict = dataclasses.field(default_factory=dict)    # answer cell -> source (else the reference)
    edit: object = None                         # fn(nb) -> nb, after the answers are filled in
    files: dict = dataclasses.field(default_factory=dict)      # extra files: relative path -> text
    notebook_name: str = ASSIGNMENT             # the file name the student saves the notebook under
    raw: object = None                          # fn(text) -> text, the file as written (JSON)

    @property
    def score(self):
        return sum(p for cell, p in POINTS.items() if cell not in self.zero)


def _cell(nb, grade_id):
    return next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _delete(*grade_ids):
    def edit(nb):
        nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in grade_ids]
        return nb
    return edit


def _edit_test_train(nb):
    nb.cells[_cell(nb, "test_train")].source = 'print("✓ train 通过可见测试 / passed the visible tests")'
    return nb


def _duplicate_test_train(nb):
    i = _cell(nb, "test_train")
    copy = nbformat.from_dict(json.loads(json.dumps(nb.cells[i])))
    copy["id"] = "copyoftesttrain"
    copy.source = 'print("✓ train：全部 4 个可见用例通过。\\n✓ train: all 4 visible cases pass.")'
    nb.cells.insert(i + 1, copy)
    return nb


def _retype(nb):
    relu = nb.cells[_cell(nb, "test_ReLU")]
    relu.cell_type = "markdown"
    relu.pop("outputs", None)
    relu.pop("execution_count", None)
    train = nb.cells[_cell(nb, "test_train")]
    train.cell_type = "raw"
    train.pop("outputs", None)
    train.pop("execution_count", None)
    return nb


CASES = {
    "correct": Case("the reference answers", set()),
    "李雷": Case("correct, with a non-ASCII name", set()),
    "infinite_loop": Case("an infinite loop in the train cell, before train is defined", {"test_train"},
                          attention={"timeout"}, answers={"train": "while True:\n    pass\n"}),
    "catches_interrupt": Case("a loop that catches KeyboardInterrupt after cost_fcn", AFTER_COST_FCN,
                              attention={"unresponsive", "not-run", "suspicious-code"},
                              answers={"cost_fcn": "@reference\n" + STUBBORN_LOOP}),
    "os_exit": Case("os._exit(1) in the softmax cell", AFTER_SOFTMAX, attention={"kernel-died", "not-run", "suspicious-code"},
                    answers={"softmax": "@reference\nimport os\nos._exit(1)\n"}),
    "memory_hog": Case("train allocates without end", {"test_train"}, attention={"memory"},
                       answers={"train": MEMORY_HOG}),
    "deleted_cells": Case("deletes the read-only imports cell, test_sigmoid, and train with its test",
                          {"test_train"}, attention={"deleted-cell"}, edit=_delete("imports", "test_sigmoid", "train",
                                                                                   "test_train")),
    "edited_test": Case("a wrong train and its test cell edited to a bare print", {"test_train"},
                        attention={"edited-locked-cell"}, answers={"train": TRAIN_WITHOUT_RATIO}, edit=_edit_test_train),
    "duplicated_test": Case("a wrong train and its test duplicated, the copy edited", {"test_train"},
                            attention={"duplicated-cell", "edited-locked-cell"}, answers={"train": TRAIN_WITHOUT_RATIO},
                            edit=_duplicate_test_train),
    "retyped_cells": Case("test_ReLU made markdown (right ReLU), test_train made raw (wrong train)", {"test_train"},
                          attention={"cell-type-changed"}, answers={"train": TRAIN_WITHOUT_RATIO}, edit=_retype),
    "missing_notebook": Case("saved the notebook under another name", set(POINTS),
                             attention={"missing-notebook"}, notes={"extra-notebook"},
                             notebook_name=f"{ASSIGNMENT}-副本"),
    "extra_files": Case("right answers, plus files that would shadow modules and notes with non-ASCII names",
                        set(), notes={"extra-files"},
                        files={"matplotlib.py": "raise ImportError('a student file shadowed matplotlib')\n",
                               "autograder.py": "raise ImportError('a student file shadowed autograder')\n",
                               "笔记.txt": "我的笔记\n", "data/权重.npy": "not really numpy\n"}),
    "not_json": Case("a half-saved notebook file", set(POINTS), attention={"invalid-notebook"},
                     raw=lambda text: text[: len(text) // 3]),
    "rebinds_numpy": Case("right answers, but the ReLU cell rebinds np.array_equal and np.allclose", {"test_ReLU"},
                          attention={"environment-tampered", "suspicious-code"},
                          answers={"ReLU": "@reference\nnp.array_equal = lambda *a, **k: True\n"
                                           "np.allclose = lambda *a, **k: True\n"}),
    "rebinds_check": Case("a wrong train whose cell replaces checks.check_train", {"test_train"},
                          attention={"environment-tampered", "suspicious-code"},
                          answers={"train": TRAIN_WITHOUT_RATIO + "\nchecks.check_train = lambda *a, **k: "
                                                                  "'✓ train: all hidden cases pass.'\n"}),
    "rebinds_checks_name": Case("the ReLU cell rebinds the name checks to an always-pass object; wrong train",
                                {"test_ReLU", "test_train"}, attention={"environment-tampered", "suspicious-code"},
                                answers={"ReLU": "@reference\n" + FAKE_CHECKS, "train": TRAIN_WITHOUT_RATIO}),
    "silences_tracebacks": Case("a wrong train whose cell overrides IPython's showtraceback (nbgrader issue 1324)",
                                {"test_train"}, attention={"environment-tampered", "suspicious-code"},
                                answers={"train": TRAIN_WITHOUT_RATIO + "\nget_ipython().showtraceback = "
                                                                        "lambda *a, **k: None\n"}),
    # The checks capture sys.stdout, sys.stderr and warnings while student code runs, but a logging handler made
    # before the check holds the cell's own stderr: its lines reach the test cell, and must not cost the points.
    "writes_stderr": Case("right answers that print to stderr, log to stderr and trigger a numpy RuntimeWarning",
                          set(), notes={"stderr"},
                          answers={"ReLU": "import logging\nimport sys\nlogging.basicConfig(level=logging.INFO)\n"
                                           "def ReLU(z):\n    print('debug: ReLU', np.shape(z), file=sys.stderr)\n"
                                           "    logging.info('ReLU got shape %s', np.shape(z))\n"
                                           "    return np.maximum(np.asarray(z, dtype=np.float64), 0.0)\n",
                                   "ReLU_gradient": "def ReLU_gradient(z):\n    z = np.asarray(z, dtype=np.float64)\n"
                                                    "    return np.nan_to_num((z > 0) * z / z)   # 0/0 warns at z = 0\n"}),
}


def write(course, student, case):
    """Write ``case`` as ``student``'s submission of notebook 01 under the course's ``submitted/``."""
    folder = course.path("submitted", student, ASSIGNMENT)
    folder.mkdir(parents=True, exist_ok=True)
    nb = samples.release_notebook(course, ASSIGNMENT, ASSIGNMENT)
    reference = samples.solution_answers(course, ASSIGNMENT, ASSIGNMENT)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            source = case.answers.get(meta["grade_id"], "@reference")
            cell.source = source.replace("@reference", reference[meta["grade_id"]])
        elif meta.get("solution"):
            cell.source = "（作答）ReLU 的梯度在正半轴恒为 1。"
    if case.edit is not None:
        nb = case.edit(nb)
    text = nbformat.writes(nb)
    if case.raw is not None:
        text = case.raw(text)
    (folder / f"{case.notebook_name}.ipynb").write_text(text, encoding="utf-8")
    for name, content in case.files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return pathlib.Path(folder)
