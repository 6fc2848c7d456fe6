"""The benchmark scripts run end to end (smoke runs: no timing assertions)."""

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
