"""Shared test setup.

``shortly.testing`` is loaded as a plugin, so any test may ask for the
``no_unhandled_failures`` fixture: it fails the test if a failure goes unhandled.
"""

from __future__ import annotations

pytest_plugins = ["shortly.testing", "tests.redis_server"]
