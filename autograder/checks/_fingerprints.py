"""Recognising the usual mistakes in forward_propagate, cost_fcn and backprop by their fingerprints.

A fingerprint is what a known mistake computes: we compute it with the
reference's own public pieces (``forward_propagate_masked`` and
``backward_propagate`` accept other Dropout gains, another derivative or
the activations in place of z) and compare it with what the student's
function returned. Scalar fingerprints (a missing 1/m, a sign flip, a
constant factor) are fitted by least squares.
"""

import numpy as np

import reludrop_core as core

from . import _messages as msg
from ._cases import unpack
from ._compare import close, proportional, rel_error, scalar_close
from ._spec import matches

D = msg.Diagnosis
TOL = 1e-6


# --- forward_propagate ------------------------------------------------------------------------------------------

def forward_diagnosis(got, expected, f):
    """The mistake in a forward pass, from the lists ``got`` = (z_out, a_out) and the reference's."""
    (z_got, a_got), (z_exp, a_exp) = got, expected
    L = len(z_exp) - 1
    if len(z_got) == L and len(a_got) == L and close(z_got[0], z_exp[1]):
        return D("forward_missing_input",
                 "z_out 和 a_out 缺少第 0 项：它们应以输入 X 开头，z_out, a_out = [X], [X]。",
                 "z_out and a_out lack entry 0: both must start with the input X, z_out, a_out = [X], [X].")
    if len(a_got) != L + 1 or len(z_got) != L + 1:
        return D("forward_layers",
                 f"z_out 和 a_out 应各有 L + 1 = {L + 1} 项（输入 X 和每层一项），你返回了 {len(z_got)} 和 {len(a_got)} 项。",
                 f"z_out and a_out must have L + 1 = {L + 1} entries each (the input X and one per layer); "
                 f"yours have {len(z_got)} and {len(a_got)}.")
    if not all(close(g, e) for g, e in zip(z_got, z_exp)):
        return None
    if all(close(a_got[i], a_exp[i]) for i in range(L)):
        z_L = z_exp[-1]
        found = [("forward_no_softmax", f(z_L), "输出层没有用 softmax：最后一层应为 a_out[-1] = softmax(z_out[-1])。",
                  "the output layer does not use softmax: the last layer must be a_out[-1] = softmax(z_out[-1])."),
                 ("forward_softmax_of_activation", core.softmax(f(z_L)),
                  "输出层先用了隐层激活函数再套 softmax：最后一层应直接对 z_out[-1] 做 softmax。",
                  "the output layer applies the hidden activation and then softmax: apply softmax to z_out[-1] directly.")]
        for code, alt, zh, en in found:
            if matches(a_got[-1], alt):
                return D(code, zh, en)
    for i in range(1, L):
        if matches(a_got[i], z_exp[i]):
            return D("forward_no_activation", f"第 {i} 层（隐层）没有经过激活函数：a_out[{i}] 应为 activate_fcn(z_out[{i}])。",
                     f"hidden layer {i} skips the activation: a_out[{i}] must be activate_fcn(z_out[{i}]).")
    return None


# --- cost_fcn ---------------------------------------------------------------------------------------------------

def _bce_message(where_zh="", where_en=""):
    return (f"{where_zh}你用的是讲义印出的公式：对 softmax 的每个输出求二元交叉熵 -Y log h - (1 - Y) log(1 - h) 再相加。"
            f"它不是梯度 h - Y 所对应的损失。请用分类交叉熵 J = -(1/m) * np.sum(Y * np.log(h))。",
            f"{where_en}you use the handout's printed formula: the binary cross-entropy -Y log h - (1 - Y) log(1 - h) "
            f"summed over the softmax outputs. It is not the loss whose gradient is h - Y. Use the categorical "
            f"cross-entropy J = -(1/m) * np.sum(Y * np.log(h)).")


