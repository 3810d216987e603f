"""Every code example in ``docs/**/*.md`` runs, and a wrong one fails.

The Markdown is parsed with markdown-it, the parser MyST itself uses, so the blocks
tested are exactly the blocks rendered. A fenced block whose language is ``python`` is
run: as a doctest when it starts with a ``>>>`` prompt, else as a script (whose
``assert`` statements are its checks). Other languages (``console``, ``text``, ...)
are shown, not run.

The blocks of one page run in order in one namespace, fresh for each page, the way a
reader goes through it; a page is one test. Every page also runs under
:func:`shortly.testing.no_unhandled`: an example that silently loses a failure is wrong.
A page that shows such failures on purpose says so with the MyST comment line
``% docs-test: reports unhandled failures``.
"""

from __future__ import annotations

import doctest
import os
import re
import runpy
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

import shortly
import shortly.testing
from shortly.testing import no_unhandled
from tests.redis_server import RedisServer

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# The README's example is documentation too.
PAGES = [*sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.parts), ROOT / "README.md"]
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
REPORTS_UNHANDLED = re.compile(r"^% docs-test: reports unhandled failures$", re.M)


@dataclass(frozen=True)
class Block:
    """One runnable code block: where it is and what it says."""

    path: Path
    line: int  # 1-based line of the block's first line of code
    code: str

    @property
    def is_doctest(self) -> bool:
        return self.code.lstrip().startswith(">>>")


def blocks_of(path: Path) -> list[Block]:
    """The ``python`` fenced blocks of a Markdown page, in order."""
    tokens = MarkdownIt("commonmark").parse(path.read_text(encoding="utf-8"))
    found = []
    for token in tokens:
        if token.type != "fence" or token.map is None:
            continue
        words = token.info.split()
        if words and words[0] == "python":
            found.append(Block(path, token.map[0] + 2, token.content))
    return found


def run_page(path: Path, env: dict[str, str] | None = None) -> int:
    """Run every block of ``path`` in one fresh namespace; return how many ran.

    Raises:
        AssertionError: naming the page and line of the first doctest that failed.
        Exception: whatever a script block raised (its traceback names page and line).
    """
    namespace: dict[str, object] = {"__name__": "__docs__"}
    blocks = blocks_of(path)
    old_env = {key: os.environ.get(key) for key in env or {}}
    os.environ.update(env or {})
    try:
        for block in blocks:
            if block.is_doctest:
                _run_doctest(block, namespace)
            else:
                # Padding keeps tracebacks' line numbers those of the page.
                source = "\n" * (block.line - 1) + block.code
                exec(compile(source, str(block.path), "exec"), namespace)
    finally:
        for key, value in old_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return len(blocks)


def _run_doctest(block: Block, namespace: dict[str, object]) -> None:
    shown = block.path.relative_to(DOCS.parent) if block.path.is_relative_to(DOCS) else block.path
    name = f"{shown}:{block.line}"
    test = doctest.DocTestParser().get_doctest(
        block.code, namespace, name, str(block.path), block.line - 1
    )
    report: list[str] = []
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    runner.run(test, out=report.append, clear_globs=False)
    namespace.update(test.globs)  # DocTest copies the namespace: carry it to the next block
    if runner.failures:
        raise AssertionError(f"doctest failed in {name}:\n" + "".join(report))


# -- a Redis server for the pages that show the Redis backend ---------------------------


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The session's redis-server (``tests/redis_server.py``, the one launcher)."""
    return redis_server.url


def _needs_redis(path: Path) -> bool:
    return any("REDIS_URL" in block.code for block in blocks_of(path))


# -- the tests ------------------------------------------------------------------------


def test_the_docs_have_pages() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in PAGES}
    assert {"docs/index.md", "docs/api/index.md", "docs/comparison.md", "README.md"} <= names


@pytest.mark.timeout(60)
@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_page_examples_run(path: Path, request: pytest.FixtureRequest) -> None:
    env = {"REDIS_URL": request.getfixturevalue("redis_url")} if _needs_redis(path) else {}
    if REPORTS_UNHANDLED.search(path.read_text(encoding="utf-8")):
        run_page(path, env)
    else:
        with no_unhandled():
            run_page(path, env)


