"""Run CPython's own ``test_concurrent_futures`` modules with ``shortly.Future`` in place.

Usage: ``python3.13 tests/cpython/run_futures_suite.py`` with ``shortly`` (and ``sniffio``)
importable. ``concurrent.futures.Future`` and ``concurrent.futures._base.Future`` are
replaced before the test modules import them, so every future the tests create, and every
future ``ThreadPoolExecutor.submit`` returns, is a ``shortly.Future``.

One deliberate deviation is marked as an expected failure: shortly marks a cancelled
future ``CANCELLED_AND_NOTIFIED`` at once (so ``wait()`` and ``as_completed()`` count it
as done, as their documentation says), where ``test_cancel`` asserts the stdlib's
internal ``CANCELLED`` string. See docs/guide/cancellation.md.

Exit status 0 when everything else passes; the summary names any unexpected result.
"""

from __future__ import annotations

import concurrent.futures
import concurrent.futures._base
import sys
import unittest

import shortly

MODULES = ["test_future", "test_wait", "test_as_completed", "test_thread_pool"]

# test name -> why shortly deliberately differs (documented in the cancellation guide)
DEVIATIONS = {
    "FutureTests.test_cancel": (
        "shortly marks a cancelled future CANCELLED_AND_NOTIFIED at once, so wait() "
        "and as_completed() count it as done"
    ),
}


def _install() -> None:
    concurrent.futures.Future = shortly.Future  # type: ignore[misc]
    concurrent.futures._base.Future = shortly.Future  # type: ignore[misc]


def _mark_deviations(package: str) -> None:
    module = sys.modules[f"{package}.test_future"]
    for name in DEVIATIONS:
        cls_name, test_name = name.split(".")
        cls = getattr(module, cls_name)
        setattr(cls, test_name, unittest.expectedFailure(getattr(cls, test_name)))


def main() -> int:
    _install()
    package = "test.test_concurrent_futures"
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    for name in MODULES:
        module = __import__(f"{package}.{name}", fromlist=["*"])
        if hasattr(module, "setUpModule"):
            module.setUpModule()
        suite.addTests(loader.loadTestsFromModule(module))
    _mark_deviations(package)
    assert concurrent.futures.ThreadPoolExecutor(1).submit(int).__class__ is shortly.Future
    result = unittest.TextTestRunner(verbosity=1, stream=sys.stdout).run(suite)
    unexpected = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    print(f"shortly: ran {result.testsRun}, expected deviations {len(result.expectedFailures)}")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
