"""Tests for autograder.insight.similarity: canonical answer cells and copy detection."""

import ast
import builtins
import itertools
import pathlib
import textwrap

import pytest

import reludrop_core
from autograder.insight.similarity import (
    MIN_SIZE,
    NEAR,
    Normalised,
    against_reference,
    groups,
    normalise,
    similarity,
    telling,
)


def cell(text):
    """An answer cell's source, written indented in the test."""
    return textwrap.dedent(text).lstrip("\n")


def key(text, **kwargs):
    return normalise(cell(text), **kwargs).key


RELU = "def ReLU(z):\n    return np.maximum(0, z)\n"

SOFTMAX = cell("""
    def softmax(z):
        e = np.exp(z - np.max(z, axis=1, keepdims=True))
        return e / np.sum(e, axis=1, keepdims=True)
""")

#: A wrong backprop (the second gradient is not divided by m), as one student wrote it.
BACKPROP = cell('''
    def backprop(params, size, index, X, Y, activate_fcn, activate_fcn_gradient):
        """Cost and gradient."""
        m = X.shape[0]
        theta1 = params[:index[0]].reshape(size[1], size[0])
        theta2 = params[index[0]:].reshape(size[2], size[1])
        z2 = X @ theta1.T
        a2 = activate_fcn(z2)
        h = softmax(a2 @ theta2.T)
        cost = -np.sum(Y * np.log(h)) / m
        delta3 = h - Y
        delta2 = (delta3 @ theta2) * activate_fcn_gradient(z2)
        grad1 = delta2.T @ X / m
        grad2 = delta3.T @ a2
        return cost, np.concatenate([grad1.ravel(), grad2.ravel()])
''')

#: The same wrong backprop, copied: names changed, comments added, independent lines moved.
BACKPROP_COPY = cell('''
    def backprop(p, layer_sizes, idx, data, labels, g, g_prime):
        # unpack the weights first
        W2 = p[idx[0]:].reshape(layer_sizes[2], layer_sizes[1])
        W1 = p[:idx[0]].reshape(layer_sizes[1], layer_sizes[0])

        n_samples = data.shape[0]   # number of samples
        hidden_in = data @ W1.T
        hidden = g(hidden_in)
        out = softmax(hidden @ W2.T)
        err_out = out - labels
        J = -np.sum(labels * np.log(out)) / n_samples
        err_hidden = (err_out @ W2) * g_prime(hidden_in)
        # gradients
        G2 = err_out.T @ hidden
        G1 = err_hidden.T @ data / n_samples
        return J, np.concatenate([G1.ravel(), G2.ravel()])
''')

#: Three honest forward passes: an enumerate loop, hidden layers then output, explicit layers.
FORWARD_LOOP = cell("""
    def forward_propagate(X, thetas, activate_fcn):
        a = X
        z_out, a_out = [], []
        for i, theta in enumerate(thetas):
            z = a @ theta.T
            a = softmax(z) if i == len(thetas) - 1 else activate_fcn(z)
            z_out.append(z)
            a_out.append(a)
        return z_out, a_out
""")

#: The shortest honest loop: six lines of body.
FORWARD_SHORT = cell("""
    def forward_propagate(X, thetas, activate_fcn):
        a = X
        z_out, a_out = [], []
        for theta in thetas:
            z = a @ theta.T
            a = activate_fcn(z)
            z_out.append(z)
            a_out.append(a)
        return z_out, a_out
""")

FORWARD_STACK = cell("""
    def forward_propagate(X, thetas, activate_fcn):
        zs = [None]
        acts = [X]
        for theta in thetas[:-1]:
            zs.append(acts[-1] @ theta.T)
            acts.append(activate_fcn(zs[-1]))
        zs.append(acts[-1] @ thetas[-1].T)
        acts.append(softmax(zs[-1]))
        return zs[1:], acts[1:]
""")

