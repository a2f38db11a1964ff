"""``python -m autograder``: the instructor's pipeline (see ``autograder.cli``)."""

import sys

from .cli import main

sys.exit(main())