def cost_diagnosis(case, got, f):
    params, size, index, X, Y = case.args[:5]
    ce = core.cost_fcn(params, size, index, X, Y, f)
    bce = core.handout_cost(params, size, index, X, Y, f)
    m, k = X.shape[0], size[-1]
    zh, en = _bce_message()
    for code, alt, zh_, en_ in (
        ("cost_bce", bce, zh, en),
        ("cost_bce", bce * m, zh, en),
        ("cost_missing_1_over_m", ce * m, "代价少除了样本数 m：J = -(1/m) * sum(Y * log(h))。",
         "the cost is not divided by the number of samples m: J = -(1/m) * sum(Y * log(h))."),
        ("cost_mean_over_classes", ce / k, "你对全部 m×k 个元素取了平均（如 np.mean）：只应除以样本数 m，不要再除以类别数 k。",
         "you average over all m x k entries (np.mean): divide by the number of samples m only, not also by k."),
        ("cost_sign", -ce, "代价的符号反了：J = -(1/m) * sum(Y * log(h)) 是正数（log h < 0）。",
         "the cost has the wrong sign: J = -(1/m) * sum(Y * log(h)) is positive (log h < 0)."),
    ):
        if scalar_close(got, alt, rtol=1e-6):
            return D(code, zh_, en_)
    return None


# --- backprop ------------------------------------------------------------------------------------------------------

def _layer_alternatives(spec, case, masks):
    """(code, zh, en, layers) for every gradient mistake we know, computed lazily."""
    params, size, X, Y, f, g, thetas = spec.parts(case)
    ratio = spec.ratio
    z_out, a_out = core.forward_propagate_masked(X, thetas, f, masks)
    gains = masks
    yield ("derivative_at_a", "激活函数的导数应在线性输出 z 处求值：activate_fcn_gradient(z_out[i])，而你用的是激活值 a_out[i]。",
           "the activation's derivative must be taken at the linear output z, activate_fcn_gradient(z_out[i]); you "
           "took it at the activation a_out[i].",
           lambda: core.backward_propagate(thetas, a_out, a_out, Y, g, gains))
    yield ("missing_derivative", "反向传播时漏乘了激活函数的导数：delta = error * activate_fcn_gradient(z_out[i])。",
           "backpropagation leaves out the activation's derivative: delta = error * activate_fcn_gradient(z_out[i]).",
           lambda: core.backward_propagate(thetas, z_out, a_out, Y, np.ones_like, gains))
    if spec.activation == "softmax":
        yield ("softmax_grad_diagonal",
               "隐层 softmax 的梯度用了讲义的 s * (1 - s)：那只是雅可比矩阵的对角线，梯度差 30-70%。请让 softmax_gradient "
               "返回完整雅可比矩阵 (m, k, k)，并在 backprop 中用 delta = np.einsum('ij,ijl->il', error, J)。",
               "the hidden softmax's gradient uses the handout's s * (1 - s): only the diagonal of its Jacobian, off by "
               "30-70 %. Make softmax_gradient return the full Jacobian (m, k, k) and use "
               "delta = np.einsum('ij,ijl->il', error, J) in backprop.",
               lambda: core.backward_propagate(thetas, z_out, a_out, Y, core.handout_softmax_gradient, gains))
    if ratio > 0:
        gain = ", ".join(f"{w}/{int(np.round(w * (1 - ratio)))}" for w in size[1:-1])
        yield ("dropout_ignored",
               "ratio > 0 时 backprop 没有使用 Dropout：请调用 forward_propagate_dropout(X, thetas, activate_fcn, ratio)。",
               "with ratio > 0 backprop does not use Dropout: call forward_propagate_dropout(X, thetas, activate_fcn, ratio).",
               lambda: unpack(core.backprop(params, size, case.args[2], X, Y, f, g)[1], size))
        yield ("dropout_mask_not_applied",
               "反向传播时没有乘 Dropout 掩码：被丢弃的节点在前向时输出为 0，反向时也不应传回梯度，保留的节点要乘增益。"
               "讲义的 sigmoid 分支就是这样。请在每个隐层把 error 乘以该层的掩码（增益）："
               "error = (delta @ theta) * (a_out[i] / activate_fcn(z_out[i]))。",
               "the backward pass ignores the Dropout mask: a dropped node output 0 going forward and must pass no "
               "gradient back, and a kept node carries its gain. The handout's sigmoid branch does this. Multiply each "
               "hidden layer's error by its mask (the gains): error = (delta @ theta) * (a_out[i] / activate_fcn(z_out[i])).",
               lambda: core.backward_propagate(thetas, z_out, a_out, Y, g, None))
        yield ("dropout_gain_missing",
               f"保留节点的梯度少乘了增益 size/num（此处 {gain}，约 1/(1 - ratio)）：前向时 a = g(z) * 增益，"
               f"所以反向时 error 也要乘同样的增益。讲义中 ReLU 的做法（z_out = a_out，用 a_out > 0 当导数）只把丢弃的节点置 0，"
               f"漏掉了增益。",
               f"the kept nodes' gradient lacks the gain size/num (here {gain}, about 1/(1 - ratio)): going forward "
               f"a = g(z) * gain, so going back the error must be multiplied by the same gain. The handout's ReLU "
               f"trick (z_out = a_out, a_out > 0 as the derivative) zeroes the dropped nodes but forgets the gain.",
               lambda: core.backward_propagate(thetas, z_out, a_out, Y, g, [(mk > 0) * 1.0 for mk in masks]))
        yield ("derivative_on_masked_activation",
               "你用被 Dropout 掩码和增益处理过的激活值 a 计算了 sigmoid 的导数 a * (1 - a)：增益使它不等于 s(1 - s)。"
               "请在 z 处求导 sigmoid_gradient(z_out[i])，再乘以掩码（增益）。",
               "you took the sigmoid's derivative a * (1 - a) on the masked-and-scaled activation a: the gain makes it "
               "differ from s(1 - s). Take the derivative at z, sigmoid_gradient(z_out[i]), and multiply by the mask (gains).",
               lambda: core.backward_propagate(thetas, a_out, a_out, Y, lambda a: a * (1 - a), None))


