"""Root pytest configuration: load every public name before doctests are collected.

``shortly`` loads its submodules on first use, and each public name reports
``shortly`` as its module; doctest finds a name's examples through the ``shortly``
namespace only once the name is loaded there.
"""

import shortly

for _name in shortly.__all__:
    getattr(shortly, _name)