def test_a_page_that_loses_a_failure_fails(tmp_path: Path) -> None:
    page = tmp_path / "lossy.md"
    page.write_text("```python\nimport shortly\nshortly.Future.failed(KeyError())\n```\n")
    with pytest.raises(AssertionError, match="unhandled"), no_unhandled():
        run_page(page)


def test_a_wrong_doctest_fails(tmp_path: Path) -> None:
    page = tmp_path / "wrong.md"
    page.write_text("# W\n\n```python\n>>> 1 + 1\n3\n```\n", encoding="utf-8")
    with pytest.raises(AssertionError, match=r"wrong\.md"):
        run_page(page)


def test_a_raising_script_block_fails_with_its_line(tmp_path: Path) -> None:
    page = tmp_path / "raises.md"
    page.write_text("# R\n\ntext\n\n```python\nx = 1\nassert x == 2\n```\n", encoding="utf-8")
    with pytest.raises(AssertionError) as info:
        run_page(page)
    assert info.traceback[-1].lineno + 1 == 7  # the page's line of the assert


def test_blocks_share_a_namespace_per_page_only(tmp_path: Path) -> None:
    first = tmp_path / "a.md"
    first.write_text("```python\nx = 41\n```\n\n```python\n>>> x + 1\n42\n```\n")
    second = tmp_path / "b.md"
    second.write_text("```python\n>>> 'x' in globals()\nFalse\n```\n")
    assert run_page(first) == 2
    assert run_page(second) == 1


def test_other_languages_are_not_run(tmp_path: Path) -> None:
    page = tmp_path / "c.md"
    page.write_text("```console\n$ make test\n```\n\n```text\n>>> 1\n2\n```\n")
    assert run_page(page) == 0


def test_api_reference_lists_every_public_name() -> None:
    # One page per area under docs/api/; each public name is described on one of them
    # (on two, Sphinx would see a duplicate object and links to it would be ambiguous).
    pages: dict[str, list[str]] = {}
    for page in sorted((DOCS / "api").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for name in re.findall(r"^\.\. auto\w+:: shortly\.(\w+)\s*$", text, re.M):
            pages.setdefault(name, []).append(page.name)
    missing = sorted(set(shortly.__all__) - set(pages))
    assert not missing, f"docs/api/*.md do not document: {missing}"
    twice = {name: where for name, where in pages.items() if len(where) > 1}
    assert not twice, f"documented on several pages: {twice}"


def test_api_reference_lists_every_testing_helper() -> None:
    # shortly.testing is documented by an explicit member list, plus its fixtures in prose.
    text = (DOCS / "api" / "testing-and-bench.md").read_text(encoding="utf-8")
    missing = [name for name in shortly.testing.__all__ if not re.search(rf"\b{name}\b", text)]
    assert not missing, f"docs/api/testing-and-bench.md does not document: {missing}"


def test_api_index_lists_every_api_page() -> None:
    index = (DOCS / "api" / "index.md").read_text(encoding="utf-8")
    toctree = index.split("```{toctree}", 1)[1].split("```", 1)[0]
    listed = {line.strip() for line in toctree.splitlines() if line.strip()[:1].isalpha()}
    pages = {p.stem for p in (DOCS / "api").glob("*.md")} - {"index"}
    assert listed == pages and len(pages) >= 8


def test_stdlib_names_link_through_the_committed_inventory() -> None:
    # The -W build runs offline: intersphinx must read a committed inventory, never
    # fetch one (a failed fetch is a warning, so an error under -W).
    conf = runpy.run_path(str(DOCS / "conf.py"))
    assert "sphinx.ext.intersphinx" in conf["extensions"]
    uri, local = conf["intersphinx_mapping"]["python"]
    assert uri == "https://docs.python.org/3" and not local.startswith(("http:", "https:"))
    header, body = (DOCS / local).read_bytes().split(b"compressed using zlib.\n", 1)
    assert header.startswith(b"# Sphinx inventory version 2\n# Project: Python\n")
    entries = {tuple(line.split()[:2]) for line in zlib.decompress(body).decode().splitlines()}
    # Names the reference and the guides point at.
    for name, role in [
        ("concurrent.futures.Future", "py:class"),
        ("concurrent.futures.CancelledError", "py:exception"),
        ("threading.Thread", "py:class"),
        ("asyncio.AbstractEventLoop", "py:class"),
        ("contextvars", "py:module"),
    ]:
        assert (name, role) in entries, name
