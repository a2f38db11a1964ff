"""``python -m autograder``: the instructor's pipeline (see ``autograder.pipeline``)."""

import sys

from .pipeline import main

sys.exit(main())
