"""Sphinx configuration for the shortly documentation.

Build with ``make docs`` (``sphinx-build -W -b html docs docs/_build/html``): every
warning is an error, so a broken reference or a docstring autodoc cannot read fails
the build instead of rotting quietly.

Pages are Markdown (MyST). Their code examples are run by ``tests/test_docs.py``
(``>>>`` blocks as doctests, other ``python`` blocks as scripts), and the docstring
examples by pytest's ``--doctest-modules``; that pair replaces ``sphinx.ext.doctest``,
so the examples are checked by ``make test`` rather than by a separate builder.
"""

from __future__ import annotations

import re
import sys
import typing
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import shortly  # noqa: E402  (after the path is set, for a checkout without install)

project = "shortly"
author = "the shortly authors"
copyright = "the shortly authors"
release = shortly.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_inventories"]

# Standard-library names link to the Python docs. The inventory is a committed copy
# (Python 3.11's ``objects.inv``), so the build never reaches the network: CI runs
# offline, and a fetch that failed would be a warning, an error under ``-W``.
# Refresh it by replacing the file with https://docs.python.org/3/objects.inv.
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", "_inventories/python.inv"),
}

# MyST: anchors for headings, so guide pages can link to sections of each other.
myst_heading_anchors = 3

# Docstrings are Google style (Args:, Raises:, Attributes:).
napoleon_google_docstring = True
napoleon_numpy_docstring = False
# Attributes as :ivar: fields, so a dataclass field documented both by autodoc and by
# an "Attributes:" section is not described twice (a duplicate-object warning).
napoleon_use_ivar = True

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
autodoc_default_options = {"members": True, "show-inheritance": True}
python_use_unqualified_type_names = True

pygments_style = "friendly"
pygments_dark_style = "monokai"
html_theme = "furo"
html_title = f"shortly {release}"


def _public_bases(app: Sphinx, name: str, obj: type, options: object, bases: list[Any]) -> None:
    """Leave private classes (such as ``shortly._core._promise.PromiseMethods``) out of "Bases".

    A class defined in a private module but exported by ``shortly`` is public.
    """

    def shown(base: Any) -> bool:
        cls = typing.get_origin(base) or base
        path = [*getattr(cls, "__module__", "").split("."), getattr(cls, "__name__", "")]
        private = any(part.startswith("_") for part in path)
        return not private or getattr(shortly, path[-1], None) is cls

    bases[:] = [base for base in bases if shown(base)]


# A bare ``Future`` in a signature is one autodoc could not resolve (imported only under
# TYPE_CHECKING); pointed at shortly.Future it cannot be confused with compat.pyro4.Future.
_BARE_FUTURE = re.compile(r"(?<![\w.~])Future\b")


def _qualify_future(
    app: Sphinx,
    what: str,
    name: str,
    obj: object,
    options: object,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str | None, str | None] | None:
    if name.startswith("shortly.compat.pyro4."):
        return None  # that module's own Future class

    def fix(text: str | None) -> str | None:
        return _BARE_FUTURE.sub("~shortly.Future", text) if text else text

    return fix(signature), fix(return_annotation)


def setup(app: Sphinx) -> None:
    app.connect("autodoc-process-bases", _public_bases)
    app.connect("autodoc-process-signature", _qualify_future)
