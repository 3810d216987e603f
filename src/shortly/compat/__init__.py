"""Compatibility modules: the APIs of five older libraries, built on shortly's core.

A program written for one of them changes one import line and keeps running:

=====================================  ===========================================
old import                             new import
=====================================  ===========================================
``from Pyro4.futures import ...``      ``from shortly.compat.pyro4 import ...``
``from quickrpc.promise import ...``   ``from shortly.compat.quickrpc import ...``
``import kaa``                         ``from shortly.compat import kaa``
``from cs.asynchron import ...``       ``from shortly.compat.asynchron import ...``
``from pulsar.async.futures ...``      ``from shortly.compat.pulsar import ...``
=====================================  ===========================================

Each module is thin: it maps the old names onto :class:`shortly.Future`, its chains,
timers, serial worker, combinators, ``spawn``, ``run_in_loop`` and ``Lock``, and holds
no futures, waiting or locking of its own. So every old object also works with the
core: :func:`shortly.future_of` turns it into a shortly future (each implements
``__shortly_future__()``), and the combinators and ``await`` accept it.

Each module's docstring lists where it follows the original's observable behaviour and
where it deliberately fixes a bug of the original. The submodules are imported on
demand, so importing this package costs nothing.

>>> from shortly.compat import quickrpc
>>> promise = quickrpc.Promise()
>>> promise.set_result("order ready")
>>> promise.result()
'order ready'
"""

from __future__ import annotations

__all__ = ["asynchron", "kaa", "pulsar", "pyro4", "quickrpc"]
