"""The README's Quickstart matches CI, and its Python tour runs as written."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_quickstart_has_exactly_two_commands_and_ci_runs_the_second():
    quickstart = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.+?)\n```", quickstart, flags=re.S)
    assert commands == [
        'python -m pip install -e ".[dev,plot]" && python -m tinygrad_rnn demo',
        'python -m pip install -e ".[dev]" && python -m pytest',
    ]
    assert "quickstart:test" in (ROOT / ".ci" / "run").read_text()


def test_python_tour_runs(tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.+?)\n```", README, flags=re.S)
    assert blocks
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out.splitlines()
    # Each print's output is what the comment after it (on its line or the next) says; a
    # comment may go on after ": " to explain it.
    expected = []
    for block in blocks:
        lines = block.split("\n")
        for number, line in enumerate(lines):
            if line.startswith("print("):
                comment = line.partition("  # ")[2] or lines[number + 1].removeprefix("# ")
                expected.append(re.sub(r": [a-z].*$", "", comment))
    assert len(expected) >= 5
    assert out == expected
    assert (tmp_path / "model.npz").exists()
