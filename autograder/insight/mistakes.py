"""The class's mistakes: for each graded function, who lost its points and why, in groups.

A failed test whose check recognised the mistake is grouped by its diagnosis code. A failure no known
mistake explains (``mismatch``, an exception) is grouped by behaviour: students whose code gave the
same results on the check's cases (the same inputs for everyone) share a group. Tests that grading
stopped (tampering, a timeout, a dead kernel) and tests that failed before their check ran (the answer
cell defines no such function) are groups of their own. Notebooks that were not graded at all (missing,
broken) are counted apart (``not_graded``): they say nothing about any answer. Groups are sorted by how
many students they hold.
"""

import collections

from .collect import GRADING_STOPPED

#: Diagnosis codes that name no particular mistake: their students are grouped by behaviour.
UNEXPLAINED = ("mismatch", "exception")
#: The answer cell still holds the release's stub.
NOT_ATTEMPTED = "not_implemented"
#: Groups of the same size: what there is to re-teach first.
KIND_ORDER = ("diagnosed", "unexplained", "cell error", "not attempted", "grading")

UNEXPLAINED_TEXT = ("结果与参考答案不一致，且不像任何已知的常见错误；这一组学生的代码在相同的输入上给出完全相同的结果",
                    "matches none of the known mistakes; the students of this group gave exactly the same results "
                    "on the same inputs")
STOPPED_TEXT = {
    "TamperingError": ("评分环境被改动，这个测试记 0 分", "the grading environment was changed: the test scored 0"),
    "NotRunError": ("之前的单元格停止了评分，这个测试没有运行", "grading stopped earlier: the test did not run"),
    "DeadKernelError": ("内核意外退出", "the kernel died"),
    "CellTimeoutError": ("单元格超时", "a cell timed out"),
    "MemoryError": ("内存超出限制", "the memory limit was reached"),
}


def cell_error_text(ename):
    return (f"测试在调用检查之前就出错了（{ename}）：多半是答题单元格没有定义这个函数（语法错误，或函数改了名字）",
            f"the test failed before its check ran ({ename}): most often the answer cell does not define the function "
            f"(a syntax error, or a renamed function)")


def classify(work):
    """(diagnosis, kind, (zh, en), behaviour) of a lost function in a graded notebook: kind is diagnosed,
    not attempted (the stub is still there), unexplained, cell error or grading."""
    record = work.diagnosis
    if record and record["code"] == NOT_ATTEMPTED:
        return record["code"], "not attempted", (record["zh"], record["en"]), ""
    if record and record["code"] not in UNEXPLAINED:
        return record["code"], "diagnosed", (record["zh"], record["en"]), ""
    if not record and work.error in GRADING_STOPPED:
        return work.error, "grading", STOPPED_TEXT[work.error], ""
    if not record and work.error:
        return work.error, "cell error", cell_error_text(work.error), ""
    return (record["code"] if record else "mismatch"), "unexplained", UNEXPLAINED_TEXT, \
        (record["behaviour"] if record else "none")


def groups(works, order=()):
    """The groups of students who lost a function's points, largest first.

    Parameters
    ----------
    works : list of ``collect.Work``
    order : assignments in course order (groups of one size: recognised mistakes first, see ``KIND_ORDER``,
        then by assignment, then function)

    Returns
    -------
    list of dict with keys assignment, function, diagnosis, description (Chinese / English), kind,
    behaviour ("" unless unexplained), students (sorted), points (the points they lost, in all)
    """
    found = collections.defaultdict(list)
    texts = collections.defaultdict(collections.Counter)
    for work in works:
        if not work.lost or work.status != "graded":
            continue
        diagnosis, kind, text, behaviour = classify(work)
        key = (work.assignment, work.function, diagnosis, kind, behaviour)
        found[key].append(work)
        texts[key][text] += 1
    out = []
    for key, members in found.items():
        assignment, function, diagnosis, kind, behaviour = key
        zh, en = texts[key].most_common(1)[0][0]
        out.append({"assignment": assignment, "function": function, "diagnosis": diagnosis,
                    "description": f"{zh} / {en}", "kind": kind, "behaviour": behaviour,
                    "students": sorted(w.student for w in members),
                    "points": round(sum(w.max_score - w.score for w in members), 3)})
    rank = {a: i for i, a in enumerate(order)}
    out.sort(key=lambda g: (-len(g["students"]), KIND_ORDER.index(g["kind"]), rank.get(g["assignment"], len(rank)),
                            g["assignment"], g["function"], g["diagnosis"], g["behaviour"]))
    return out


def functions(works):
    """Per graded function, among the graded notebooks: how many students lost its points, out of how many."""
    table = {}
    for work in works:
        row = table.setdefault((work.assignment, work.function),
                               {"assignment": work.assignment, "function": work.function, "lost": 0, "students": 0,
                                "max_score": work.max_score})
        if work.status == "graded":
            row["students"] += 1
            row["lost"] += work.lost
        row["max_score"] = max(row["max_score"], work.max_score)
    return list(table.values())


def not_graded(works):
    """The notebooks not graded at all: [{"assignment", "notebook", "status", "students"}]."""
    table = {}
    for work in works:
        if work.status != "graded":
            table.setdefault((work.assignment, work.notebook, work.status), set()).add(work.student)
    return [{"assignment": a, "notebook": nb, "status": status, "students": sorted(students)}
            for (a, nb, status), students in sorted(table.items())]
