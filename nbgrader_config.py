"""nbgrader configuration for the reludrop course (the course root is this file's directory).

    solutions/<id>/<id>.ipynb   the instructor's notebooks: reference answers, hidden tests, stored outputs
    notebooks/<id>/<id>.ipynb   the student release, committed; rebuild it from the repository root with
                                nbgrader generate_assignment <id> --force

``gradebook.db``, ``submitted/``, ``autograded/`` and ``feedback/`` are git-ignored:
the gradebook keeps a copy of the hidden tests.
"""

import importlib.util
import os

c = get_config()  # noqa: F821 (nbgrader provides get_config when it loads this file)

#: The four assignments, one notebook each, in course order.
ASSIGNMENTS = ["01_relu_network", "02_softmax_comparison", "03_sigmoid_dropout", "04_relu_dropout"]

c.CourseDirectory.course_id = "reludrop"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
# The gradebook: gradebook.db in this folder (sqlite), unless RELUDROP_DB_URL names another database, such as a
# PostgreSQL server that several grading machines share (docs/grading-at-scale.md). `python -m autograder --db-url`
# overrides both. Keep the password out of the URL when you can (~/.pgpass): the gradebook holds the hidden tests.
if os.environ.get("RELUDROP_DB_URL"):
    c.CourseDirectory.db_url = os.environ["RELUDROP_DB_URL"]

# Only the assignment's own notebook is released: no caches, checkpoints or stray files.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.png"]

# The release carries no outputs, no execution counts (nbgrader's ClearOutput always
# does that) and none of the per-cell metadata that running or viewing a notebook adds:
# timings, collapsed/scrolled state, and the nbval tags the solutions need for their
# regression test (students have no use for them). "editable"/"deletable" stay: nbgrader's
# LockCells sets them on the read-only cells just before this step.
c.ClearOutput.remove_metadata_fields = {
    "collapsed", "scrolled", "execution", "ExecuteTime", "jupyter", "tags", "widgets", "slideshow", "vscode",
}

