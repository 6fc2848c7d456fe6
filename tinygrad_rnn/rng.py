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
    """Re-seed the default generator (and return it) so runs are reproducible.

    As in PyTorch, a negative seed down to −2**63 is read as its 64-bit two's complement
    (−1 is 2**64 − 1), so every such int names one distinct stream.
    """
    global _default
    _default = np.random.default_rng(seed_value(seed, "manual_seed"))
    return _default


def seed_value(seed, where: str) -> int:
    """``seed`` as the non-negative int NumPy's generators take (negative ones wrapped)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{where}: seed must be an int, got {type(seed).__name__}")
    seed = int(seed)
    if seed < -2**63:
        raise ValueError(f"{where}: seed must be >= -2**63, got {seed}")
    return seed + 2**64 if seed < 0 else seed


def default_generator() -> np.random.Generator:
    """The generator used when no ``rng=`` is given."""
    return _default


def resolve(rng: np.random.Generator | None, owner: str | None = None, name: str = "rng"
            ) -> np.random.Generator:
    """``rng`` itself, or the default generator when it is None; anything else is a TypeError
    naming ``owner`` (the function or class it was given to) and the argument's ``name``."""
    if rng is None:
        return _default
    if not isinstance(rng, np.random.Generator):
        where = f"{owner}: " if owner else ""
        raise TypeError(f"{where}{name} must be a numpy.random.Generator or None, got {type(rng).__name__}")
    return rng
