"""``python -m tinygrad_rnn``: the command-line interface (see ``cli.py``)."""

import sys

from .cli import main

sys.exit(main())
