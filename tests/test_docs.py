"""The examples in the package's docstrings run and print what they show."""

import doctest
import importlib
import pkgutil

import pytest

import tinygrad_rnn

# __main__ runs the command line when imported.
MODULES = sorted(info.name for info in pkgutil.walk_packages(tinygrad_rnn.__path__, "tinygrad_rnn.")
                 if not info.name.endswith("__main__"))


def test_every_module_is_collected():
    assert {"tinygrad_rnn.tensor", "tinygrad_rnn.optim", "tinygrad_rnn.lr_scheduler",
            "tinygrad_rnn.nn.recurrent", "tinygrad_rnn.reference.model"} <= set(MODULES)


@pytest.mark.parametrize("name", ["tinygrad_rnn", *MODULES])
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, report=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed"
