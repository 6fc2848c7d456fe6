"""The `gradcheck` subcommand's checks: every op and module passes, and a broken op fails."""

import argparse
import json

import numpy as np
import pytest

from tinygrad_rnn import selfcheck
from tinygrad_rnn.tensor import result


def test_every_op_and_module_passes():
    rows = selfcheck.run_checks()
    assert len(rows) >= 30
    failed = [row.check for row in rows if not row.passed]
    assert not failed, failed
    assert all(row.max_abs_error < 1e-6 for row in rows)
    names = " ".join(row.check for row in rows)
    for expected in ("matmul", "getitem (gather", "cross_entropy", "LSTM", "GRU", "RNN (relu)",
                     "Embedding", "RecurrentModel", "squeeze", "ignore_index", "pad_sequence",
                     "LayerNorm", "Sequential", "lstm_cell", "gru_cell", "packed", "clone", "where",
                     "logsumexp", "var, std", "norm", "nll_loss", "NLLLoss", "chunk", "index_select",
                     "maximum, minimum", "cumsum", "binary_cross_entropy_with_logits", "huber_loss"):
        assert expected in names


def test_the_seed_must_be_a_non_negative_integer():
    parser = argparse.ArgumentParser()
    selfcheck.add_arguments(parser)
    assert parser.parse_args(["--seed", "3"]).seed == 3
    for bad in ("-1", "x"):
        with pytest.raises(SystemExit):
            parser.parse_args(["--seed", bad])


def test_table_and_json_output(capsys):
    args = argparse.Namespace(only="clone", seed=0, json=False)
    assert selfcheck.run(args) == 0
    out = capsys.readouterr().out
    assert "clone" in out and "1 passed, 0 failed" in out

    args.json = True
    assert selfcheck.run(args) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1 and rows[0]["check"] == "clone" and rows[0]["passed"] is True


def test_a_wrong_backward_is_reported(monkeypatch):
    def wrong_tanh(x):
        return result(np.tanh(x.data), (x,), lambda grad: (grad,), "tanh")

    monkeypatch.setattr(selfcheck.Tensor, "tanh", wrong_tanh)
    rows = {row.check: row for row in selfcheck.run_checks("tanh", include_modules=False)}
    # tanh's own row fails, and mish's (x · tanh(softplus x)); hardtanh uses no tanh
    failed = {name for name, row in rows.items() if not row.passed}
    assert failed == {"tanh", "logsigmoid, softsign, tanhshrink, mish, celu, selu"}
    assert rows["hardtanh, relu6, hardsigmoid, hardswish, softshrink, hardshrink"].passed
    assert "disagrees with central differences" in rows["tanh"].detail
    assert "2 failed" in selfcheck.format_table(list(rows.values()))


def test_unknown_filter_is_an_error():
    with pytest.raises(ValueError, match="no check matches"):
        selfcheck.run(argparse.Namespace(only="no such op", seed=0, json=False))


def test_the_table_columns_line_up_for_the_longest_name():
    rows = selfcheck.run_checks("cross_entropy", include_modules=False)
    lines = selfcheck.format_table(rows).splitlines()
    header, body = lines[0], [line for line in lines[2:-1] if not line.startswith("    ")]
    assert max(len(row.check) for row in rows) > 40  # "cross_entropy (weight, ignore_index, label_smoothing)"
    # Every row's status under the header's (one row was a column out: a name over 40 characters).
    assert {line.rindex("ok") for line in body} == {header.index("status")}
