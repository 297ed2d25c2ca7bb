"""Test overlay: only what makes tests faster or self-contained (svc_common.settings.testing)."""

from svc_common.settings.testing import use_test_environment

use_test_environment(redis_db=8)

from .settings import *  # noqa: E402,F403

# isort: split
# The overlay's settings last, over the project's.
from svc_common.settings.testing import *  # noqa: E402,F403
