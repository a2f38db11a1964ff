"""``python -m autograder ...`` run in the test's own process, for tests of the command line."""

import contextlib
import io

from autograder import cli


def run_cli(*args):
    """Run the command line with ``args``; return (exit status, everything it printed on stdout and stderr)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        status = cli.main(list(args))
    return status, out.getvalue()
