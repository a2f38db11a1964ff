"""The diagnosis of each failed test, kept in the autograded notebook for the class report.

A failing check raises an AssertionError whose ``diagnosis`` attribute holds its facts as data
(``autograder.checks._messages.record``). While grading, ``GradingExecute`` asks the grading guard for
the record of the error a test cell raised and keeps it in that cell's metadata, under
``metadata.autograder.diagnosis``::

    {"function": "softmax", "code": "softmax_wrong_axis", "hidden": false,
     "zh": "...", "en": "...", "behaviour": "3f9a0c1d2e4b5a69"}

Nothing else reads the messages. The feedback page shows cell outputs, never cell metadata, so a
student sees the message and nothing more. The record comes from the student's own kernel: it is
cleaned here (known keys, strings of bounded length), and a student who forges one only changes how
their own work is grouped in the report, never a score.
"""

KEY = "diagnosis"
FIELDS = {"function": 100, "code": 100, "zh": 1000, "en": 1000, "behaviour": 64}


def clean(found):
    """``found`` (from the kernel) as a record with exactly the known fields, or None if it is not one."""
    if not isinstance(found, dict) or not isinstance(found.get("code"), str) or not found["code"]:
        return None
    record = {key: str(found.get(key) or "")[:limit] for key, limit in FIELDS.items()}
    record["hidden"] = found.get("hidden") is True
    return record


def keep(cell, record):
    """Write ``record`` into the cell's metadata."""
    cell.metadata.setdefault("autograder", {})[KEY] = record


def of_cell(cell):
    """The record a graded cell keeps, or None (it passed, it was not run, or the check gave none)."""
    meta = cell.get("metadata")
    ours = meta.get("autograder") if isinstance(meta, dict) else None
    return clean(ours.get(KEY)) if isinstance(ours, dict) else None
