"""The benchmark scripts run end to end (smoke runs: no timing assertions)."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
TIMING = r"\d+(?:\.\d+)? \(\d+(?:\.\d+)?-\d+(?:\.\d+)?\)"  # median (min-max), in ms


def run(script, *args):
    proc = subprocess.run([sys.executable, str(BENCHMARKS / script), *args],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_bench_overhead_quick():
    out = run("bench_overhead.py", "--quick", "--ops", "60")
    assert "ratio engine / NumPy" in out and "overhead per op" in out


def test_bench_rnn_quick():
    out = run("bench_rnn.py", "--quick", "--no-torch", "--sizes", "S", "--cells", "rnn", "gru")
    lines = out[:out.index("interleaved in one process")].splitlines()
    assert lines[0].startswith("machine:")
    rows = [line for line in lines if line.startswith("S ")]
    assert [row.split()[1] for row in rows] == ["rnn", "gru"]
    for row in rows:  # reference and autograd both ran: median (min-max) for each
        assert len(re.findall(TIMING, row)) >= 2, row
    assert "leak check" in out and "T=  1000" in out
    # the ratios of steps interleaved in one process: one row per size and cell, after the table
    paired = out[out.index("interleaved in one process"):out.index("leak check")].splitlines()[2:]
    assert [row.split()[:2] for row in paired if row.strip()] == [["S", "rnn"], ["S", "gru"]]
    for row in filter(str.strip, paired):
        turns, to_reference, to_gemm = row.split()[2:]
        assert int(turns) >= 3 and float(to_reference) > 0 and float(to_gemm) > 0


def test_bench_rnn_rounds_alternate_and_refuse_zero():
    out = run("bench_rnn.py", "--quick", "--no-torch", "--no-memory", "--no-paired", "--sizes", "S",
              "--cells", "rnn", "--rounds", "2")
    [row] = [line for line in out.splitlines() if line.startswith("S ")]
    assert len(re.findall(TIMING, row)) >= 2, row
    assert "interleaved" not in out
    proc = subprocess.run([sys.executable, str(BENCHMARKS / "bench_rnn.py"), "--rounds", "0"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--rounds must be at least 1, got 0" in proc.stderr


def _bench_rnn_module():
    spec = importlib.util.spec_from_file_location("bench_rnn", BENCHMARKS / "bench_rnn.py")
    bench_rnn = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_rnn)
    return bench_rnn


def test_rounds_pool_their_steps_and_keep_the_largest_peak():
    bench_rnn = _bench_rnn_module()
    rounds = [{"times": [1.0, 2.0], "peak_growth_mb": 3.0}, {"times": [4.0], "peak_growth_mb": 5.0}]
    assert bench_rnn._pooled(rounds) == {"times": [1.0, 2.0, 4.0], "peak_growth_mb": 5.0}
    assert bench_rnn._pooled([rounds[0], None]) is None  # a failed round fails the column


def test_a_row_of_slow_steps_keeps_its_columns_apart(capsys):
    """Times of 100 ms and more are printed to three digits, so no column runs into the next
    (an L-size row once printed "152.27 (106.72-193.58)129.11 (...)")."""
    bench_rnn = _bench_rnn_module()
    assert [bench_rnn._three_digits(ms) for ms in (0.456, 12.84, 152.27, 1661.4, float("nan"))] == [
        "0.46", "12.8", "152", "1661", "n/a"]

    def figures(*seconds):
        return {"times": list(seconds), "peak_growth_mb": 109.1}

    row = {"size": "L", "cell": "rnn", "shape": (65, 512, 128, 64),
           "reference": figures(0.15227, 0.10672, 0.19358), "autograd": figures(0.12911, 0.11086, 1.75),
           "torch": figures(0.16505, 0.12271, 0.23021), "gemm": figures(0.09551)}
    bench_rnn.print_row(row, header=False)
    line = capsys.readouterr().out
    assert re.findall(TIMING, line) == ["152 (107-194)", "129 (111-1750)", "165 (123-230)"]
    gemm, auto_ref, auto_torch, auto_gemm, _gflops, rss = line.split()[-6:]
    assert (gemm, auto_ref, auto_torch, auto_gemm, rss) == ("95.5", "0.85", "0.78", "1.35", "109.1/109.1")


def test_threads_pin_every_worker_and_refuse_zero():
    """--threads N reaches the worker processes (the machine line reports what a worker's
    BLAS runs with, not what the parent assumes)."""
    out = run("bench_rnn.py", "--quick", "--no-torch", "--no-memory", "--no-paired", "--sizes", "S",
              "--cells", "rnn", "--threads", "1")
    machine = out.splitlines()[0]
    assert "(1 thread)" in machine and "pinned by --threads 1" in machine, machine
    assert len(re.findall(TIMING, out)) >= 2
    bench_rnn = _bench_rnn_module()
    assert "(1 thread)" in bench_rnn.run_worker({"kind": "blas"}, threads=1)["blas"]
    proc = subprocess.run([sys.executable, str(BENCHMARKS / "bench_rnn.py"), "--threads", "0"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--threads must be at least 1, got 0" in proc.stderr


def test_an_lstm_row_shows_pytorch_without_onednn_under_it(capsys):
    """CPU nn.LSTM runs oneDNN's fused layer; the row below it is nn.LSTM on ATen's op-by-op
    path (the one nn.RNN and nn.GRU always take), with autograd's ratio to it."""
    bench_rnn = _bench_rnn_module()

    def figures(*seconds):
        return {"times": list(seconds), "peak_growth_mb": 50.0}

    row = {"size": "M", "cell": "lstm", "shape": (65, 256, 64, 32), "reference": figures(0.055),
           "autograd": figures(0.057, 0.042), "torch": figures(0.031), "gemm": figures(0.032),
           "torch_aten": figures(0.0616, 0.0479, 0.07)}
    bench_rnn.print_row(row, header=False)
    main, aten = capsys.readouterr().out.splitlines()
    assert main.split()[:2] == ["M", "lstm"]
    assert "without oneDNN" in aten and re.findall(TIMING, aten) == ["61.6 (47.9-70.0)"]
    assert aten.split()[-1] == "0.80"  # 49.5 / 61.6: autograd's median over ATen's
    del row["torch_aten"]
    bench_rnn.print_row(row, header=False)
    assert len(capsys.readouterr().out.splitlines()) == 1  # rnn and gru rows have no second line
