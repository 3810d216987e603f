"""Optional integrations with other libraries, each behind its own extra.

``shortly.contrib.dask`` needs ``pip install 'shortly[dask]'`` and
``shortly.contrib.redis`` needs ``pip install 'shortly[redis]'``; importing one without
its extra raises an :class:`ImportError` that says so.
"""

from __future__ import annotations

__all__ = ["missing_extra"]


def missing_extra(extra: str, error: ImportError) -> ImportError:
    """The ImportError to raise when ``shortly.contrib.<extra>`` lacks its extra.

    >>> missing_extra("redis", ImportError("No module named 'redis'", name="redis"))
    ImportError("shortly.contrib.redis needs the 'redis' package: pip install 'shortly[redis]'")
    """
    return ImportError(
        f"shortly.contrib.{extra} needs the {error.name or extra!r} package: "
        f"pip install 'shortly[{extra}]'",
        name=error.name,
    )
