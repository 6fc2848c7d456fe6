"""Training-step speed and memory: the autograd RNN/LSTM/GRU against hand-written BPTT.

One training step is: forward over T steps, full BPTT, SGD update, for a char-level
model (one-hot tokens -> recurrent layer -> linear head -> mean cross-entropy), float32.
Implementations, each timed in its own process, side by side in one run:

* ``reference``  this project's hand-derived BPTT in plain NumPy (``tinygrad_rnn.reference``)
* ``autograd``   this project's ``nn.RecurrentModel`` + ``optim.SGD`` through the engine
* ``torch``      PyTorch ``nn.RNN``/``nn.LSTM``/``nn.GRU`` + ``nn.Linear`` + ``optim.SGD``
                 (only when ``torch`` is installed: ``pip install torch==2.13.0``); for
                 the LSTM also ``torch_aten``, the same with oneDNN switched off
                 (``torch.backends.mkldnn.enabled = False``): CPU ``nn.LSTM`` otherwise
                 runs oneDNN's fused whole-layer kernel, while RNN and GRU always take
                 ATen's op-by-op path, so this puts the LSTM on the same footing
* ``gemm``       the step's matrix products alone, at their real shapes (a floor)

Each implementation runs in 5 rounds (``--rounds``), alternating with the others, each
round a fresh process; their timed steps are pooled. (On a shared machine, whose speed
drifts by tens of percent over seconds, more and shorter rounds spread a slow spell
over every column instead of one.) Printed: median and min-max ms
per step, ratios, GFLOP/s, peak RSS growth; then the same ratios measured a second way,
robust to that drift (``--no-paired`` skips it): the reference's, autograd's and the
GEMM floor's steps in turn in ONE process, for 3 s, and the median over turns of
autograd's step time over each other's (PyTorch is left out of it: its OpenMP threads
would slow the NumPy steps beside them); then a leak check (RSS at step 100 vs
step 1,000) and a long-sequence run (T up to 10,000).

    python benchmarks/bench_rnn.py              # the full table (a few minutes)
    python benchmarks/bench_rnn.py --quick      # a smoke run with tiny sizes (seconds)
    python benchmarks/bench_rnn.py --sizes S M --cells rnn
    python benchmarks/bench_rnn.py --threads 1  # BLAS and PyTorch pinned to one thread
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time

import numpy as np

VOCAB = 65
SIZES = {  # name: (V, H, T, B)
    "S": (VOCAB, 100, 25, 1),
    "M": (VOCAB, 256, 64, 32),
    "L": (VOCAB, 512, 128, 64),
}
QUICK_SIZES = {"S": (11, 8, 5, 1), "M": (11, 16, 6, 3)}
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
LEARNING_RATE = 1e-3


# -- the implementations (run inside a worker process) ---------------------------------
def _data(V, T, B):
    rng = np.random.default_rng(0)
    return rng.integers(0, V, (T, B)), rng.integers(0, V, (T, B))


def make_reference(cell, V, H, T, B):
    from tinygrad_rnn import reference

    params = reference.init_params(cell=cell, input_size=V, hidden_size=H, output_size=V,
                                   dtype=np.float32, rng=np.random.default_rng(0))
    tokens, targets = _data(V, T, B)

    def step():
        grads = reference.forward_backward(params, tokens, targets, cell=cell).grads
        for name, grad in grads.items():
            params[name] -= LEARNING_RATE * grad

    return step


def make_autograd(cell, V, H, T, B):
    from tinygrad_rnn import nn, optim

    model = nn.RecurrentModel(cell, V, H, V, rng=np.random.default_rng(0))
    optimizer = optim.SGD(model.parameters(), lr=LEARNING_RATE)
    tokens, targets = _data(V, T, B)

    def step():
        optimizer.zero_grad()
        loss, _ = model.loss(tokens, targets)
        loss.backward()
        optimizer.step()

    return step


def make_torch(cell, V, H, T, B, onednn=True):
    import torch

    torch.backends.mkldnn.enabled = onednn  # only nn.LSTM consults it
    torch.manual_seed(0)
    layer = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](V, H)
    head = torch.nn.Linear(H, V)
    optimizer = torch.optim.SGD([*layer.parameters(), *head.parameters()], lr=LEARNING_RATE)
    tokens, targets = (torch.from_numpy(a) for a in _data(V, T, B))
    one_hot = torch.nn.functional.one_hot(tokens, V).float()
    flat_targets = targets.reshape(-1)

    def step():
        optimizer.zero_grad()
        output, _ = layer(one_hot)
        loss = torch.nn.functional.cross_entropy(head(output).reshape(-1, V), flat_targets)
        loss.backward()
        optimizer.step()

    return step


def make_gemm(cell, V, H, T, B):
    """The matrix products of one step at their real shapes, and nothing else.

    The forward recurrence multiplies by a C-contiguous copy of W_hh^T, as both
    implementations do (BLAS is faster with it than with the transposed view: about 15%
    for an LSTM at size M here); the copy, which they make once per step, is left out.
    """
    G = GATES[cell] * H
    rng = np.random.default_rng(0)
    w_hh, w_head = rng.random((G, H), np.float32), rng.random((V, H), np.float32)
    h, g = rng.random((B, H), np.float32), rng.random((B, G), np.float32)
    hidden, d_logits = rng.random((T * B, H), np.float32), rng.random((T * B, V), np.float32)
    d_gates = rng.random((T * B, G), np.float32)
    w_hh_t = np.ascontiguousarray(w_hh.T)

    def step():
        for _ in range(T):
            np.dot(h, w_hh_t)  # forward recurrence
            np.dot(g, w_hh)  # backward recurrence
        np.dot(hidden, w_head.T)  # head forward
        np.dot(d_logits, w_head)  # head backward to the hidden states
        np.dot(d_logits.T, hidden)  # head weight gradient
        np.dot(d_gates.T, hidden)  # recurrent weight gradient, all steps at once

    return step


def make_torch_aten(cell, V, H, T, B):
    """``make_torch`` with oneDNN off: PyTorch's nn.LSTM through ATen's op-by-op kernels."""
    return make_torch(cell, V, H, T, B, onednn=False)


IMPLEMENTATIONS = {"reference": make_reference, "autograd": make_autograd, "torch": make_torch,
                   "torch_aten": make_torch_aten, "gemm": make_gemm}


def step_flops(cell, V, H, T, B) -> float:
    """Multiply-adds x 2 of the step's products: recurrence and head, forward and backward."""
    G = GATES[cell] * H
    forward = T * B * H * G + T * B * H * V
    return 2.0 * 3 * forward


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    """The process's peak RSS since the last ``_reset_peak`` (VmHWM)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> None:
    """Reset the peak-RSS mark to the current RSS (Linux: write 5 to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        pass


def worker(spec: dict) -> dict:
    """Run one implementation at one size in this process; return its figures."""
    kind = spec["kind"]
    if kind == "leak":
        step = make_autograd(spec["cell"], *spec["size"])
        rss = {}
        for i in range(1, spec["steps"] + 1):
            step()
            if i in (spec["steps"] // 10, spec["steps"]):
                rss[i] = _rss_mb()
        return {"rss": rss}
    if kind == "paired":
        return _paired(spec)
    if kind == "blas":
        return {"blas": blas_line()}
    import tinygrad_rnn.nn  # noqa: F401 - import before the baseline, so code is not counted
    import tinygrad_rnn.reference  # noqa: F401
    if kind == "torch":
        import torch  # noqa: F401
    baseline = _rss_mb()
    _reset_peak()
    step = IMPLEMENTATIONS[kind](spec["cell"], *spec["size"])
    warm_until = time.perf_counter() + spec.get("warmup_seconds", 0.0)
    for i in itertools.count():  # at least `warmup` steps, and for at least `warmup_seconds`
        if i >= spec["warmup"] and time.perf_counter() >= warm_until:
            break
        step()
    times, deadline = [], time.perf_counter() + spec["seconds"]
    while len(times) < spec["min_steps"] or (time.perf_counter() < deadline
                                              and len(times) < spec["max_steps"]):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return {"times": times, "peak_growth_mb": _peak_mb() - baseline}


def _paired(spec: dict) -> dict:
    """Steps of several implementations interleaved in one process, one of each in turn
    (the order rotating): each turn's ratios are of steps run within milliseconds of each
    other, so a drift of the machine's speed cancels out of their median."""
    kinds = spec["kinds"]
    steps = [IMPLEMENTATIONS[kind](spec["cell"], *spec["size"]) for kind in kinds]
    for _ in range(spec["warmup"]):
        for step in steps:
            step()
    times = [[] for _ in kinds]
    deadline = time.perf_counter() + spec["seconds"]
    turn = 0
    while turn < spec["min_steps"] or (time.perf_counter() < deadline and turn < spec["max_steps"]):
        for k in range(len(kinds)):
            which = (k + turn) % len(kinds)
            start = time.perf_counter()
            steps[which]()
            times[which].append(time.perf_counter() - start)
        turn += 1
    auto = np.array(times[kinds.index("autograd")])
    return {"turns": turn, "ratios": {kind: float(np.median(auto / np.array(times[k])))
                                      for k, kind in enumerate(kinds) if kind != "autograd"}}


def paired_table(args) -> None:
    """autograd's paired ratios (median over turns of interleaved steps) to the others."""
    # PyTorch stays out: in one process its OpenMP threads, spinning after each op, would
    # slow the NumPy steps beside them. Its ratio is the main table's.
    kinds = ["autograd", "reference", "gemm"]
    budget = {"warmup": 1 if args.quick else 3, "min_steps": 3 if args.quick else 10,
              "max_steps": 5 if args.quick else 3000, "seconds": 0.3 if args.quick else 3.0}
    print("\nautograd / each, steps interleaved in one process (median of per-turn ratios):")
    print(f"{'size':<5}{'cell':<5}{'turns':>7}" + "".join(f"{'autograd/' + k:>20}" for k in kinds[1:]))
    for size_name, cell, size in _cases(args):
        result = run_worker({"kind": "paired", "cell": cell, "size": size, "kinds": kinds, **budget},
                            args.threads)
        if result is not None:
            print(f"{size_name:<5}{cell:<5}{result['turns']:>7}"
                  + "".join(f"{result['ratios'][k]:>20.2f}" for k in kinds[1:]), flush=True)


THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def run_worker(spec: dict, threads: int | None = None) -> dict | None:
    """Run ``worker(spec)`` in a fresh Python process (so memory and caches are its own),
    with BLAS and OpenMP (PyTorch) pinned to ``threads`` threads if given: the variables
    are read when those libraries load, so every implementation starts pinned alike."""
    env = None if threads is None else {**os.environ, **dict.fromkeys(THREAD_VARIABLES, str(threads))}
    proc = subprocess.run([sys.executable, __file__, "--worker", json.dumps(spec)],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        print(f"  [{spec['kind']} {spec.get('cell')} failed: {proc.stderr.strip().splitlines()[-1:]}]",
              file=sys.stderr)
        return None
    return json.loads(proc.stdout)


# -- the report ---------------------------------------------------------------------------
def _torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def blas_line() -> str:
    """This process's BLAS libraries, versions and thread counts."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS: see numpy.show_config()"
    return ", ".join(f"{i['internal_api']} {i['version']} ({i['num_threads']} "
                     f"thread{'' if i['num_threads'] == 1 else 's'})"
                     for i in threadpool_info() if i["user_api"] == "blas")


def machine_line(threads: int | None = None) -> str:
    """The machine, the versions, and BLAS as a worker process sees it (so --threads shows)."""
    worker_blas = run_worker({"kind": "blas"}, threads)
    blas = worker_blas["blas"] if worker_blas else blas_line()
    if threads is not None:
        blas += f", pinned by --threads {threads} (PyTorch too)"
    return (f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.system()}, "
            f"Python {platform.python_version()}, NumPy {np.__version__}, {blas}")


def _cases(args):
    """(size name, cell, (V, H, T, B)) of every row asked for: LSTM and GRU at L only with
    --all-large."""
    sizes = QUICK_SIZES if args.quick else SIZES
    for size_name in args.sizes:
        if size_name not in sizes:
            continue
        for cell in args.cells:
            if size_name != "L" or cell == "rnn" or args.all_large:
                yield size_name, cell, sizes[size_name]


def bench_table(args) -> list[dict]:
    with_torch = not args.no_torch and _torch_available()
    # Per round: 0.3 s of warm-up, then timed steps for 0.6 s (at least 10, at most 1,500).
    budget = {"warmup": 1 if args.quick else 3, "warmup_seconds": 0.0 if args.quick else 0.3,
              "min_steps": 3 if args.quick else 10, "max_steps": 5 if args.quick else 1500,
              "seconds": 0.2 if args.quick else 0.6}
    rows = []
    for size_name, cell, size in _cases(args):
        row = {"size": size_name, "cell": cell, "shape": size}
        kinds = ["reference", "autograd", "gemm"]
        if with_torch:
            kinds += ["torch", "torch_aten"] if cell == "lstm" else ["torch"]
        # Rounds alternate the implementations, so a slow spell of a shared machine
        # falls on all of them; each round is a fresh process, their steps are pooled.
        runs = {kind: [] for kind in kinds}
        for _ in range(args.rounds):
            for kind in kinds:
                runs[kind].append(run_worker({"kind": kind, "cell": cell, "size": size, **budget},
                                             args.threads))
        for kind, figures in runs.items():
            row[kind] = _pooled(figures)
        rows.append(row)
        print_row(row, header=len(rows) == 1)
    return rows


def _pooled(runs: list[dict | None]) -> dict | None:
    """One implementation's rounds as one: all timed steps, the largest peak-RSS growth."""
    if any(run is None for run in runs):
        return None
    return {"times": [t for run in runs for t in run["times"]],
            "peak_growth_mb": max(run["peak_growth_mb"] for run in runs)}


def _ms(figures, stat=statistics.median):
    return 1e3 * stat(figures["times"]) if figures else float("nan")


def _three_digits(ms: float) -> str:
    """``ms`` to three significant digits (0.46, 12.8, 152), so the columns stay aligned."""
    if ms != ms:  # nan: the implementation did not run
        return "n/a"
    return f"{ms:.0f}" if ms >= 100 else f"{ms:.1f}" if ms >= 10 else f"{ms:.2f}"


def print_row(row: dict, header: bool) -> None:
    if header:
        print(f"{'size':<5}{'cell':<5}{'(V, H, T, B)':<19}{'reference ms':>22}{'autograd ms':>22}"
              f"{'torch ms':>22}{'GEMM ms':>9}{'auto/ref':>9}{'auto/torch':>11}{'auto/GEMM':>10}"
              f"{'GFLOP/s':>9}{'RSS MB ref/auto':>17}")
    V, H, T, B = row["shape"]

    def cell(figures):
        if not figures:
            return "n/a"
        low, high = _ms(figures, min), _ms(figures, max)
        return f"{_three_digits(_ms(figures))} ({_three_digits(low)}-{_three_digits(high)})"

    ref, auto, torch_, gemm = (row.get(k) for k in ("reference", "autograd", "torch", "gemm"))

    def ratio(a, b):
        return f"{_ms(a) / _ms(b):.2f}" if a and b else "n/a"

    gflops = step_flops(row["cell"], V, H, T, B) / (_ms(auto) / 1e3) / 1e9 if auto else float("nan")
    rss = (f"{ref['peak_growth_mb']:.1f}/{auto['peak_growth_mb']:.1f}" if ref and auto else "n/a")
    print(f"{row['size']:<5}{row['cell']:<5}{str(row['shape']):<19}{cell(ref):>22}{cell(auto):>22}"
          f"{cell(torch_):>22}{_three_digits(_ms(gemm)):>9}{ratio(auto, ref):>9}{ratio(auto, torch_):>11}"
          f"{ratio(auto, gemm):>10}{gflops:>9.2f}{rss:>17}", flush=True)
    aten = row.get("torch_aten")
    if aten:
        print(f"{'':<10}{'nn.LSTM without oneDNN (ATen op by op):':<63}{cell(aten):>22}"
              f"{'':>18}{ratio(auto, aten):>11}", flush=True)


def leak_and_long_sequence(args) -> None:
    steps = 100 if args.quick else 1000
    size = (VOCAB, 32, 25, 4)
    leak = run_worker({"kind": "leak", "cell": "rnn", "size": size, "steps": steps}, args.threads)
    if leak:
        rss = {int(k): v for k, v in leak["rss"].items()}
        first, last = rss[steps // 10], rss[steps]
        print(f"\nleak check (autograd rnn {size}): RSS {first:.1f} MB at step {steps // 10}, "
              f"{last:.1f} MB at step {steps}: growth {last - first:+.1f} MB")
    lengths = (250, 500, 1000) if args.quick else (2500, 5000, 10000)
    print("long sequences (rnn, H=32, B=1, one training step, peak RSS growth):")
    growth = {}
    for T in lengths:
        results = {kind: run_worker({"kind": kind, "cell": "rnn", "size": (VOCAB, 32, T, 1),
                                     "warmup": 0, "min_steps": 1, "max_steps": 1, "seconds": 0},
                                    args.threads)
                   for kind in ("reference", "autograd")}
        ref, auto = results["reference"], results["autograd"]
        if ref and auto:
            growth[T] = (ref["peak_growth_mb"], auto["peak_growth_mb"])
            print(f"  T={T:>6}: reference {_ms(ref):8.1f} ms, {ref['peak_growth_mb']:7.2f} MB;  "
                  f"autograd {_ms(auto):8.1f} ms, {auto['peak_growth_mb']:7.2f} MB")
    if len(growth) == len(lengths):
        first, last = lengths[0], lengths[-1]
        for i, name in enumerate(("reference", "autograd")):
            slope = 1024 * (growth[last][i] - growth[first][i]) / (last - first)
            print(f"  {name}: {slope:.2f} KB per extra time step (T {first} -> {last})")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["S", "M", "L"], choices=["S", "M", "L"])
    parser.add_argument("--cells", nargs="+", default=["rnn", "lstm", "gru"],
                        choices=["rnn", "lstm", "gru"])
    parser.add_argument("--all-large", action="store_true", help="also LSTM/GRU at size L")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, few steps (a smoke run)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="alternating rounds per implementation (default 5; 1 with --quick)")
    parser.add_argument("--no-memory", action="store_true", help="skip the leak and long-T runs")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if installed")
    parser.add_argument("--no-paired", action="store_true",
                        help="skip the ratios of steps interleaved in one process")
    parser.add_argument("--threads", type=int, default=None,
                        help="pin BLAS and PyTorch to this many threads in every worker "
                             "(default: the libraries' own choice)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rounds is None:
        args.rounds = 1 if args.quick else 5
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    if args.threads is not None and args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}")
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    print(machine_line(args.threads))
    print("one training step (forward, full BPTT, SGD update), float32, one-hot tokens, "
          "median (min-max) ms; each implementation in its own process")
    bench_table(args)
    if not args.no_paired:
        paired_table(args)
    if not args.no_memory:
        leak_and_long_sequence(args)


if __name__ == "__main__":
    main()