# Demonstration cells: a read-only cell tagged "demo-only" in solutions/ (a training run over several seeds, a
# comparison, a plot) runs for students but not while grading (c.GradingExecute.skip_demonstrations below): it
# earns no points. CheckDemonstrations refuses the release when a tag is on an answer, test or editable cell, or
# when a cell that runs reads a name only a demonstration cell binds (autograder/demonstrations.py).
c.GenerateAssignment.preprocessors = [
    "autograder.grading.preprocessors.CheckDemonstrations",
    "nbgrader.preprocessors.IncludeHeaderFooter",
    "nbgrader.preprocessors.InstantiateTests",
    "nbgrader.preprocessors.LockCells",
    "nbgrader.preprocessors.ClearSolutions",
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.CheckCellMetadata",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.SaveCells",
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbgrader.preprocessors.ClearMarkScheme",
    "nbgrader.preprocessors.ComputeChecksums",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# --- Grading a whole class (autograder/, `python -m autograder`) ------------------------------------------------
# What nbgrader does not do by default, each setting with its reason. The classes live in autograder/ and are
# named by their dotted path: nbgrader imports each only in the step that uses it.

# Sanitizing: record what the student changed in cells that are not theirs (AuditSubmission, first, while
# the submission is untouched), then nbgrader's own steps, with DeduplicateIds and OverwriteCells replaced by
# versions that do not fail the notebook on a duplicated cell and that restore every read-only cell.
c.Autograde.sanitize_preprocessors = [
    "autograder.grading.preprocessors.AuditSubmission",
    "nbgrader.preprocessors.ClearOutput",
    "autograder.grading.preprocessors.DeduplicateCells",   # a duplicated cell: only its last copy keeps its grade id
    "nbgrader.preprocessors.OverwriteKernelspec",
    "autograder.grading.preprocessors.RestoreCells",        # locked cells get their gradebook source and type back
    "nbgrader.preprocessors.CheckCellMetadata",
]
# A deleted test (or read-only) cell is put back from the gradebook and run: deleting a test never earns points.
c.OverwriteCells.add_missing_cells = True

# Grading: GradingExecute instead of nbgrader's Execute (limits, guard, a dead or stuck kernel never loses
# the student), and ScoreErrorsOnly before SaveAutoGrades (stderr output is not an error).
c.Autograde.autograde_preprocessors = [
    "autograder.sandbox.execute.GradingExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "autograder.grading.preprocessors.ScoreErrorsOnly",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.Execute.timeout = 60                  # seconds per cell; the slowest reference cell takes about 2 s
c.Execute.interrupt_on_timeout = True   # then interrupt; a kernel that ignores it is killed (GradingExecute)
c.GradingExecute.notebook_timeout = 900  # seconds per notebook in all
c.GradingExecute.memory_limit = 4096     # MiB of address space per kernel (a course notebook peaks near 1100)
# Every grading kernel runs in its own bubblewrap sandbox (autograder/sandbox/bubblewrap.py): this student's files
# in a scratch tmpfs, Python read-only, no gradebook, solutions or classmates, no network, its own PID namespace,
# an allow-listed environment. Grading refuses to start where bubblewrap cannot run (apt-get install bubblewrap);
# False (or `python -m autograder --no-sandbox`) grades anyway, with the instructor's rights, and says so loudly.
c.GradingExecute.sandbox = True
c.GradingExecute.max_processes = 64      # processes and threads per kernel (a course kernel uses about 10)
c.GradingExecute.scratch_size = 512      # MiB: the kernel's working folder; /tmp gets tmp_size (256)
# The cells tagged "demo-only" (above) are not run while grading; each shows one line saying so. A student whose
# own code reads a name only such a cell binds has them all run. False runs every cell, as plain nbgrader does.
c.GradingExecute.skip_demonstrations = True

# Feedback: the student reads each failure's message, never the hidden tests' code or tracebacks. The page opens
# with a summary (autograder/grading/feedback_summary.py): one row per graded item, its points, passed / lost /
# pending, and the check's message; a written answer nobody graded yet is pending, not 0 (GetGradesPending).
# FeedbackSummary comes last: it reads the notebook as StudentFeedback left it.
c.GenerateFeedback.preprocessors = [
    "autograder.grading.feedback_summary.GetGradesPending",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
    "autograder.grading.preprocessors.StudentFeedback",
    "autograder.grading.feedback_summary.FeedbackSummary",
]
# The page's template: autograder/grading/templates/reludrop_feedback/feedback.html.j2 (package data). It extends
# nbgrader's feedback/index.html.j2 (hence not named index.html.j2 itself, which would hide it), so both template
# folders are listed, nbgrader's found from the installed package. Set for GenerateFeedback's exporter only: nbgrader's
# Python API (`python -m autograder feedback`) sets c.HTMLExporter.template_name = "feedback" itself, which would win
# over a plain c.HTMLExporter setting, and a c.HTMLExporter.template_file would also reach the formgrader's exporter.
_NBGRADER = os.path.dirname(importlib.util.find_spec("nbgrader").origin)
_AUTOGRADER = os.path.dirname(importlib.util.find_spec("autograder").origin)
c.GenerateFeedback.HTMLExporter.template_name = "reludrop_feedback"
c.GenerateFeedback.HTMLExporter.template_file = "feedback.html.j2"
c.GenerateFeedback.HTMLExporter.extra_template_basedirs = [
    os.path.join(_NBGRADER, "server_extensions", "formgrader", "templates"),
    os.path.join(_AUTOGRADER, "grading", "templates"),
]

# grades.csv: UTF-8 whatever the locale (student names may be Chinese), quoted as CSV must be.
c.ExportApp.plugin_class = "autograder.grading.export.GradesCsvExport"

# Student kits (`python -m autograder student-kit ASSIGNMENT... --to DIR`, autograder/kit/): what a student receives,
# with no solutions, gradebook, hidden tests or seeds, and no implementation of a function graded in that assignment
# or a later one. The notebooks of 02-04 import the functions of 01 (and 04 those of 03) from the student package:
# their kits can be built once those solutions are released here (after the deadline), e.g. ["01_relu_network"].
c.StudentKit.released_solutions = []
