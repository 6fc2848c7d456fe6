"""Process settings that decide how fast NumPy runs a training step (and one module helper).

Two things, measured on a 2-core machine with OpenBLAS (see ``benchmarks/``):

* **The allocator.** A step allocates and frees the same large arrays every time
  ((T, B, H) activations and their gradients, megabytes each). glibc serves blocks
  above its mmap threshold with fresh ``mmap`` pages and trims freed heap memory back
  to the kernel, so every step pays page faults and page zeroing again: a
  (V, H, T, B) = (65, 256, 64, 32) RNN step took 34 ms instead of 19 ms.
  :func:`configure_allocator` raises both thresholds (``mallopt``), so freed blocks are
  reused. It runs when the package is imported; set ``TINYGRAD_RNN_MALLOC=default``
  in the environment to leave glibc's defaults alone. It does nothing on other C
  libraries. Memory is still freed for reuse by the process, so a training loop does
  not grow; it is only returned to the kernel later.
* **BLAS threads.** A step multiplies many small matrices, (B, H) by (H, G·H) for each
  of T time steps, on which a second BLAS thread costs more in synchronization than it
  saves, and stalls badly when another process holds the other core.
  :func:`blas_threads` limits them for a block of code, with ``threadpoolctl``.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import sys
import types

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 32 * 2**20  # glibc's largest allowed value on 64-bit systems
_TRIM_THRESHOLD = 1024 * 2**20

_configured: bool | None = None


def configure_allocator() -> bool:
    """Keep large freed blocks in the process for reuse (glibc only); True if applied."""
    global _configured
    if _configured is not None:
        return _configured
    _configured = False
    if os.environ.get("TINYGRAD_RNN_MALLOC", "").lower() == "default":
        return False
    name = ctypes.util.find_library("c")
    if not name:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    _configured = bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)
                       and mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))
    return _configured


_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def blas_threads(limit: int | None = 1, *, over_environment: bool = False):
    """A context manager that runs BLAS with at most ``limit`` threads.

    It does nothing when ``limit`` is None, when ``threadpoolctl`` is not installed, or
    (unless ``over_environment``, for a number the user gave) when the user chose a thread
    count through ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``/``MKL_NUM_THREADS``.
    """
    if limit is None or (not over_environment and any(name in os.environ for name in _THREAD_VARIABLES)):
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=limit, user_api="blas")


def callable_module(module_name: str, function) -> None:
    """Make module ``module_name`` callable as ``function``.

    So that ``tinygrad_rnn.train(config)`` and ``tinygrad_rnn.compare(cell="gru")`` work
    as well as ``tinygrad_rnn.train.train`` and ``tinygrad_rnn.compare.compare_gradients``.
    """

    class CallableModule(types.ModuleType):
        __doc__ = sys.modules[module_name].__doc__

        def __call__(self, *args, **kwargs):
            return function(*args, **kwargs)

    sys.modules[module_name].__class__ = CallableModule
