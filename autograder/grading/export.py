"""grades.csv: nbgrader's CSV export, written as UTF-8 and quoted as CSV.

nbgrader's CsvExportPlugin (0.9.6, plugins/export.py) opens the file in the locale's encoding (a
Chinese student name fails under a non-UTF-8 locale) and joins fields with bare commas (a name with a
comma shifts every column). This plugin writes the same columns, in the same order, with the same
values, through the csv module in UTF-8. ``nbgrader export`` uses it (``c.ExportApp.plugin_class``).
"""

import csv

from nbgrader.api import MissingEntry
from nbgrader.plugins import ExportPlugin

COLUMNS = ["assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
           "raw_score", "late_submission_penalty", "score", "max_score"]


def rows(gradebook, assignments=(), students=()):
    """One dict per (assignment, student) in the gradebook: nbgrader's grades.csv rows, as strings."""
    for assignment in gradebook.assignments:
        if assignments and assignment.name not in assignments:
            continue
        for student in gradebook.students:
            if students and student.id not in students:
                continue
            row = {"assignment": assignment.name, "duedate": assignment.duedate, "student_id": student.id,
                   "last_name": student.last_name, "first_name": student.first_name, "email": student.email,
                   "max_score": assignment.max_score}
            try:
                submission = gradebook.find_submission(assignment.name, student.id)
            except MissingEntry:       # nothing submitted: zero, as nbgrader does
                row.update(timestamp="", raw_score=0.0, late_submission_penalty=0.0, score=0.0)
            else:
                penalty = submission.late_submission_penalty
                row.update(timestamp=submission.timestamp, raw_score=submission.score,
                           late_submission_penalty=penalty, score=max(0.0, submission.score - penalty))
            yield {key: "" if value is None else str(value) for key, value in row.items()}


class GradesCsvExport(ExportPlugin):
    """CSV export of the gradebook (``nbgrader export``), UTF-8, one row per assignment and student."""

    def export(self, gradebook):
        dest = self.to or "grades.csv"
        self.log.info("Exporting grades to %s", dest)
        with open(dest, "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows(gradebook, [str(a) for a in self.assignment], [str(s) for s in self.student]))