FORWARD_LAYERS = cell("""
    def forward_propagate(X, thetas, activate_fcn):
        theta1, theta2, theta3 = thetas
        z2 = X @ theta1.T
        a2 = activate_fcn(z2)
        z3 = a2 @ theta2.T
        a3 = activate_fcn(z3)
        z4 = a3 @ theta3.T
        a4 = softmax(z4)
        return [z2, z3, z4], [a2, a3, a4]
""")

TRAIN_STARTER = cell('''
    def train(X, Y, alpha):
        """Gradient descent: return the weights after 100 epochs."""
        m = X.shape[0]
        # YOUR CODE HERE
        raise NotImplementedError()
''')

TRAIN_ANSWER = cell('''
    def train(X, Y, alpha):
        """Gradient descent: return the weights after 100 epochs."""
        m = X.shape[0]
        theta = np.zeros((X.shape[1], Y.shape[1]))
        costs = []
        for epoch in range(100):
            h = softmax(X @ theta)
            costs.append(-np.sum(Y * np.log(h)) / m)
            grad = X.T @ (h - Y) / m
            theta = theta - alpha * grad
            if epoch % 10 == 0:
                print(epoch, costs[-1])
        plt.plot(costs)
        return theta
''')


# --- 1. what does not count -----------------------------------------------

def test_comments_spacing_docstrings_pass_annotations_do_not_count():
    """Do comments, blank lines, spacing, docstrings, `pass`, annotations and a final `return None` not count?"""
    plain = """
        def scale(z, k=2.0):
            y = z * k
            print(y)
    """
    dressed = '''
        """Module docstring."""
        def scale(z: np.ndarray, k: float = 2.0) -> None:
            """Scale z by k."""
            # multiply
            y : np.ndarray   =   z*k     # the product

            pass
            print( y )
            return None
    '''
    assert key(plain) == key(dressed)


def test_return_none_is_a_bare_return():
    """Is ``return None`` in the middle of a function the same as a bare ``return``?"""
    assert key("""
        def f(x):
            if x:
                return None
            print(x)
    """) == key("""
        def f(x):
            if x:
                return
            print(x)
    """)


# --- 2. names ------------------------------------------------------------

def test_renamed_locals_parameters_and_loop_variables_give_the_same_key():
    """Do renamed parameters, locals and loop variables give the same key?"""
    assert key("""
        def total(values, scale):
            acc = 0
            for v in values:
                acc = acc + v * scale
            return acc
    """) == key("""
        def total(xs, k):
            s = 0
            for item in xs:
                s = s + item * k
            return s
    """)


def test_renamed_helper_functions_give_the_same_key():
    """Is a helper function defined in the cell renamed too, at its definition and its calls?"""
    assert key("""
        def _stable(z):
            return z - np.max(z, axis=1, keepdims=True)

        def softmax(z):
            e = np.exp(_stable(z))
            return e / np.sum(e, axis=1, keepdims=True)
    """) == key("""
        def shift(t):
            return t - np.max(t, axis=1, keepdims=True)

        def softmax(t):
            ex = np.exp(shift(t))
            return ex / np.sum(ex, axis=1, keepdims=True)
    """)


@pytest.mark.parametrize("changed", [
    "np.minimum(0, z)",              # another numpy function
    "numpy.maximum(0, z)",           # another module name
    "np.maximum(0, z.T)",            # an attribute
    "np.maximum(0, z, out=z)",       # a keyword-argument name
    "np.maximum(0, len(z))",         # a builtin
    "np.maximum(0, sigmoid(z))",     # a function of another cell
])
def test_names_the_cell_does_not_bind_are_kept(changed):
    """Do modules, attributes, keyword names, builtins and other cells' functions keep their names?"""
    base = normalise(RELU)
    other = normalise(RELU.replace("np.maximum(0, z)", changed))
    assert other.key != base.key