def backprop_diagnosis(spec, case, outcome):
    params, size, X, Y, f, g, thetas = spec.parts(case)
    m = X.shape[0]
    try:
        cost, grad, layers = spec.got(outcome.value, size)
    except Exception:
        return D("backprop_returns", "backprop 应返回 (cost, grad)：一个数和一个长度为 index[-1] 的一维梯度数组。",
                 "backprop must return (cost, grad): a number and a flat gradient of length index[-1].")
    expected = spec.reference(case)
    if expected is None:
        return _dropout_calls(spec, case, grad, size)
    exp_cost, exp_layers = expected
    total = sum(t.size for t in exp_layers)
    if layers is None:
        return D("wrong_shape", f"梯度应是长度 index[-1] = {total} 的一维数组（按层依次展平），你返回的形状是 {grad.shape}。",
                 f"the gradient must be a flat array of length index[-1] = {total} (layer after layer), but has shape {grad.shape}.")
    if all(rel_error(a, b) <= 1e-7 for a, b in zip(layers, exp_layers)):
        return _cost_diagnosis(spec, case, cost, exp_cost)
    flat = grad.ravel()
    exp_flat = np.concatenate([t.ravel() for t in exp_layers])
    masks = spec.masks(case)
    for code, zh, en, make in _layer_alternatives(spec, case, masks):
        alt = make()
        if all(rel_error(a, b) <= TOL for a, b in zip(layers, alt)):
            return D(code, zh, en)
    if rel_error(flat, np.concatenate([t.ravel() for t in exp_layers[::-1]])) <= TOL:
        return D("layers_reversed", "各层梯度的顺序反了：反向传播从最后一层算起，拼接前要把列表反转（grads[::-1]）。",
                 "the layers' gradients are in reverse order: backprop computes the last layer first, so reverse the "
                 "list (grads[::-1]) before concatenating.")
    if rel_error(flat, np.concatenate([t.T.ravel() for t in exp_layers])) <= TOL:
        return D("grad_transposed", "每层梯度被转置了：dJ/dtheta 的形状应与 theta 相同 (size[i+1], size[i])，即 delta.T @ a_out[i]。",
                 "each layer's gradient is transposed: dJ/dtheta must have theta's shape (size[i+1], size[i]), "
                 "i.e. delta.T @ a_out[i].")
    c = proportional(flat, exp_flat)
    if c is not None:
        return _factor(c, m)
    if rel_error(layers[-1], exp_layers[-1]) <= 1e-7:
        return D("only_last_layer",
                 "只有最后一层的梯度是对的：误差在隐层之间的传递有误。请检查 error = delta @ thetas[i] 和 "
                 "delta = error * activate_fcn_gradient(z_out[i]) 用的是哪一层。",
                 "only the last layer's gradient is right: the error is passed back through the hidden layers "
                 "incorrectly. Check which layer error = delta @ thetas[i] and delta = error * "
                 "activate_fcn_gradient(z_out[i]) use.")
    return None


