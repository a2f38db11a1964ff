"""The course data: five 5x5 images of the digits 1 to 5, and noisy copies of them."""

import numpy as np

from ._checks import as_float, as_generator, message

# The digits 1-5, row by row (1 = ink). The handout's copy has typos; these are clean.
DIGITS = np.array([
    [[0, 1, 1, 0, 0],
     [0, 0, 1, 0, 0],
     [0, 0, 1, 0, 0],
     [0, 0, 1, 0, 0],
     [0, 1, 1, 1, 0]],
    [[1, 1, 1, 1, 0],
     [0, 0, 0, 0, 1],
     [0, 1, 1, 1, 0],
     [1, 0, 0, 0, 0],
     [1, 1, 1, 1, 1]],
    [[1, 1, 1, 1, 0],
     [0, 0, 0, 0, 1],
     [0, 1, 1, 1, 0],
     [0, 0, 0, 0, 1],
     [1, 1, 1, 1, 0]],
    [[0, 0, 0, 1, 0],
     [0, 0, 1, 1, 0],
     [0, 1, 0, 1, 0],
     [1, 1, 1, 1, 1],
     [0, 0, 0, 1, 0]],
    [[1, 1, 1, 1, 1],
     [1, 0, 0, 0, 0],
     [1, 1, 1, 1, 0],
     [0, 0, 0, 0, 1],
     [1, 1, 1, 1, 0]],
], dtype=np.int8)

#: The label of each image in ``DIGITS``: the digit it shows.
LABELS = np.arange(1, 6)


def flatten_images(images):
    """Flatten 5x5 images column by column, as the handout does.

    Parameters
    ----------
    images : array_like of shape (m, 5, 5)

    Returns
    -------
    X : ndarray of shape (m, 25), ``images.transpose(0, 2, 1).reshape(m, 25)``
    """
    images = as_float("images", images)
    if images.ndim != 3 or images.shape[1:] != (5, 5):
        raise ValueError(message(f"images 的形状应为 (m, 5, 5)，收到 {images.shape}。",
                                 f"images must have shape (m, 5, 5), got {images.shape}."))
    return images.transpose(0, 2, 1).reshape(len(images), 25)


def unflatten_images(X):
    """Undo ``flatten_images``: rows of 25 pixels back to 5x5 images.

    Parameters
    ----------
    X : array_like of shape (m, 25)

    Returns
    -------
    images : ndarray of shape (m, 5, 5)
    """
    X = as_float("X", X)
    if X.ndim not in (1, 2) or X.shape[-1] != 25:
        raise ValueError(message(
            f"X 的形状应为 (m, 25)（每行一张按列展平的 5x5 图），收到 {X.shape}。",
            f"X must have shape (m, 25), one image flattened column by column per row; got {X.shape}.",
        ))
    return X.reshape(-1, 5, 5).transpose(0, 2, 1)


def load_digits():
    """The training set: one image of each digit 1-5.

    Returns
    -------
    X : ndarray of shape (5, 25), pixels 0/1 flattened column by column
    Y : ndarray of shape (5, 5), one-hot, ``np.eye(5)``
    labels : ndarray of shape (5,), the digits 1 to 5
    """
    return flatten_images(DIGITS), np.eye(5), LABELS.copy()


def noisy_digits(flips, copies=1, seed=0):
    """Copies of the five digits with ``flips`` pixels flipped in each, to measure generalisation.

    Every copy of every digit flips exactly ``flips`` distinct pixels, chosen at random.

    Parameters
    ----------
    flips : int in 0..25
    copies : int >= 1, copies of each digit
    seed : int, np.random.Generator or None

    Returns
    -------
    X : ndarray of shape (5 * copies, 25), copy after copy, digits 1-5 in each
    Y : ndarray of shape (5 * copies, 5), one-hot
    labels : ndarray of shape (5 * copies,)
    """
    if isinstance(flips, bool) or not (isinstance(flips, (int, np.integer)) and 0 <= flips <= 25):
        raise ValueError(message(f"flips 是每张图翻转的像素数，必须是 0 到 25 的整数，收到 {flips!r}。",
                                 f"flips, the pixels flipped per image, must be an integer in 0..25; got {flips!r}."))
    if isinstance(copies, bool) or not (isinstance(copies, (int, np.integer)) and copies >= 1):
        raise ValueError(message(f"copies 必须是正整数，收到 {copies!r}。",
                                 f"copies must be a positive integer, got {copies!r}."))
    rng = as_generator(seed)
    X0, Y0, labels0 = load_digits()
    X = np.tile(X0, (copies, 1))
    for row in X:
        where = rng.permutation(25)[:flips]
        row[where] = 1 - row[where]
    return X, np.tile(Y0, (copies, 1)), np.tile(labels0, copies)
