"""The class insight report: what the class got wrong, and answers that look copied.

    collect     one record per student and graded function: the points, the check's diagnosis, the answer cell
    mistakes    the students who lost each function's points, grouped by diagnosis (or by behaviour)
    similarity  answer cells in canonical form (normalised syntax trees) and how alike two of them are
    copies      answer cells shared by students, or taken from the instructor's reference
    report      both, as JSON and as one HTML page (``python -m autograder insight``)
"""
