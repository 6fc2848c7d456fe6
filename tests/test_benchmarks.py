"""The benchmark scripts run end to end (smoke runs: no timing assertions)."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


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
    lines = out.splitlines()
    assert lines[0].startswith("machine:")
    rows = [line for line in lines if line.startswith("S ")]
    assert [row.split()[1] for row in rows] == ["rnn", "gru"]
    for row in rows:  # reference and autograd both ran: median (min-max) for each
        assert len(re.findall(r"\d+\.\d+ \(\d+\.\d+-\d+\.\d+\)", row)) >= 2, row
    assert "leak check" in out and "T=  1000" in out


def test_bench_rnn_rounds_alternate_and_refuse_zero():
    out = run("bench_rnn.py", "--quick", "--no-torch", "--no-memory", "--sizes", "S", "--cells", "rnn",
              "--rounds", "2")
    [row] = [line for line in out.splitlines() if line.startswith("S ")]
    assert len(re.findall(r"\d+\.\d+ \(\d+\.\d+-\d+\.\d+\)", row)) >= 2, row
    proc = subprocess.run([sys.executable, str(BENCHMARKS / "bench_rnn.py"), "--rounds", "0"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--rounds must be at least 1, got 0" in proc.stderr


def test_rounds_pool_their_steps_and_keep_the_largest_peak():
    spec = importlib.util.spec_from_file_location("bench_rnn", BENCHMARKS / "bench_rnn.py")
    bench_rnn = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_rnn)
    rounds = [{"times": [1.0, 2.0], "peak_growth_mb": 3.0}, {"times": [4.0], "peak_growth_mb": 5.0}]
    assert bench_rnn._pooled(rounds) == {"times": [1.0, 2.0, 4.0], "peak_growth_mb": 5.0}
    assert bench_rnn._pooled([rounds[0], None]) is None  # a failed round fails the column
