"""What grading noticed about a submission, in words an instructor can act on.

The preprocessors write events into the autograded notebook's metadata
(``metadata.autograder.events``: a list of ``{"kind", "cell", "detail"}``);
the pipeline adds the events of a whole submission (a missing or broken
notebook, extra files). ``KINDS`` says which events need the instructor's
attention (the pipeline's exit status is 1 while any remains) and which are
only notes (handled automatically, shown in the details).
"""

#: kind -> (needs attention, what it means: Chinese / English)
KINDS = {
    # the submission as a whole
    "missing-notebook": (True, "没有提交这个 notebook（记 0 分）/ notebook not submitted (scored 0)"),
    "invalid-notebook": (True, "notebook 文件已损坏，无法读取（记 0 分）/ notebook file is not a valid notebook (scored 0)"),
    "nbgrader-error": (True, "nbgrader 无法评分这个 notebook（记 0 分）/ nbgrader could not grade this notebook (scored 0)"),
    "extra-notebook": (False, "多余的 notebook，未评分 / extra notebook, not graded"),
    "extra-files": (False, "多余的文件，评分时不会被导入 / extra files, never imported while grading"),
    # cells the student changed (found before running, repaired from the gradebook)
    "edited-locked-cell": (True, "只读单元格被修改，已按成绩库恢复 / read-only cell edited; restored from the gradebook"),
    "deleted-cell": (True, "只读单元格被删除，已按成绩库恢复 / read-only cell deleted; restored from the gradebook"),
    "duplicated-cell": (True, "只读单元格被复制，只评最后一个 / read-only cell duplicated; only the last copy counts"),
    "duplicated-answer": (False, "答题单元格被复制，评最后一个 / answer cell duplicated; the last copy is graded"),
    "cell-type-changed": (True, "单元格类型被修改，已改回 / cell type changed; changed back"),
    "metadata-changed": (True, "评分元数据被修改，已按成绩库恢复 / grading metadata changed; restored from the gradebook"),
    "unknown-cell": (True, "单元格的评分 id 不在成绩库中，按普通单元格运行 / cell id unknown to the gradebook; run as a plain cell"),
    "suspicious-code": (True, "学生代码触及评分环境，请人工查看 / student code reaches into the grading environment: review it"),
    # what happened while running
    "environment-tampered": (True, "评分环境被改动，这个测试记 0 分，之后已恢复 / grading environment changed: "
                                   "this test scores 0, the environment was restored"),
    "timeout": (True, "单元格超时，已中断 / cell timed out and was interrupted"),
    "unresponsive": (True, "单元格超时且无法中断，内核已被终止 / cell timed out and ignored the interrupt: kernel stopped"),
    "kernel-died": (True, "内核意外退出 / the kernel died"),
    "memory": (True, "内存超出限制 / memory limit reached"),
    "not-run": (True, "之前的单元格停止了评分，这些测试没有运行（记 0 分）/ not run because grading stopped earlier (scored 0)"),
    "no-sandbox": (True, "没有沙箱：学生代码以评分者的权限运行 / graded WITHOUT the sandbox: student code ran with "
                         "the grader's rights"),
    "demonstrations-run": (False, "学生的代码用到了演示单元格定义的名字，评分时照常运行了演示 / the student's code "
                                  "uses names a demonstration cell defines: the demonstrations were run"),
    "grader-error": (True, "评分程序出错 / the grading machinery failed"),
    "stderr": (False, "测试时输出到了 stderr（警告等），不扣分 / wrote to stderr (a warning...) during a test: no points lost"),
    "display-output": (False, "测试单元格显示了一个值，不作为部分得分 / a test cell displayed a value: not read as partial credit"),
}


def needs_attention(kind):
    """Does an event of this kind need the instructor's attention? (Unknown kinds do.)"""
    return KINDS.get(kind, (True, ""))[0]


def describe(kind):
    """The bilingual sentence for an event kind."""
    return KINDS.get(kind, (True, kind))[1]


def event(kind, cell=None, detail=""):
    """A new event as a plain dict (JSON-ready)."""
    return {"kind": kind, "cell": cell, "detail": str(detail)}


def add(nb, kind, cell=None, detail=""):
    """Record an event in the notebook's metadata (``nb.metadata.autograder.events``)."""
    store = nb.metadata.setdefault("autograder", {})
    store.setdefault("events", []).append(event(kind, cell, detail))


def read(nb):
    """The events recorded in a notebook, as plain dicts."""
    meta = nb.get("metadata", {}).get("autograder", {})
    return [dict(e) for e in meta.get("events", [])]
