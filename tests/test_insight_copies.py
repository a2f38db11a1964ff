"""Which answer cells ``copies.similar`` flags for one function, and what it does with cells no parser likes."""

from autograder.insight import copies

STARTER = "def forward_propagate(X, thetas, activate_fcn):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
REFERENCE = '''\
def forward_propagate(X, thetas, activate_fcn):
    X = np.asarray(X, dtype=np.float64)
    z_out, a_out = [X], [X]
    for theta in thetas[:-1]:
        z_out.append(a_out[-1] @ np.asarray(theta, dtype=np.float64).T)
        a_out.append(activate_fcn(z_out[-1]))
    z_out.append(a_out[-1] @ np.asarray(thetas[-1], dtype=np.float64).T)
    a_out.append(softmax(z_out[-1]))
    return z_out, a_out
'''
OWN = '''\
def forward_propagate(X, thetas, activate_fcn):
    zs, acts = [np.array(X, dtype=float)], [np.array(X, dtype=float)]
    last = len(thetas) - 1
    for layer, w in enumerate(thetas):
        z = acts[-1].dot(np.array(w, dtype=float).T)
        zs.append(z)
        acts.append(softmax(z) if layer == last else activate_fcn(z))
    return zs, acts
'''


def renamed(source, pairs):
    for old, new in pairs:
        source = source.replace(old, new)
    return source


def test_students_alike_because_of_the_reference_are_one_finding():
    """Are two students who both pasted the reference one reference flag (not also a pair), and two who
    share their own code one pair?"""
    sources = {"r1": REFERENCE, "r2": renamed(REFERENCE, [("z_out", "zz"), ("a_out", "aa")]),
               "o1": OWN, "o2": renamed(OWN, [("acts", "outs"), ("last", "final")]) + "# mine\n",
               "honest": STARTER.replace("# YOUR CODE HERE\n    raise NotImplementedError()", "return None")}
    flags = copies.similar("01", "forward_propagate", sources, STARTER, [("solution", REFERENCE)])
    found = sorted((f["kind"], tuple(f["students"]), f["score"]) for f in flags)
    assert found == [("identical", ("o1", "o2"), 1.0), ("reference", ("r1", "r2"), 1.0)]


def test_cells_no_parser_likes_are_skipped_not_fatal():
    """Do a syntax error, a cell nested past the parser's depth, a huge cell and a non-string skip quietly?"""
    deep = "def forward_propagate(X, thetas, activate_fcn):\n    return " + "(" * 5000 + "1" + ")" * 5000 + "\n"
    sources = {"syntax": "def forward_propagate(:\n", "deep": deep, "huge": "x = 1\n" * 50_000, "odd": None,
               "r1": REFERENCE}
    flags = copies.similar("01", "forward_propagate", sources, STARTER, [("solution", REFERENCE)])
    assert [(f["kind"], f["students"]) for f in flags] == [("reference", ["r1"])]
