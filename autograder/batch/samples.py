"""The bundled sample class: a handful of students' submissions, built from the release and the solutions.

Nothing is stored: every submission is made from the course's own release notebook (what students
get) with answer cells filled in, so the samples follow the notebooks when they change.

==========  =====================================================================================
张伟        correct: the reference answers (from the solutions), written answers filled in
li_na       the handout's mistakes: overflowing softmax, the diagonal softmax gradient, a Dropout
            backward that ignores the mask, the ``a_out > 0`` shortcut
王芳        axis and shape mistakes: softmax summed over the wrong axis, the handout's summed binary
            cross-entropy, a mini-batch loop that computes on the whole set, Dropout without the gain;
            one correct answer that warns (division by zero, then fixed): it keeps its marks (the check
            keeps the warning out of the test cell)
zhao_lei    only notebook 01: a ReLU gradient that returns ReLU itself, and tries his luck: edits its test
            cell to a bare ``print`` and deletes another test (both restored from the gradebook)
blank       the release, unchanged
chen_jing   broken: notebook 01 is not valid JSON (a half-saved file), notebook 02 saved under
            another name (``…-副本.ipynb``), notebook 04 has a syntax error
==========  =====================================================================================
"""

import json
import pathlib
import shutil

import nbformat

from ..grading.course import load_config

CORRECT = "correct"
STUDENTS = {
    "张伟": "correct",
    "li_na": "the handout's mistakes",
    "王芳": "axis and shape mistakes, one warning",
    "zhao_lei": "one mistake, an edited and a deleted test",
    "blank": "blank",
    "chen_jing": "broken files",
}

#: (assignment, answer cell) -> the student's cell source, for every answer that is not the reference one.
MISTAKES = {
    "li_na": {
        ("01_relu_network", "softmax"):
            "def softmax(z):\n    d = np.exp(z)                     # 讲义的写法：没有减去最大值\n"
            "    return d / d.sum(axis=1, keepdims=True)\n",
        ("02_softmax_comparison", "softmax_gradient"):
            "def softmax_gradient(z):\n    s = softmax(z)\n    return s * (1 - s)                # 讲义：只有对角线\n",
        ("03_sigmoid_dropout", "backprop"):
            "def backprop(params, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio=0.):\n"
            "    thetas = unpack_params(params, size)\n"
            "    if ratio > 0:\n"
            "        z_out, a_out = forward_propagate_dropout(X, thetas, activate_fcn, ratio)\n"
            "    else:\n"
            "        z_out, a_out = forward_propagate(X, thetas, activate_fcn)\n"
            "    h = forward_propagate(X, thetas, activate_fcn)[1][-1]\n"
            "    m = X.shape[0]\n"
            "    cost = float(-np.sum(Y * np.log(np.maximum(h, 1e-300))) / m)\n"
            "    delta = (a_out[-1] - Y) / m\n"
            "    grads = [None] * len(thetas)\n"
            "    for i in range(len(thetas) - 1, -1, -1):\n"
            "        grads[i] = delta.T @ a_out[i]\n"
            "        if i > 0:                       # 讲义：忽略了掩码 / the handout ignores the mask\n"
            "            delta = (delta @ thetas[i]) * activate_fcn_gradient(z_out[i])\n"
            "    return cost, np.concatenate([g.ravel() for g in grads])\n",
        ("04_relu_dropout", "ReLU_dropout_gradient"):
            "def ReLU_dropout_gradient(z, a):\n    return (np.asarray(a) > 0).astype(np.float64)   # 讲义的捷径\n",
    },
    "王芳": {
        ("01_relu_network", "softmax"):
            "def softmax(z):\n    e = np.exp(z - np.max(z))\n    return e / e.sum(axis=0, keepdims=True)\n",
        ("01_relu_network", "cost_fcn"):
            "def cost_fcn(params, size, index, X, Y, activate_fcn):\n"
            "    thetas = [params[(index[i - 1] if i else 0):index[i]].reshape(size[i + 1], size[i])\n"
            "              for i in range(len(index))]\n"
            "    h = forward_propagate(X, thetas, activate_fcn)[1][-1]\n"
            "    return float(np.sum(-Y * np.log(h) - (1 - Y) * np.log(1 - h)) / X.shape[0])\n",
        ("01_relu_network", "train"):
            "def train(X, Y, params, size, alpha, iters, activate_fcn, activate_fcn_gradient, ratio=0., step=-1):\n"
            "    m = X.shape[0]\n"
            "    if step == -1:\n"
            "        step = m\n"
            "    index = np.cumsum(np.array(size[1:]) * np.array(size[:-1]))\n"
            "    g, cost = np.array(params, dtype=np.float64), np.zeros(iters)\n"
            "    for i in range(iters):\n"
            "        for j in range(0, m, step):\n"
            "            J, grad = backprop(g, size, index, X, Y, activate_fcn, activate_fcn_gradient, ratio)\n"
            "            g = g - alpha * grad\n"
            "        cost[i] = J\n"
            "    return g, cost\n",
        ("03_sigmoid_dropout", "Dropout"):
            "def Dropout(size, ratio):\n"
            "    num = int(np.round(size * (1 - ratio)))\n"
            "    ym = np.zeros(size)\n"
            "    ym[np.random.permutation(size)[:num]] = 1.0      # 忘了增益 size / num\n"
            "    return ym\n",
        ("04_relu_dropout", "ReLU_dropout_gradient"):
            "def ReLU_dropout_gradient(z, a):\n"
            "    g = a / z                 # z = 0 处 0/0：numpy 警告，下一行再改成 0\n"
            "    g[z <= 0] = 0.0\n"
            "    return g\n",
    },
    "zhao_lei": {
        ("01_relu_network", "ReLU_gradient"): "def ReLU_gradient(z):\n    return np.maximum(z, 0)\n",
    },
    "chen_jing": {
        ("04_relu_dropout", "ReLU_dropout_gradient"):
            "def ReLU_dropout_gradient(z, a):\n    return np.divide(a, z, out=np.zeros_like(z), where=(z > 0)\n",
    },
}

