"""The library's default random generator.

Every constructor that draws random numbers (``Tensor.randn``, module initialisers,
sampling) takes an explicit ``rng=`` (a ``numpy.random.Generator``); without one it
draws from the default generator, which ``manual_seed(n)`` re-seeds::

    >>> import tinygrad_rnn as tg
    >>> _ = tg.manual_seed(0)  # it returns the generator
    >>> a = tg.randn(3)
    >>> _ = tg.manual_seed(0)
    >>> bool((tg.randn(3).data == a.data).all())
    True
"""

from __future__ import annotations

import numpy as np

_default = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Re-seed the default generator (and return it) so runs are reproducible."""
    global _default
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"manual_seed: seed must be an int, got {type(seed).__name__}")
    _default = np.random.default_rng(int(seed))
    return _default


def default_generator() -> np.random.Generator:
    """The generator used when no ``rng=`` is given."""
    return _default


def resolve(rng: np.random.Generator | None) -> np.random.Generator:
    """``rng`` itself, or the default generator when it is None."""
    if rng is None:
        return _default
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator or None, got {type(rng).__name__}")
    return rng