def test_the_canonical_tokens_show_kept_names_and_hide_local_ones():
    """Do the tokens hold ``np``, ``exp``, ``axis``, ``shape`` and ``range`` but no local name?"""
    n = normalise(cell("""
        def f(scores):
            rows = scores.shape[0]
            for r in range(rows):
                scores[r] = np.exp(scores[r]) / np.sum(np.exp(scores[r]), axis=0)
            return scores
    """))
    for kept in ("'np'", "'exp'", "'axis'", "'shape'", "'range'"):
        assert kept in n.tokens
    assert not {"'scores'", "'rows'", "'r'", "'f'"} & set(n.tokens)


def test_a_local_that_shadows_a_global_is_not_the_global():
    """Is ``sigmoid`` assigned in the cell a different name from the global ``sigmoid`` another cell defines?"""
    assert key("""
        def f(z):
            g = sigmoid
            return g(z)
    """) != key("""
        def f(z):
            sigmoid = np
            return sigmoid(z)
    """)


def test_a_comprehension_variable_that_shadows_a_parameter_is_renamed_apart():
    """Does renaming a comprehension variable that shadows a parameter keep the key (order included)?"""
    shadowing = """
        def f(x, y):
            a = sum(x for x in y)
            b = sum(w for w in x)
            return a - b
    """
    assert key(shadowing) == key(shadowing.replace("x for x", "t for t"))


class _Rename(ast.NodeTransformer):
    """Rename every name in ``mapping`` wherever a cell binds or uses it."""

    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, node):
        node.id = self.mapping.get(node.id, node.id)
        return node

    def visit_arg(self, node):
        node.arg = self.mapping.get(node.arg, node.arg)
        return node

    def visit_FunctionDef(self, node):
        node.name = self.mapping.get(node.name, node.name)
        return self.generic_visit(node)

    def visit_Global(self, node):
        node.names = [self.mapping.get(n, n) for n in node.names]
        return node


def package_functions():
    """Every top-level function of reludrop_core, as the source of one cell each."""
    for path in sorted(pathlib.Path(reludrop_core.__file__).parent.glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef):
                yield f"{path.stem}.{node.name}", ast.unparse(node)


