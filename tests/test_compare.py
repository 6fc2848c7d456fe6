"""Three-way agreement: autograd, the hand-derived reference, and finite differences."""

import argparse
import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_rnn import compare, reference

problems = st.fixed_dictionaries({
    "cell": st.sampled_from(compare.CELLS),
    "loss": st.sampled_from(compare.LOSSES),
    "input": st.sampled_from(compare.INPUTS),
    "seq_len": st.integers(1, 20),
    "batch": st.integers(1, 4),
    "input_size": st.integers(1, 8),
    "hidden_size": st.integers(1, 8),
    "num_layers": st.integers(1, 2),
    "bias": st.booleans(),
    "initial_state": st.booleans(),
    "reduction": st.sampled_from(("mean", "sum")),
    "seed": st.integers(0, 2**16),
})


@given(problems)
def test_float64_autograd_reference_and_fd_agree(problem):
    report = compare.compare_gradients(**problem, fd_samples=8)
    assert report.passed, report.format_table()
    assert all(row.rel_autograd_reference <= 1e-9 for row in report.rows)
    assert report.loss_difference <= 1e-9 * max(1.0, abs(report.loss_reference))
    expected = set(reference.param_shapes(
        cell=problem["cell"], input_size=problem["input_size"], hidden_size=problem["hidden_size"],
        output_size=report.config["output_size"], num_layers=problem["num_layers"],
        embedding_dim=report.config["embedding_dim"], bias=problem["bias"]))
    if problem["initial_state"]:
        expected |= {"h0", "c0"} if problem["cell"] == "lstm" else {"h0"}
    assert {row.name for row in report.rows} == expected


@given(problems)
def test_float32_autograd_and_reference_agree_to_1e_4(problem):
    report = compare.compare_gradients(**problem, dtype="float32", fd_samples=4)
    assert all(row.rel_autograd_reference <= 1e-4 for row in report.rows), report.format_table()
    assert report.passed, report.format_table()


def test_relu_rnn_three_way():
    report = compare.compare_gradients(cell="rnn", nonlinearity="relu", seq_len=6, num_layers=2,
                                       initial_state=True)
    assert report.passed, report.format_table()


def test_a_wrong_gradient_fails_the_comparison(monkeypatch):
    original = reference.forward_backward

    def off_by_a_bit(*args, **kwargs):
        result = original(*args, **kwargs)
        grads = dict(result.grads)
        grads["rnn.weight_hh_l0"] = grads["rnn.weight_hh_l0"] * 1.01
        return dataclasses.replace(result, grads=grads)

    monkeypatch.setattr(compare.reference, "forward_backward", off_by_a_bit)
    report = compare.compare_gradients(cell="lstm")
    failed = [row.name for row in report.rows if not row.passed]
    assert failed == ["rnn.weight_hh_l0"]
    assert not report.passed and "FAIL" in report.format_table()


def _args(*argv):
    parser = argparse.ArgumentParser()
    compare.add_arguments(parser)
    return parser.parse_args(argv)


def test_command_prints_a_table_per_cell(capsys):
    assert compare.run(_args("--seq-len", "3", "--initial-state")) == 0
    out = capsys.readouterr().out
    for cell in ("rnn ·", "lstm ·", "gru ·"):
        assert cell in out
    assert out.count("PASS") == 3 and "c0" in out


def test_command_json_and_exit_code(capsys, monkeypatch):
    assert compare.run(_args("--cell", "gru", "--json", "--dtype", "float32")) == 0
    reports = json.loads(capsys.readouterr().out)
    assert reports[0]["passed"] is True and reports[0]["config"]["dtype"] == "float32"

    monkeypatch.setattr(compare, "FD_ATOL", -1.0)  # nothing can pass: the command must say so
    assert compare.run(_args("--cell", "rnn")) == 1


def test_bad_choice_is_a_clear_error():
    with pytest.raises(ValueError, match="compare: cell must be one of"):
        compare.compare_gradients(cell="transformer")
    # These were refused under the model's names (RNN:, RecurrentModel.loss:) or, for a
    # truthy initial_state, taken.
    for settings, error, message in (
            ({"nonlinearity": "sigmoid"}, ValueError, r"compare: nonlinearity must be one of \('tanh', "),
            ({"cell": "gru", "nonlinearity": "relu"}, ValueError, r"compare: nonlinearity='relu' applies to "
                                                                  r"cell='rnn' only, got 'gru'"),
            ({"reduction": "max"}, ValueError, r"compare: reduction must be one of \('mean', 'sum'\)"),
            ({"initial_state": 1}, TypeError, r"compare: initial_state must be True or False, got 1")):
        with pytest.raises(error, match=message):
            compare.compare_gradients(**settings)


@pytest.mark.parametrize(("flag", "value", "minimum"), [
    ("--fd-samples", "0", 1), ("--fd-samples", "-1", 1), ("--seq-len", "-1", 1), ("--batch", "0", 1),
    ("--input-size", "0", 1), ("--hidden", "0", 1), ("--layers", "0", 1), ("--seed", "-1", 0),
])
def test_command_refuses_bad_sizes_naming_the_flag(flag, value, minimum, capsys):
    # --fd-samples 0 used to print PASS for a finite-difference check that never ran.
    with pytest.raises(ValueError, match=f"^{flag} must be an integer >= {minimum}, got {value}$"):
        compare.run(_args("--cell", "rnn", flag, value))
    assert capsys.readouterr().out == ""


def test_bad_sizes_are_refused_naming_the_argument():
    with pytest.raises(ValueError, match="compare: fd_samples must be an integer >= 1, got 0"):
        compare.compare_gradients(fd_samples=0)
    with pytest.raises(ValueError, match="compare: batch must be an integer >= 1, got True"):
        compare.compare_gradients(batch=True)
    with pytest.raises(ValueError, match="compare: embedding_dim must be an integer >= 1, got 0"):
        compare.compare_gradients(input="embedding", embedding_dim=0)
    with pytest.raises(ValueError, match="compare: eps must be a positive finite number, got 0"):
        compare.compare_gradients(eps=0)
    assert compare.compare_gradients(embedding_dim=0, seq_len=2, batch=1).passed  # unused by one-hot


def test_sampled_fd_elements_are_distinct_and_bounded():
    indices = compare._sample(np.random.default_rng(0), (30, 40), 25)
    assert len(indices) == 25 == len(set(indices))
    assert all(0 <= i < 30 and 0 <= j < 40 for i, j in indices)


def test_the_module_is_callable_as_compare_gradients():
    import tinygrad_rnn

    report = tinygrad_rnn.compare(cell="rnn", seq_len=2, batch=1)
    assert isinstance(report, compare.ComparisonReport) and report.passed
