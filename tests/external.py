"""Programs from outside Python that some tests start: a browser, a relay server, a mail server.

On a developer's machine without one, the tests that need it skip and say why; under CI
(``CI=true``, set by ``.ci/run``, which installs them) a missing program is a failure, not a skip.
"""

import os

import pytest


def missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: the tests that need it must run)")
    pytest.skip(reason)