def test_renaming_every_bound_name_of_the_package_keeps_each_key():
    """Does consistently renaming every name each reludrop_core function binds leave its key unchanged?"""
    checked = 0
    for name, source in package_functions():
        tree = ast.parse(source)
        bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
        bound |= {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
        bound |= {d.name for d in ast.walk(tree) if isinstance(d, ast.FunctionDef)}
        mapping = {b: f"renamed_{len(b)}_{b[::-1]}" for b in bound - set(dir(builtins))}
        renamed = ast.unparse(_Rename(mapping).visit(tree))
        assert normalise(renamed).key == normalise(source).key, name
        checked += 1
    assert checked > 20


# --- 3. statement order --------------------------------------------------

def test_swapped_independent_assignments_give_the_same_key():
    """Do two independent assignments in either order give the same key?"""
    assert key("""
        def f(x, y):
            a = x + 1
            b = y * 2
            return a - b
    """) == key("""
        def f(x, y):
            b = y * 2
            a = x + 1
            return a - b
    """)


def test_swapped_dependent_assignments_give_different_keys():
    """Does swapping two statements that depend on each other (the meaning changes) change the key?"""
    assert key("""
        def f(x):
            a = x + 1
            a = a * 2
            return a
    """) != key("""
        def f(x):
            a = a * 2
            a = x + 1
            return a
    """)


def test_swapped_initialisations_that_look_alike_give_the_same_key():
    """Are ``dw = 0; db = 0`` in either order (and the loop's two updates swapped) the same key, although
    their sort keys tie?"""
    assert key("""
        def f(x):
            dw = 0
            db = 0
            for v in x:
                dw = dw + v
                db = db + 1
            return dw / db
    """) == key("""
        def f(x):
            count = 0
            total = 0
            for v in x:
                count = count + 1
                total = total + v
            return total / count
    """)


def test_top_level_helpers_may_come_before_or_after_the_graded_function():
    """Does it matter whether the helper is defined before or after the function that calls it?"""
    helper = "def clip(h):\n    return np.maximum(h, 1e-12)\n\n"
    graded = "def cost(h, Y):\n    return -np.mean(np.sum(Y * np.log(clip(h)), axis=1))\n\n"
    assert normalise(helper + graded).key == normalise(graded + helper).key


def test_statements_do_not_move_across_a_loop_or_a_return():
    """Does moving a statement across a ``for`` loop change the key (control flow is a barrier)?"""
    assert key("""
        def f(x):
            s = 0
            for v in x:
                print(v)
            t = 1
            return s + t
    """) != key("""
        def f(x):
            s = 0
            t = 1
            for v in x:
                print(v)
            return s + t
    """)


@pytest.mark.parametrize("first, second", [
    ("print(a)", "print(b)"),                     # calls with effects keep their order
    ("lst.append(1)", "n = len(lst)"),            # a method that mutates its object
    ("a[0] = 1", "b = a[0]"),                     # subscript assignment writes a
    ("np.add(a, 1, out=b)", "c = b + 1"),         # out= writes b
    ("activate(a)", "c = a + 1"),                 # an unknown function may change a
])
def test_statements_with_effects_keep_their_order(first, second):
    """Do swapped statements that may interfere through effects keep different keys?"""
    one = f"def f(a, b, lst, activate):\n    {first}\n    {second}\n    return lst, a, b\n"
    two = f"def f(a, b, lst, activate):\n    {second}\n    {first}\n    return lst, a, b\n"
    assert normalise(one).key != normalise(two).key


def test_a_call_to_a_local_function_reads_what_the_function_reads():
    """Does a call to a function defined in the cell keep its order with the globals that function uses?"""
    one = "def get():\n    return K\n\nK = 1\ny = get()\nK = 2\n"
    two = "def get():\n    return K\n\nK = 1\nK = 2\ny = get()\n"
    assert normalise(one).key != normalise(two).key


# --- 4. what must not collapse -------------------------------------------

@pytest.mark.parametrize("one, two", [
    ("a = x + y\n    return a * x", "a = x + y\n    return a * y"),
    ("return np.sum(x, axis=0)", "return np.sum(x, axis=1)"),
    ("return x * 0.5", "return x * 0.25"),
    ("return x * 1", "return x * 1.0"),
    ("return x - y", "return y - x"),
    ("return x.T @ y", "return x @ y.T"),
])
def test_different_code_gives_different_keys(one, two):
    """Do code with another variable, axis, constant or operand order give different keys?"""
    assert normalise(f"def f(x, y):\n    {one}\n").key != normalise(f"def f(x, y):\n    {two}\n").key


def test_parameter_order_counts():
    """Does swapping the roles of two parameters change the key (a positional API fixes their order)?"""
    assert key("def f(x, y):\n    return x / y\n") != key("def f(x, y):\n    return y / x\n")


# --- 5. starter code -----------------------------------------------------

def test_starter_statements_do_not_count_towards_size():
    """Does the size count only the student's lines, not the provided docstring, ``m = X.shape[0]`` or the stub?"""
    with_starter = normalise(TRAIN_ANSWER, starter=TRAIN_STARTER)
    without = normalise(TRAIN_ANSWER)
    starter_only = normalise(TRAIN_STARTER)
    # The def line never counts (it is the API). m = X.shape[0] is Assign, Name, Subscript,
    # Attribute, Name, Constant: 6 nodes; raise NotImplementedError() is Raise, Call, Name: 3.
    assert with_starter.size == without.size - 6
    assert starter_only.size == 6 + 3
    assert telling(with_starter)


def test_a_cell_equal_to_the_starter_is_none():
    """Is an unchanged release cell (comments moved about) None: nothing of the student's own?"""
    assert normalise(TRAIN_STARTER, starter=TRAIN_STARTER) is None
    assert normalise(TRAIN_STARTER.replace("# YOUR CODE HERE", "# TODO"), starter=TRAIN_STARTER) is None


def test_a_cell_that_only_deleted_the_stub_is_none():
    """Is a cell that only removed ``raise NotImplementedError()`` None as well?"""
    assert normalise(TRAIN_STARTER.replace("raise NotImplementedError()", ""), starter=TRAIN_STARTER) is None


def test_students_who_differ_only_in_starter_statements_match():
    """Do a student who kept the stub after their code and one who deleted it get the same key?"""
    kept = TRAIN_ANSWER.replace("    return theta\n", "    return theta\n    raise NotImplementedError()\n")
    assert normalise(kept, starter=TRAIN_STARTER).key == normalise(TRAIN_ANSWER, starter=TRAIN_STARTER).key


def test_an_unparsable_starter_is_an_error():
    """Is a release cell that does not parse reported, rather than silently ignored?"""
    with pytest.raises(ValueError, match="starter"):
        normalise(RELU, starter="def f(:\n")


def test_functions_keeps_only_the_named_definitions():
    """Does ``functions`` keep one graded function out of a module with many, and drop everything else?"""
    module = "import numpy as np\n\nEPS = 1e-12\n\n" + SOFTMAX + "\n" + RELU
    assert normalise(module, functions={"ReLU"}).key == normalise(RELU).key
    assert normalise(module, functions={"missing"}) is None


# --- 6. sources that are not plain code ----------------------------------

@pytest.mark.parametrize("source", ["def f(:\n    return 1\n", "x = (\n", "", "# only a comment\n", "\x00"])
def test_sources_that_hold_no_code_are_none(source):
    """Is a syntax error, an empty cell or a comment-only cell None, never an exception?"""
    assert normalise(source) is None


def test_magic_lines_are_ignored():
    """Are IPython magics (``%timeit``, ``!ls``, ``%%time``) stripped before parsing?"""
    magic = "%%time\n%load_ext autoreload\n!ls data\n" + RELU + "%timeit ReLU(np.ones(3))\n"
    assert normalise(magic).key == normalise(RELU).key


# --- similarity, telling -------------------------------------------------

def test_similarity_is_one_exactly_for_equal_keys():
    """Is similarity 1.0 for equal keys and strictly below 1.0 otherwise, even for a tiny change?"""
    a, b = normalise(BACKPROP), normalise(BACKPROP_COPY)
    c = normalise(BACKPROP.replace("1], size[0]", "1], size[0] + 0"))
    assert similarity(a, b) == 1.0
    assert NEAR <= similarity(a, c) < 1.0
    assert 0.0 <= similarity(a, normalise(RELU)) < 0.5


def test_min_size_separates_one_liners_from_real_work():
    """Are ReLU, a 2-line softmax and the plainest forward loops (what honest students write alike) below
    MIN_SIZE, and a longer forward pass and a backprop above it?"""
    release_relu = "def ReLU(z):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
    small = [normalise(RELU), normalise(RELU, starter=release_relu), normalise(SOFTMAX), normalise(FORWARD_SHORT),
             normalise(FORWARD_LAYERS), normalise(FORWARD_LOOP)]
    large = [normalise(FORWARD_STACK), normalise(BACKPROP)]
    print("sizes", [n.size for n in small], [n.size for n in large])
    assert max(n.size for n in small) < MIN_SIZE <= min(n.size for n in large)
    assert not any(telling(n) for n in small)
    assert all(telling(n) for n in large)
    assert telling(normalise(RELU), min_size=1)


def test_normalised_keeps_the_source():
    """Does a Normalised carry the original source for the report to show?"""
    n = normalise(RELU)
    assert isinstance(n, Normalised) and n.source == RELU and len(n.key) == 64


# --- 7. scenarios ------------------------------------------------------

def test_a_disguised_copy_of_a_wrong_backprop_is_one_group():
    """Do two students with a renamed, re-commented, reordered copy of one wrong backprop form one group at 1.0?"""
    honest = BACKPROP.replace("grad2 = delta3.T @ a2", "grad2 = delta3.T @ a2 / m")
    cells = {"s2": normalise(BACKPROP_COPY), "s1": normalise(BACKPROP), "s3": normalise(honest),
             "s4": None, "s5": normalise("def backprop(:\n")}
    assert groups(cells) == [(["s1", "s2"], 1.0)]


def test_honest_one_liners_are_never_grouped():
    """Are five students who all wrote ``return np.maximum(0, z)`` (some renamed) never a group?"""
    sources = [RELU, RELU.replace("z", "x"), RELU + "# done\n", RELU, '"""ReLU."""\n' + RELU]
    cells = {f"s{i}": normalise(s) for i, s in enumerate(sources)}
    assert len({n.key for n in cells.values()}) == 1
    assert groups(cells) == []
    assert groups(cells, threshold=NEAR) == []


def test_three_honest_forward_passes_do_not_cluster():
    """Do a loop, a layer stack and explicit layers stay apart, even at the near-copy threshold and with
    every one of them counted as telling?"""
    cells = {"loop": normalise(FORWARD_LOOP), "stack": normalise(FORWARD_STACK),
             "layers": normalise(FORWARD_LAYERS)}
    scores = {(a, b): similarity(cells[a], cells[b]) for a, b in itertools.combinations(cells, 2)}
    print("forward pass similarities", scores)
    assert all(telling(n, min_size=40) for n in cells.values())
    assert groups(cells, min_size=40) == []
    assert groups(cells, min_size=40, threshold=NEAR) == []
    assert max(scores.values()) < NEAR


@pytest.mark.parametrize("change, old, new", [
    ("one print added", "    # gradients\n", "    print(J)\n"),
    ("one constant changed", "/ n_samples\n    err_hidden", "/ n_samples * 1.0\n    err_hidden"),
    ("one line dropped", "    J = -np.sum(labels * np.log(out)) / n_samples\n", ""),
])
def test_a_copy_with_one_line_changed_is_near(change, old, new):
    """Does a disguised copy with one line added, changed or dropped score between NEAR and 1.0?"""
    assert old in BACKPROP_COPY
    score = similarity(normalise(BACKPROP), normalise(BACKPROP_COPY.replace(old, new)))
    print(change, score)
    assert NEAR <= score < 1.0


def test_near_copies_cluster_at_near_only():
    """Is a copy with one extra line grouped at NEAR but not at 1.0, scored by its minimum similarity?"""
    extra = BACKPROP_COPY.replace("    # gradients\n", "    print(J)\n")
    cells = {"a": normalise(BACKPROP), "b": normalise(BACKPROP_COPY), "c": normalise(extra)}
    assert groups(cells) == [(["a", "b"], 1.0)]
    (students, score), = groups(cells, threshold=NEAR)
    assert students == ["a", "b", "c"] and NEAR <= score < 1.0


def test_a_pasted_reference_is_flagged_and_an_own_version_is_not():
    """Is a pasted reference with new names and comments flagged at 1.0, and an answer of one's own not?"""
    reference = normalise(FORWARD_LOOP)
    pasted = cell("""
        def forward_propagate(data, weights, g):
            # forward pass, layer by layer
            z_list, a_list = [], []
            out = data
            for layer, w in enumerate(weights):
                lin = out @ w.T        # linear part
                out = softmax(lin) if layer == len(weights) - 1 else g(lin)
                z_list.append(lin)
                a_list.append(out)
            return z_list, a_list
    """)
    cells = {"paster": normalise(pasted), "own": normalise(FORWARD_STACK), "short": normalise(RELU), "blank": None}
    assert against_reference(cells, [reference, None], min_size=40) == [("paster", 1.0)]
    assert against_reference(cells, [reference, None]) == []          # a 9-line loop is not telling enough
    near = dict(against_reference(cells, [reference], min_size=40, threshold=NEAR))
    assert set(near) == {"paster"}
