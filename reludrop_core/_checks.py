"""Argument checks shared by the public functions.

Every public function of ``reludrop_core`` checks its arguments here, at the
boundary, and raises ``TypeError`` or ``ValueError`` with a message that says
what to fix, in Simplified Chinese first and then in English. The internal
helpers (names starting with ``_``) trust their arguments and stay fast.
"""

import numbers

import numpy as np


def message(zh, en):
    """Return one bilingual error message: the Chinese line, then the English line."""
    return f"{zh}\n{en}"


def as_float(name, z):
    """Return ``z`` as a float64 ndarray of any shape (cheap: no copy when it already is one)."""
    if type(z) is np.ndarray and z.dtype == np.float64:
        return z
    try:
        return np.asarray(z, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(message(
            f"{name} 必须是数值数组（ndarray、np.matrix 或嵌套列表），而不是 {type(z).__name__}。",
            f"{name} must be a numeric array (ndarray, np.matrix or nested list), not {type(z).__name__}.",
        )) from None


def as_matrix(name, A, finite=True):
    """Return ``A`` as a float64 ndarray of shape (rows, cols), finite unless ``finite=False``.

    Accepts lists, ndarrays and ``np.matrix``; never returns a matrix and never
    copies an array that is already float64.
    """
    arr = as_float(name, A)
    if arr.ndim != 2:
        raise ValueError(message(
            f"{name} 必须是二维数组，形状为 (样本数 m, 特征数)，但它的形状是 {arr.shape}；"
            f"单个样本请写成 x.reshape(1, -1)。",
            f"{name} must be 2-D with shape (m samples, features), but has shape {arr.shape}; "
            f"reshape a single sample with x.reshape(1, -1).",
        ))
    if finite and not np.isfinite(arr).all():
        raise ValueError(message(
            f"{name} 含有 NaN 或无穷大，请先检查数据。",
            f"{name} contains NaN or infinity; check the data first.",
        ))
    return arr


def as_size(size):
    """Return the layer widths as a tuple of ints, each at least 1, at least two layers."""
    arr = np.asarray(size)
    if arr.ndim != 1 or arr.size < 2 or not np.issubdtype(arr.dtype, np.integer) or arr.min() < 1:
        raise ValueError(message(
            f"size 必须是各层节点数组成的整数列表，如 [25, 20, 5]（输入层、隐层……、输出层），收到 {size!r}。",
            f"size must list the layer widths as integers, e.g. [25, 20, 5] (input, hidden..., output); got {size!r}.",
        ))
    widths = tuple(int(w) for w in arr)
    return widths


def layer_index(size):
    """Return ``cumsum(size[1:] * size[:-1])``: where each layer's weights end in ``params``."""
    widths = np.asarray(size, dtype=np.int64)
    return np.cumsum(widths[1:] * widths[:-1])


def check_index(index, size):
    """Check that ``index`` is the cumulative layer-size array that ``size`` implies."""
    expected = layer_index(size)
    got = np.asarray(index).ravel()
    if got.shape != expected.shape or not np.array_equal(got, expected):
        raise ValueError(message(
            f"index 与 size 不一致：size={list(size)} 时 index 应为 np.cumsum(size[1:] * size[:-1]) = "
            f"{expected.tolist()}，收到 {got.tolist()}。",
            f"index does not match size: for size={list(size)} it must be np.cumsum(size[1:] * size[:-1]) = "
            f"{expected.tolist()}, got {got.tolist()}.",
        ))


def as_params(params, size):
    """Return ``params`` as a flat float64 array whose length matches ``size``."""
    arr = as_float("params", params).ravel()
    total = int(layer_index(size)[-1])
    if arr.size != total:
        parts = " + ".join(f"{size[i + 1]}x{size[i]}" for i in range(len(size) - 1))
        raise ValueError(message(
            f"params 有 {arr.size} 个元素，但 size={list(size)} 需要 {parts} = {total} 个。",
            f"params has {arr.size} entries but size={list(size)} needs {parts} = {total}.",
        ))
    if not np.all(np.isfinite(arr)):
        raise ValueError(message(
            "params 含有 NaN 或无穷大：学习率 alpha 可能太大，训练发散了。",
            "params contains NaN or infinity: the learning rate alpha may be too large and training diverged.",
        ))
    return arr


def as_thetas(thetas, n_features, size=None):
    """Return the weight matrices as float64 ndarrays, checking that they chain.

    ``thetas[i]`` must have shape (size[i+1], size[i]); without ``size`` only
    the columns are checked against the previous layer's width, and with
    ``n_features=None`` the first layer may have any width.
    """
    if isinstance(thetas, np.ndarray) or not hasattr(thetas, "__len__") or len(thetas) == 0:
        raise TypeError(message(
            "thetas 必须是每层一个参数矩阵的列表，thetas[i] 的形状为 (size[i+1], size[i])。",
            "thetas must be a list with one weight matrix per layer, thetas[i] of shape (size[i+1], size[i]).",
        ))
    out, width = [], n_features
    for i, theta in enumerate(thetas):
        t = as_matrix(f"thetas[{i}]", theta)
        width = t.shape[1] if width is None else width
        rows = t.shape[0] if size is None else size[i + 1]
        if t.shape != (rows, width):
            raise ValueError(message(
                f"thetas[{i}] 的形状是 {t.shape}，但第 {i + 1} 层需要 ({rows}, {width})："
                f"size[{i + 1}] x size[{i}]（第 {i} 层有 {width} 个节点）。",
                f"thetas[{i}] has shape {t.shape} but layer {i + 1} expects ({rows}, {width}): "
                f"size[{i + 1}] x size[{i}] (layer {i} has {width} nodes).",
            ))
        out.append(t)
        width = rows
    return out


def _is_list(obj):
    return not isinstance(obj, np.ndarray) and hasattr(obj, "__len__") and hasattr(obj, "__getitem__")


def _check_list(name, items, count, zh_what, en_what, zh_entries, en_entries):
    """Check that ``items`` is a list (or tuple, not an ndarray) of ``count`` entries; the messages say what it holds."""
    if not _is_list(items):
        raise TypeError(message(f"{name} 必须是{zh_what}。", f"{name} must be {en_what}."))
    if len(items) != count:
        raise ValueError(message(f"{name} 应有 {zh_entries}，收到 {len(items)} 项。",
                                 f"{name} must have {en_entries}, got {len(items)}."))


def as_layers(name, arrays, widths, m=None):
    """Return a forward pass's list (``z_out`` or ``a_out``) as float64 ndarrays, ``arrays[i]`` of shape (m, widths[i]).

    ``widths`` are the layer widths ``size``; with ``m=None`` the rows of ``arrays[0]`` give m.
    """
    n = len(widths)
    _check_list(name, arrays, n,
                "每层一个数组的列表（第 0 项是输入 X），即 forward_propagate 返回的那样",
                "a list with one array per layer (the input X first), as forward_propagate returns it",
                f"L + 1 = {n} 项（输入 X 和每层一项）", f"L + 1 = {n} entries (the input X and one per layer)")
    out = []
    for i, (a, w) in enumerate(zip(arrays, widths)):
        arr = as_matrix(f"{name}[{i}]", a)
        m = arr.shape[0] if m is None else m
        if arr.shape != (m, w):
            raise ValueError(message(
                f"{name}[{i}] 的形状是 {arr.shape}，但第 {i} 层应为 (样本数 m, size[{i}]) = ({m}, {w})。",
                f"{name}[{i}] has shape {arr.shape} but layer {i} needs (m samples, size[{i}]) = ({m}, {w}).",
            ))
        out.append(arr)
    return out


def as_gains(name, gains, m, widths):
    """Return Dropout gains, one float64 array per hidden layer, or None (no Dropout).

    ``gains[i]`` may have shape (widths[i],) (one mask for all samples, as ``Dropout`` draws it),
    (1, widths[i]) or (m, widths[i]) (one row per sample, as ``gains_from_forward`` reads them back).
    """
    if gains is None:
        return None
    n = len(widths)
    _check_list(name, gains, n,
                "每个隐层一个 Dropout 掩码（增益）的列表，或 None（不做 Dropout）",
                "a list with one Dropout mask (gains) per hidden layer, or None (no Dropout)",
                f"L - 1 = {n} 项（每个隐层一项，隐层宽度为 {list(widths)}）",
                f"L - 1 = {n} entries (one per hidden layer, widths {list(widths)})")
    out = []
    for i, (g, w) in enumerate(zip(gains, widths)):
        arr = as_float(f"{name}[{i}]", g)
        if arr.shape not in ((w,), (1, w), (m, w)):
            raise ValueError(message(
                f"{name}[{i}] 的形状是 {arr.shape}，但第 {i + 1} 层（隐层）有 {w} 个节点：应为 ({w},) 或 ({m}, {w})。",
                f"{name}[{i}] has shape {arr.shape} but hidden layer {i + 1} has {w} nodes: it must be ({w},) "
                f"or ({m}, {w}).",
            ))
        if not np.isfinite(arr).all():
            raise ValueError(message(
                f"{name}[{i}] 含有 NaN 或无穷大：掩码的值应为 0（丢弃）或增益 size/num（保留）。",
                f"{name}[{i}] contains NaN or infinity: a mask holds 0 (dropped) or the gain size/num (kept).",
            ))
        out.append(arr)
    return out


def as_one_hot(Y, m, k):
    """Return ``Y`` as a float64 (m, k) one-hot matrix, or explain what is wrong."""
    Y = as_matrix("Y", Y)
    if Y.shape != (m, k):
        raise ValueError(message(
            f"Y 的形状应为 (样本数 m, 类别数 k) = ({m}, {k})，收到 {Y.shape}。",
            f"Y must have shape (m samples, k classes) = ({m}, {k}), got {Y.shape}.",
        ))
    if not (np.all((Y == 0) | (Y == 1)) and np.all(Y.sum(axis=1) == 1)):
        bad = int(np.flatnonzero(~(np.all((Y == 0) | (Y == 1), axis=1) & (Y.sum(axis=1) == 1)))[0])
        raise ValueError(message(
            f"Y 必须是 one-hot 编码（每行恰有一个 1，其余为 0），但第 {bad} 行是 {Y[bad].tolist()}；"
            f"可用 np.eye(k)[labels - 1] 构造。",
            f"Y must be one-hot (exactly one 1 per row, zeros elsewhere), but row {bad} is {Y[bad].tolist()}; "
            f"build it with np.eye(k)[labels - 1].",
        ))
    return Y


def check_ratio(ratio, widths=()):
    """Return ``ratio`` as a float in [0, 1) such that every layer in ``widths`` keeps a node."""
    if isinstance(ratio, bool) or not isinstance(ratio, numbers.Real):
        raise TypeError(message(
            f"ratio（失活节点占比）必须是实数，收到 {type(ratio).__name__}。",
            f"ratio (the fraction of hidden nodes dropped) must be a real number, got {type(ratio).__name__}.",
        ))
    ratio = float(ratio)
    if not 0.0 <= ratio < 1.0:
        raise ValueError(message(
            f"ratio 是被丢弃（失活）节点的占比，必须在 [0, 1) 内，收到 {ratio}；"
            f"若你想写保留占比 p，请传入 1 - p。",
            f"ratio is the fraction of nodes dropped and must lie in [0, 1), got {ratio}; "
            f"if you meant the fraction kept, p, pass 1 - p.",
        ))
    for w in widths:
        if np.round(w * (1 - ratio)) < 1:
            raise ValueError(message(
                f"ratio={ratio} 太大：有 {w} 个节点的层按 round({w} * (1 - ratio)) 一个节点都不保留。请减小 ratio。",
                f"ratio={ratio} is too large: a layer of {w} nodes keeps round({w} * (1 - ratio)) = 0 nodes. "
                f"Use a smaller ratio.",
            ))
    return ratio


def check_activation(name, fcn):
    """Check that an activation argument is callable."""
    if not callable(fcn):
        raise TypeError(message(
            f"{name} 必须是函数（如 ReLU、sigmoid），不要写成调用结果 ReLU(z)。",
            f"{name} must be a function (such as ReLU or sigmoid), not the result of calling it, ReLU(z).",
        ))


def as_generator(seed):
    """Return a source of random numbers for ``seed``.

    ``None`` gives numpy's global generator (``np.random``), as the handout uses;
    an int seeds a new ``np.random.Generator``; a Generator is used as it is.
    """
    if seed is None:
        return np.random.mtrand._rand
    if isinstance(seed, (np.random.Generator, np.random.RandomState)):
        return seed
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        return np.random.default_rng(int(seed))
    raise TypeError(message(
        f"seed 必须是整数、np.random.Generator 或 None（使用 numpy 全局随机数），收到 {type(seed).__name__}。",
        f"seed must be an int, an np.random.Generator or None (numpy's global generator), got {type(seed).__name__}.",
    ))
