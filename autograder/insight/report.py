"""The class insight report as data, as a terminal summary and as JSON (``page`` makes the HTML).

JSON::

    {"mistakes": [{"assignment", "function", "diagnosis", "description", "kind", "behaviour",
                   "students": [...], "points"}],
     "similar":  [{"assignment", "function", "students": [...], "kind": "identical" | "reference", "score",
                   "reference" (kind "reference" only)}],
     "functions": [{"assignment", "function", "lost", "students", "max_score"}],   (graded notebooks only)
     "not_graded": [{"assignment", "notebook", "status", "students": [...]}],      (missing, broken...)
     "assignments": [...], "students": N}
"""

import dataclasses
import json

from . import collect, copies, mistakes


@dataclasses.dataclass
class Insight:
    """The report: ``data`` (what the JSON holds) and ``sources`` ((assignment, function, student) -> answer
    cell, for showing flagged cells side by side)."""
    data: dict
    sources: dict


def build(course, reports, assignments):
    """The report of ``assignments`` (in course order) from their submission reports."""
    works, flags, sources = [], [], {}
    for assignment in assignments:
        plan = collect.layout(course, assignment)
        found = collect.works(course, assignment, reports, plan)
        works += found
        for (notebook, function), cell_id in plan.answers.items():
            cells = {w.student: w.source for w in found
                     if w.notebook == notebook and w.function == function and w.source is not None}
            sources.update({(assignment, function, s): src for s, src in cells.items()})
            reference = [(f"solutions/{assignment}/{notebook}.ipynb", plan.reference[(notebook, cell_id)])]
            reference += copies.core_references(function)
            for name, src in reference:
                sources[(assignment, function, name)] = src
            flags += copies.similar(assignment, function, cells, plan.starter.get((notebook, cell_id), ""), reference)
    flags.sort(key=lambda f: (-len(f["students"]), -f["score"], assignments.index(f["assignment"]), f["function"]))
    data = {"assignments": list(assignments), "students": len({w.student for w in works}),
            "functions": mistakes.functions(works), "not_graded": mistakes.not_graded(works),
            "mistakes": mistakes.groups(works, assignments),
            "similar": flags}
    return Insight(data, sources)


def dump(insight, path):
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(insight.data, fh, ensure_ascii=False, indent=1)
    return path


def summary(insight, limit=12):
    """A few lines for the terminal: the largest mistake groups and the flags."""
    data = insight.data
    lines = [f"class insight / 班级学情：{data['students']} students, {len(data['mistakes'])} mistake groups, "
             f"{len(data['similar'])} answers to review for copying"]
    for group in data["mistakes"][:limit]:
        label = group["diagnosis"] + (f" #{group['behaviour'][:6]}" if group["behaviour"] else "")
        names = ", ".join(group["students"][:5]) + (" ..." if len(group["students"]) > 5 else "")
        lines.append(f"  {len(group['students']):4d}  {group['assignment']}  {group['function']}: {label}  ({names})")
    for flag in data["similar"][:limit]:
        other = flag.get("reference", "")
        names = ", ".join(flag["students"][:5]) + (f" ... ({len(flag['students'])})" if len(flag["students"]) > 5 else "")
        lines.append(f"  copy? {flag['assignment']}  {flag['function']}: {names}"
                     f"{' ~ ' + other if other else ''}  (similarity {flag['score']:.2f})")
    return "\n".join(lines)
