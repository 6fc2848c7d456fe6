"""Shared test configuration: hypothesis profiles.

`ci` (the default) bounds the number of examples so the whole suite stays fast on
2 cores; `thorough` is for local runs that want more examples. Hypothesis prints
the seed and the failing example on failure (`print_blob=True`).
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=25,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("thorough", max_examples=300, deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
