"""Running student code safely: the bottom layer of the grader.

The defences against a hostile submission, and where each lives:

==================  ===========================================  ==========================================
what                module                                       role
==================  ===========================================  ==========================================
the sandbox         ``autograder.sandbox.bubblewrap``            the boundary: what the kernel cannot see
                                                                 (gradebook, answers, classmates, network,
                                                                 the grader) it cannot touch
kernels in it       ``autograder.sandbox.kernel``                jupyter_client's side of the boundary
limits, timeouts    ``autograder.sandbox.execute``               GradingExecute: a dead, stuck or runaway
                                                                 kernel never loses the student or the batch
the in-kernel       ``autograder.sandbox.guard``                 second line: rebinding ``np.allclose`` or
guard                                                            ``checks`` costs that test, not others
the checks'         ``autograder.checks._tamper``,               second line: a check refuses to judge in
snapshot            ``autograder.checks._delegation``            a changed numpy or grader, or a function
                                                                 that calls the reference
cell audit, scan    ``autograder.grading.preprocessors``         before any code runs: edited, deleted or
                    (AuditSubmission), ``autograder.grading.scan``  duplicated read-only cells are restored;
                                                                 suspicious code is flagged
==================  ===========================================  ==========================================

Only the first is a boundary; the rest run in or beside the student's own process and are there to
give honest students fair grades when a classmate misbehaves, and the instructor a clear report.
"""