def _factor(c, m):
    if abs(c - m) <= 1e-6 * m:
        return D("missing_1_over_m", f"梯度整体大了 m = {m} 倍：输出层的 delta 应为 (h - Y) / m，别忘了除以样本数。",
                 f"the whole gradient is m = {m} times too large: the output delta is (h - Y) / m; divide by the number of samples.")
    if abs(c + 1) <= 1e-6:
        return D("sign_flip", "梯度的符号反了：输出层的 delta 是 h - Y（不是 Y - h）。",
                 "the gradient has the wrong sign: the output delta is h - Y (not Y - h).")
    if abs(c - 1 / m) <= 1e-6 / m:
        return D("divided_by_m_twice", f"梯度小了 m = {m} 倍：你除了两次样本数 m。",
                 f"the gradient is m = {m} times too small: you divide by the number of samples m twice.")
    return D("constant_factor", f"梯度与正确值成比例，但差一个常数因子 {c:.4g}：检查输出层 delta = (h - Y) / m 前的系数。",
             f"the gradient is proportional to the right one but off by a constant factor {c:.4g}: check the factor "
             f"in the output delta (h - Y) / m.")


def _cost_diagnosis(spec, case, cost, exp_cost):
    params, size, X, Y, f, g, thetas = spec.parts(case)
    zh, en = _bce_message("梯度正确，但返回的代价不对：", "the gradient is right but the returned cost is not: ")
    if scalar_close(cost, core.handout_cost(params, size, case.args[2], X, Y, f), rtol=1e-6):
        return D("backprop_cost_bce", zh, en)
    if spec.ratio > 0:
        h = core.forward_propagate_masked(X, thetas, f, spec.masks(case))[1][-1]
        if scalar_close(cost, core.cross_entropy(h, Y), rtol=1e-6):
            return D("cost_with_dropout",
                     "梯度正确，但返回的代价是在 Dropout 打开时算的：代价应不带 Dropout 计算（如讲义，用参数重新算一遍前向传播）。",
                     "the gradient is right but the returned cost was computed with Dropout on: the cost is the loss "
                     "without Dropout (as the handout does, run a plain forward pass with the parameters).")
    if scalar_close(cost, exp_cost * X.shape[0], rtol=1e-6):
        return D("cost_missing_1_over_m", "梯度正确，但代价少除了样本数 m。",
                 "the gradient is right but the cost is not divided by the number of samples m.")
    return D("cost_mismatch", f"梯度正确，但返回的代价 {cost:.6g} 不等于分类交叉熵 {exp_cost:.6g}。",
             f"the gradient is right but the returned cost {cost:.6g} is not the categorical cross-entropy {exp_cost:.6g}.")


def _dropout_calls(spec, case, grad, size):
    calls = [(n, r) for n, r, _ in case.info["dropout"].calls]
    widths = list(size[1:-1])
    if not calls:
        params, size, X, Y, f, g, thetas = spec.parts(case)
        plain = core.backprop(params, size, case.args[2], X, Y, f, g)[1]
        if grad.size == plain.size and rel_error(grad.ravel(), plain) <= TOL:
            return D("dropout_ignored",
                     "ratio > 0 时 backprop 没有使用 Dropout：请调用 forward_propagate_dropout(X, thetas, activate_fcn, ratio)。",
                     "with ratio > 0 backprop does not use Dropout: call forward_propagate_dropout(X, thetas, activate_fcn, ratio).")
        return D("dropout_not_called",
                 "ratio > 0 时没有调用 Dropout(size, ratio)：请通过 forward_propagate_dropout 对每个隐层调用一次 Dropout。",
                 "with ratio > 0 Dropout(size, ratio) was never called: go through forward_propagate_dropout, which calls "
                 "Dropout once per hidden layer.")
    return D("dropout_calls",
             f"Dropout 的调用与隐层不符：应依次调用 Dropout(隐层宽度, ratio={spec.ratio})，宽度为 {widths}；"
             f"实际调用的 (size, ratio) 为 {calls}。",
             f"the calls of Dropout do not match the hidden layers: expected Dropout(width, ratio={spec.ratio}) for the "
             f"widths {widths} in order; the calls were (size, ratio) = {calls}.")
