"""Tests for reludrop_core.plots: each plot returns what it drew on, titled and labelled (Agg backend, see conftest)."""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from reference import course_data, digit_image

from reludrop_core import Dropout, plot_costs, plot_digits, plot_masks, plot_predictions


def shown_images(fig):
    """The arrays shown by imshow on a figure's axes, in order."""
    return [im.get_array() for ax in fig.axes for im in ax.get_images()]


def test_plot_costs_title_labels_legend_and_data():
    """Does plot_costs draw one labelled line per curve (epochs from 1), with a title, axis labels, a legend and a log scale?"""
    curves = {"ReLU": np.linspace(1.0, 0.01, 50), "softmax": np.linspace(1.5, 0.1, 50)}
    ax = plot_costs(curves)
    assert isinstance(ax, Axes)
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == list(curves)
    assert ax.get_yscale() == "log"
    for line, (label, cost) in zip(ax.get_lines(), curves.items()):
        assert line.get_label() == label
        np.testing.assert_array_equal(line.get_xdata(), np.arange(1, 51))
        np.testing.assert_array_equal(line.get_ydata(), cost)


def test_plot_costs_on_given_axes_linear():
    """Does plot_costs draw on the axes it is given, on a linear scale with log=False, with the title asked for?"""
    fig, ax = plt.subplots()
    cost = np.matrix(np.linspace(2, 1, 10)).T              # the handout's (iters, 1) matrix
    out = plot_costs({"run": cost}, ax=ax, log=False, title="my title")
    assert out is ax
    assert ax.get_yscale() == "linear" and ax.get_title() == "my title"
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), np.linspace(2, 1, 10))


def test_plot_digits_shows_each_image_with_title():
    """Does plot_digits return a titled figure showing the 5x5 images (unflattened correctly) in order?"""
    X, _, labels = course_data()
    fig = plot_digits(X, labels=labels, title="the five digits")
    assert isinstance(fig, Figure)
    assert fig._suptitle is not None and fig._suptitle.get_text() == "the five digits"
    images = shown_images(fig)
    assert len(images) == 5
    for d, image in zip(range(1, 6), images):
        np.testing.assert_array_equal(image, digit_image(d))
    titles = [ax.get_title() for ax in fig.axes if ax.get_images()]
    assert titles == [f"label {d}" for d in range(1, 6)]


def test_plot_digits_grid_and_wrong_prediction_in_red():
    """With 7 images in rows of 3, is the grid 3x3 with 7 images, and is a wrong prediction titled in red?"""
    X = np.tile(course_data()[0], (2, 1))[:7]
    labels = np.array([1, 2, 3, 4, 5, 1, 2])
    predicted = np.array([1, 2, 3, 4, 5, 3, 2])
    fig = plot_digits(X, labels, predicted, ncols=3)
    assert len(fig.axes) == 9
    assert len(shown_images(fig)) == 7
    drawn = [ax for ax in fig.axes if ax.get_images()]
    assert drawn[5].get_title() == "label 1\npred 3"
    assert drawn[5].title.get_color() == "red"
    assert drawn[0].title.get_color() == "black"


def test_plot_predictions_counts_correct():
    """Does plot_predictions put the number of correct predictions in its title?"""
    X, _, labels = course_data()
    predicted = np.array([1, 2, 5, 4, 5])
    fig = plot_predictions(X, labels, predicted, title="training digits")
    assert isinstance(fig, Figure)
    correct = sum(int(a == b) for a, b in zip(labels, predicted))
    assert fig._suptitle.get_text() == f"training digits: {correct}/5 correct"


def test_plot_masks_image_labels_and_colorbar():
    """Does plot_masks show the masks as an image with a title, axis labels and a colour bar?"""
    rng = np.random.default_rng(0)
    masks = np.array([Dropout(20, 0.2, seed=rng) for _ in range(6)])
    ax = plot_masks(masks, title="six passes")
    assert isinstance(ax, Axes)
    assert ax.get_title() == "six passes" and ax.get_xlabel() and ax.get_ylabel()
    np.testing.assert_array_equal(ax.get_images()[0].get_array(), masks)
    assert len(ax.figure.axes) == 2                          # the plot and its colour bar


def test_plot_masks_single_mask():
    """Is a single 1-D mask shown as one row?"""
    ax = plot_masks(Dropout(10, 0.5, seed=1))
    assert ax.get_images()[0].get_array().shape == (1, 10)


def test_plots_accept_matrix():
    """Do the plots accept np.matrix data (X, masks), as the handout's code passes it?"""
    X, _, labels = course_data()
    plot_digits(np.matrix(X), labels)
    ax = plot_masks(np.matrix(np.ones((2, 5))))
    assert not isinstance(ax.get_images()[0].get_array(), np.matrix)
