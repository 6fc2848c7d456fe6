"""``torch.nn.functional``'s place: ``import tinygrad_rnn.nn.functional as F`` gives
:mod:`tinygrad_rnn.functional` itself (one module under two names, as code written for
PyTorch imports it), not a copy whose functions could drift apart. This module replaces
itself in ``sys.modules`` on import, so its own docstring is never seen again.
"""

import sys

from .. import functional

sys.modules[__name__] = functional