#: What each sample must lose (autograded cells) and the events its report must name; see ``check``.
EXPECTED = {
    "张伟": {"lose": set(), "events": set()},
    "li_na": {"lose": {"test_softmax", "test_softmax_gradient", "test_backprop", "test_ReLU_dropout_gradient"},
              "events": set()},
    "王芳": {"lose": {"test_softmax", "test_cost_fcn", "test_train", "test_Dropout"}, "events": set()},
    "zhao_lei": {"lose": {"test_ReLU_gradient"}, "events": {"edited-locked-cell", "deleted-cell"}},
    "blank": {"lose": "all", "events": set()},
    "chen_jing": {"lose": {"test_ReLU_dropout_gradient"},
                  "events": {"invalid-notebook", "missing-notebook", "extra-notebook"}},
}
SUBMITS = {"zhao_lei": ["01_relu_network"], "chen_jing": ["01_relu_network", "02_softmax_comparison", "04_relu_dropout"]}
WRITTEN = "（示例作答）见上面的实验结果：……\n(sample answer) see the results above: ..."


def scratch_course(source_root, folder):
    """Copy a course (its ``nbgrader_config.py`` and source assignments) into ``folder`` for a throwaway run."""
    source_root, folder = pathlib.Path(source_root), pathlib.Path(folder)
    source_directory = load_config(source_root).CourseDirectory.get("source_directory", "source")
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(source_root / "nbgrader_config.py", folder / "nbgrader_config.py")
    for assignment in sorted((source_root / source_directory).iterdir()):
        if assignment.is_dir() and not assignment.name.startswith("."):
            shutil.copytree(assignment, folder / source_directory / assignment.name,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return folder


def solution_answers(course, assignment, notebook):
    """Answer cell id -> the reference answer (the source notebook's cell without its solution markers)."""
    path = pathlib.Path(course.coursedir.format_path(course.coursedir.source_directory, ".", assignment))
    nb = nbformat.read(path / f"{notebook}.ipynb", as_version=4)
    answers = {}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            lines = [ln for ln in cell.source.split("\n") if "BEGIN SOLUTION" not in ln and "END SOLUTION" not in ln]
            answers[meta["grade_id"]] = "\n".join(lines)
    return answers


def release_notebook(course, assignment, notebook):
    path = pathlib.Path(course.coursedir.format_path(course.coursedir.release_directory, ".", assignment))
    return nbformat.read(path / f"{notebook}.ipynb", as_version=4)


def submission(course, student, assignment, notebook):
    """The notebook ``student`` hands in (a NotebookNode), made from the release."""
    nb = release_notebook(course, assignment, notebook)
    if STUDENTS[student] == "blank":
        return nb
    answers = solution_answers(course, assignment, notebook)
    mistakes = MISTAKES.get(student, {})
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if meta.get("solution") and cell.cell_type == "code":
            cell.source = mistakes.get((assignment, grade_id), answers.get(grade_id, cell.source))
        elif meta.get("solution") and cell.cell_type == "markdown":
            cell.source = WRITTEN
    if student == "zhao_lei" and assignment == "01_relu_network":
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_ReLU_gradient":
                cell.source = 'print("✓ ReLU_gradient：全部 3 个可见用例通过。\\n✓ ReLU_gradient: all 3 visible cases pass.")'
        nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") != "test_sigmoid"]
    return nb


def place(course):
    """Write every sample student's submission under ``submitted/``; return {student: what they are}."""
    for student in STUDENTS:
        for assignment in SUBMITS.get(student, course.source_assignments()):
            folder = course.path("submitted", student, assignment)
            folder.mkdir(parents=True, exist_ok=True)
            for notebook in course.notebooks(assignment):
                nb = submission(course, student, assignment, notebook)
                target = folder / f"{notebook}.ipynb"
                if student == "chen_jing" and assignment == "01_relu_network":
                    text = json.dumps(nb, ensure_ascii=False, indent=1)
                    target.write_text(text[: len(text) // 2], encoding="utf-8")     # a half-saved file
                    continue
                if student == "chen_jing" and assignment == "02_softmax_comparison":
                    target = folder / f"{notebook}-副本.ipynb"                        # saved under another name
                nbformat.write(nb, target)
    return dict(STUDENTS)


def check(reports):
    """Compare the sample class's reports with ``EXPECTED``; return the differences (empty when all is right)."""
    problems = []
    for student, expected in EXPECTED.items():
        mine = [r for r in reports if r.student == student and any(nb.status != "not submitted" for nb in r.notebooks)]
        if not mine:
            problems.append(f"{student}: no report")
            continue
        lost = {c.cell for r in mine for nb in r.notebooks for c in nb.lost}
        autograded = {c.cell for r in mine for nb in r.notebooks for c in nb.cells if not c.manual}
        kinds = {e["kind"] for r in mine for _, e in r.items()}
        if expected["lose"] == "all":
            if lost != autograded:
                problems.append(f"{student}: kept points on {sorted(autograded - lost)}")
        elif not expected["lose"] <= lost:
            problems.append(f"{student}: should lose points on {sorted(expected['lose'] - lost)}")
        if student == "张伟" and lost:
            problems.append(f"{student} (correct) lost points on {sorted(lost)}")
        if student == "张伟" and any(r.attention() for r in mine):
            problems.append(f"{student} (correct) was flagged: {[e['kind'] for r in mine for _, e in r.attention()]}")
        if not expected["events"] <= kinds:
            problems.append(f"{student}: the report does not name {sorted(expected['events'] - kinds)}")
    return problems
