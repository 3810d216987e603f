"""``shortly.progress_bar``: show a future's progress, or an iteration's, with tqdm.

tqdm is optional: without it the same call prints a plain line at each quarter, so a
program (the tour, a script) need not care which one the user has.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator, Sized
from typing import IO, Any, TypeVar, overload

from ._core import Future
from ._progress import Progress

__all__ = ["progress_bar"]

T = TypeVar("T")


class _Plain:
    """tqdm's few methods used here, as one line of text per quarter of the total."""

    def __init__(self, total: float | None, desc: str | None, file: IO[str]) -> None:
        self.total, self.desc, self.file = total, desc or "progress", file
        self.n: float = 0
        self.quarter = 0

    def update(self, n: float = 1) -> None:
        self.n += n
        self.refresh()

    def refresh(self) -> None:
        if not self.total:
            return
        quarter = int(4 * self.n // self.total)
        if quarter > self.quarter:
            self.quarter = quarter
            print(f"{self.desc}: {self.n:g}/{self.total:g}", file=self.file, flush=True)

    def set_postfix_str(self, note: str, refresh: bool = True) -> None:
        pass

    def close(self) -> None:
        pass


def _bar(total: float | None, desc: str | None, file: IO[str] | None, **kwargs: Any) -> Any:
    out = sys.stderr if file is None else file
    try:
        from tqdm import tqdm
    except ImportError:
        return _Plain(total, desc, out)
    return tqdm(total=total, desc=desc, file=out, **kwargs)


def _show(bar: Any, update: Progress) -> None:
    if update.total is not None and bar.total != update.total:
        bar.total = update.total
    done = update.done
    bar.n = int(done) if float(done).is_integer() else done  # "3/4", not "3.0/4"
    if update.note:
        bar.set_postfix_str(update.note, refresh=False)
    bar.refresh()


@overload
def progress_bar(
    source: Future[T], *, desc: str | None = ..., file: IO[str] | None = ..., **kwargs: Any
) -> T: ...
@overload
def progress_bar(
    source: Iterable[T],
    *,
    total: float | None = ...,
    desc: str | None = ...,
    file: IO[str] | None = ...,
    **kwargs: Any,
) -> Iterator[T]: ...
def progress_bar(
    source: Any,
    *,
    total: float | None = None,
    desc: str | None = None,
    file: IO[str] | None = None,
    **kwargs: Any,
) -> Any:
    """Show progress on stderr with tqdm (a plain line per quarter without it).

    Given a future, wait for it while its progress reports move the bar (a combinator
    counts its inputs), and return its result. Given an iterable (a
    :func:`shortly.map`, an :func:`shortly.as_completed`...), return an iterator over
    it that moves the bar one step per item; ``total`` defaults to ``len(source)``.
    Other keywords go to ``tqdm``.

    Raises:
        TypeError: if ``source`` is neither a future nor an iterable.
        Exception: the future's own exception, if it failed.

    >>> import io, shortly
    >>> out = io.StringIO()
    >>> squares = shortly.map(lambda n: n * n, range(4))
    >>> list(shortly.progress_bar(squares, total=4, desc="squares", file=out))
    [0, 1, 4, 9]
    >>> "4/4" in out.getvalue()
    True
    """
    if isinstance(source, Future):
        return _wait(source, desc, file, **kwargs)
    if not isinstance(source, Iterable):
        raise TypeError(f"source must be a future or an iterable, not {type(source).__name__}")
    if total is None and isinstance(source, Sized):
        total = len(source)
    return _iterate(source, _bar(total, desc, file, **kwargs))


def _iterate(source: Iterable[T], bar: Any) -> Iterator[T]:
    try:
        for item in source:
            yield item
            bar.update(1)
    finally:
        bar.close()


def _wait(future: Future[T], desc: str | None, file: IO[str] | None, **kwargs: Any) -> T:
    bar = _bar(None, desc, file, **kwargs)
    try:
        future.on_progress(lambda update: _show(bar, update))
        result = future.result()
        if bar.total:  # finished: all of it is done, whatever the last report said
            _show(bar, Progress(bar.total, bar.total))
        return result
    finally:
        bar.close()
