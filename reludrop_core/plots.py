"""Plots for the course: loss curves, digit images, predictions and Dropout masks.

Each function draws on a new figure (or the ``ax`` given) and returns what it
drew on, so a notebook can add to it or save it. matplotlib is imported only
when a plot is made. Labels are in English: matplotlib's default font has no
Chinese glyphs, and a missing glyph prints a warning.
"""

import numpy as np

from .data import unflatten_images


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def plot_costs(curves, ax=None, log=True, title="epoch-loss curve", ylabel="loss (categorical cross-entropy)"):
    """Loss curves, several labelled ones on one axes.

    Parameters
    ----------
    curves : dict of label -> array_like of shape (epochs,)
    ax : matplotlib Axes or None
    log : bool, log scale on the loss axis (losses span decades)
    title, ylabel : str

    Returns
    -------
    ax : matplotlib Axes
    """
    if ax is None:
        _, ax = _pyplot().subplots(figsize=(7, 4.5))
    for label, cost in curves.items():
        cost = np.ravel(np.asarray(cost, dtype=np.float64))
        ax.plot(np.arange(1, cost.size + 1), cost, label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    ax.grid(True, which="major", alpha=0.3)
    return ax


def plot_digits(X, labels=None, predicted=None, ncols=5, title="digits"):
    """Show flattened 5x5 images in a grid, with their labels and the network's picks.

    A wrong prediction is titled in red.

    Parameters
    ----------
    X : array_like of shape (m, 25), flattened column by column
    labels : array_like of shape (m,) or None, the true digits
    predicted : array_like of shape (m,) or None, the predicted digits
    ncols : int, images per row
    title : str

    Returns
    -------
    fig : matplotlib Figure
    """
    images = unflatten_images(X)
    m = len(images)
    nrows = -(-m // ncols)
    fig, axes = _pyplot().subplots(nrows, ncols, figsize=(1.4 * ncols, 1.6 * nrows + 0.4), squeeze=False)
    for j, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if j >= m:
            continue
        ax.imshow(images[j], cmap="gray_r", vmin=0, vmax=1)
        parts, colour = [], "black"
        if labels is not None:
            parts.append(f"label {labels[j]}")
        if predicted is not None:
            parts.append(f"pred {predicted[j]}")
            if labels is not None and predicted[j] != labels[j]:
                colour = "red"
        ax.set_title("\n".join(parts), fontsize=9, color=colour)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_predictions(X, labels, predicted, title="predictions"):
    """``plot_digits`` with labels and predictions, the accuracy in the title.

    Parameters
    ----------
    X : array_like of shape (m, 25)
    labels, predicted : array_like of shape (m,)
    title : str

    Returns
    -------
    fig : matplotlib Figure
    """
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    correct = int(np.sum(labels == predicted))
    return plot_digits(X, labels, predicted, title=f"{title}: {correct}/{len(labels)} correct")


def plot_masks(masks, title="Dropout masks"):
    """Dropout masks as an image: one row per forward pass (or layer), one column per node.

    Parameters
    ----------
    masks : array_like of shape (rows, nodes), gains (0 for a dropped node)
    title : str

    Returns
    -------
    ax : matplotlib Axes
    """
    masks = np.atleast_2d(np.asarray(masks, dtype=np.float64))
    _, ax = _pyplot().subplots(figsize=(7, 0.35 * len(masks) + 1.5))
    image = ax.imshow(masks, cmap="viridis", aspect="auto", interpolation="nearest")
    ax.figure.colorbar(image, ax=ax, label="gain (0 = dropped)")
    ax.set_xlabel("node")
    ax.set_ylabel("forward pass")
    ax.set_title(title)
    return ax
