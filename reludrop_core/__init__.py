"""reludrop_core: the course's reference network, in plain numpy.

A small fully connected network without biases, trained on 5x5 images of the
digits 1-5, with ReLU, sigmoid or softmax hidden units, a softmax output,
categorical cross-entropy, backpropagation and Dropout. The function names
and call signatures are the handout's; inside, everything is float64
``ndarray`` and ``@`` (``np.matrix`` is accepted as input, never returned).

Letters used in every docstring
-------------------------------
m : number of samples (rows of ``X``)
n : number of features per sample, ``size[0]`` (25 pixels here)
k : number of classes, ``size[-1]`` (5 digits here)
size : list of layer widths ``[n, hidden..., k]``; ``L = len(size) - 1`` weight layers
thetas : list of L weight matrices, ``thetas[i]`` of shape (size[i+1], size[i])
params : all weights in one flat vector, layer after layer
index : ``cumsum(size[1:] * size[:-1])``, where each layer ends in ``params``
ratio : the fraction of hidden nodes *dropped* by Dropout (失活节点占比)
"""

from .activations import (
    ReLU,
    ReLU_gradient,
    activation_backward,
    handout_softmax_gradient,
    sigmoid,
    sigmoid_gradient,
    softmax,
    softmax_gradient,
)
from .data import DIGITS, LABELS, flatten_images, load_digits, noisy_digits, unflatten_images
from .dropout import Dropout, forward_propagate_dropout, gains_from_forward
from .gradcheck import gradient_check, layer_errors, numerical_gradient, rel_error
from .network import (
    backprop,
    backward_propagate,
    cost_fcn,
    cross_entropy,
    forward_propagate,
    forward_propagate_masked,
    handout_cost,
    handout_loss,
    init_params,
    layer_index,
    pack_params,
    predict,
    unpack_params,
)
from .plots import plot_costs, plot_digits, plot_masks, plot_predictions
from .training import train

__all__ = [
    # activations
    "ReLU", "ReLU_gradient", "sigmoid", "sigmoid_gradient", "softmax", "softmax_gradient",
    "handout_softmax_gradient", "activation_backward",
    # data
    "DIGITS", "LABELS", "load_digits", "noisy_digits", "flatten_images", "unflatten_images",
    # network
    "forward_propagate", "cost_fcn", "handout_cost", "handout_loss", "backprop", "init_params", "layer_index",
    "pack_params", "unpack_params", "predict", "forward_propagate_masked", "backward_propagate", "cross_entropy",
    # dropout
    "Dropout", "forward_propagate_dropout", "gains_from_forward",
    # training
    "train",
    # gradient check
    "numerical_gradient", "rel_error", "layer_errors", "gradient_check",
    # plots
    "plot_costs", "plot_digits", "plot_predictions", "plot_masks",
]
