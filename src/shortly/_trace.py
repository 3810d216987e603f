"""Traced chains: in debug mode a failure says where each link it passed was made.

A failure travels down a chain by settling one future after another with the same
exception object: the source fails, then each ``then``/``catch`` link, each adopting
future, each combinator. In debug mode every future records its creation site
(``creation_site``), so when one is settled with an exception it appends a
note naming that site. The notes therefore come innermost first: the future that
failed, then each link on the way to the code that finally reads the error, which is
Bluebird's long stack trace.

Notes are the standard mechanism: ``add_note`` on 3.11+, where tracebacks print them;
on 3.10 the same ``__notes__`` list, which the ``exceptiongroup`` backport's traceback
printing shows. Outside debug mode nothing runs: the hook in ``Future._settle`` is one
test of a module flag, and only on failures. The notes are written by
``note_site`` (debug mode owns creation sites); this module reads them back.
"""

from __future__ import annotations

from typing import Any

from ._core import NOTE_PREFIX, Future, future_label, site_line, take_failure, upstream_of

__all__ = ["format_chain"]


def format_chain(future: Future[Any]) -> str:
    """Where a future's chain was built, innermost link first, as text.

    For a failed future: its error and the sites of the links it passed through (in
    debug mode). For a pending one: the sites of the futures it waits on, from the
    one furthest up to itself. Futures created outside debug mode have no site, and
    say so.

    Raises:
        TypeError: if ``future`` is not a shortly future.

    >>> import shortly
    >>> shortly.set_debug(True)
    >>> source = shortly.Future()
    >>> total = source.then(lambda rows: sum(rows))
    >>> source.set_exception(ValueError("no rows"))
    >>> print(shortly.format_chain(total))  # doctest: +ELLIPSIS
    ValueError: no rows
      via Future created at ...
      via Future created at ...
    >>> shortly.set_debug(False)
    >>> total.exception() is source.exception()
    True
    """
    if not isinstance(future, Future):
        raise TypeError(f"future must be a shortly.Future, not {type(future).__name__}")
    error = take_failure(future)  # the chain was asked for: the failure has been seen
    if error is not None:
        notes = [n for n in getattr(error, "__notes__", ()) if n.startswith(NOTE_PREFIX)]
        lines = [f"{type(error).__name__}: {error}"]
        lines += [f"  via {n[len(NOTE_PREFIX) :]}" for n in notes] or [
            "  (no sites: not debug mode)"
        ]
        return "\n".join(lines)
    chain = []
    link: Any = future
    seen = set()
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        chain.append(link)
        upstream = upstream_of(link)
        link = upstream[0] if upstream else None
    lines = [f"{future!r}"]
    for each in reversed(chain):
        site = site_line(getattr(each, "_site", None)) or "an unknown site"
        lines.append(f"  {future_label(each)} created at {site}")
    return "\n".join(lines)
