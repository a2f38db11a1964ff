"""nbgrader configuration for the reludrop course (the course root is this file's directory).

    solutions/<id>/<id>.ipynb   the instructor's notebooks: reference answers, hidden tests, stored outputs
    notebooks/<id>/<id>.ipynb   the student release, committed; rebuild it from the repository root with
                                nbgrader generate_assignment <id> --force

``gradebook.db``, ``submitted/``, ``autograded/`` and ``feedback/`` are git-ignored:
the gradebook keeps a copy of the hidden tests.
"""

import os

c = get_config()  # noqa: F821 (nbgrader provides get_config when it loads this file)

#: The four assignments, one notebook each, in course order.
ASSIGNMENTS = ["01_relu_network", "02_softmax_comparison", "03_sigmoid_dropout", "04_relu_dropout"]

c.CourseDirectory.course_id = "reludrop"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
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
