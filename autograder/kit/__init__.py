"""Student kits: what a student receives for one assignment, with no answers in it.

``python -m autograder student-kit ASSIGNMENT... --to DIR`` (``autograder.kit.build``) writes, for each
assignment, a folder (and a zip of it) that holds the release notebook, the data, a student package,
the visible checks as recorded data, a one-command JupyterLab start in student mode and a README.

    rules.py      which functions each assignment grades, and which a kit may therefore implement
    settings.py   the course setting ``c.StudentKit.released_solutions``
    package.py    the student package: the reference core pruned to what the kit may hold
    record.py     the visible checks' cases, expected values and messages, computed at build time
    runtime/      the visible checks the kit ships: they judge against the recorded data, never reference code
    scan.py       the scan every kit passes before it is written: no answers, no instructor files
    build.py      one kit, from all of the above
"""
