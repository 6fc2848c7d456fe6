"""Per-op overhead of the autograd engine on small tensors.

A chain of N small ops (vectors of 100 floats: a multiply by a constant vector, an
add, a tanh, repeating) runs forward and backward through the engine, and the same
computation, forward and hand-written backward, runs in plain NumPy. Both are timed
side by side in one run; the difference divided by N is the engine's overhead per op.

    python benchmarks/bench_overhead.py            # N = 1000, 200 repeats
    python benchmarks/bench_overhead.py --quick    # a smoke run
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np

import tinygrad_rnn as tg


def make_inputs(size: int, dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size).astype(dtype)
    scale = rng.uniform(0.5, 1.5, size).astype(dtype)
    shift = rng.uniform(-0.1, 0.1, size).astype(dtype)
    return x, scale, shift


def engine_step(x0: np.ndarray, scale: np.ndarray, shift: np.ndarray, n_ops: int) -> np.ndarray:
    x = tg.Tensor(x0, requires_grad=True)
    c, b = tg.Tensor(scale), tg.Tensor(shift)
    h = x
    for i in range(n_ops):
        kind = i % 3
        h = h * c if kind == 0 else (h + b if kind == 1 else h.tanh())
    h.sum().backward()
    return x.grad


def numpy_step(x0: np.ndarray, scale: np.ndarray, shift: np.ndarray, n_ops: int) -> np.ndarray:
    saved = []
    h = x0
    for i in range(n_ops):
        kind = i % 3
        if kind == 0:
            h = h * scale
        elif kind == 1:
            h = h + shift
        else:
            h = np.tanh(h)
            saved.append(h)
    grad = np.ones_like(h)
    for i in reversed(range(n_ops)):
        kind = i % 3
        if kind == 0:
            grad = grad * scale
        elif kind == 2:
            y = saved.pop()
            grad = grad * (1 - y * y)
    return grad


def timed(fn, repeats: int) -> list[float]:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1000, help="ops in the chain")
    parser.add_argument("--size", type=int, default=100, help="elements per vector")
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="a smoke run (few repeats)")
    args = parser.parse_args(argv)
    repeats = 5 if args.quick else args.repeats

    x0, scale, shift = make_inputs(args.size, np.float32)
    # Both compute the same: bitwise over the timed chain (whose gradient, through 333 tanh,
    # is ~1e-15: a tolerance of 1e-6 passed zeros), and within float32's rounding of a
    # float64 run on a short chain whose gradient is of order 1.
    np.testing.assert_array_equal(engine_step(x0, scale, shift, args.ops),
                                  numpy_step(x0, scale, shift, args.ops))
    short = engine_step(x0, scale, shift, 9)
    exact = numpy_step(*(v.astype(np.float64) for v in (x0, scale, shift)), 9)
    assert np.abs(exact).max() > 0.1
    np.testing.assert_allclose(short, exact, rtol=1e-5, atol=1e-6)
    engine = timed(lambda: engine_step(x0, scale, shift, args.ops), repeats)
    manual = timed(lambda: numpy_step(x0, scale, shift, args.ops), repeats)
    e_med, m_med = statistics.median(engine), statistics.median(manual)

    print(f"machine: {platform.machine()}, {platform.python_implementation()} "
          f"{platform.python_version()}, NumPy {np.__version__}")
    print(f"chain of {args.ops} ops on float32 vectors of {args.size}, forward + backward, "
          f"median of {repeats}")
    print(f"{'implementation':<22}{'median ms':>12}{'min ms':>10}{'max ms':>10}")
    for name, times in (("autograd engine", engine), ("hand-written NumPy", manual)):
        print(f"{name:<22}{1e3 * statistics.median(times):>12.3f}"
              f"{1e3 * min(times):>10.3f}{1e3 * max(times):>10.3f}")
    print(f"ratio engine / NumPy: {e_med / m_med:.2f}x")
    print(f"engine overhead per op: {1e6 * (e_med - m_med) / args.ops:.2f} us "
          "(target: under 5 us)")


if __name__ == "__main__":
    main()
