"""Every code example of the five seed documents (``../shared/seeds/``), run against the
compat modules with only the import line changed.

The examples are copied below, each under a comment naming its seed file and section;
``test_examples_are_verbatim`` reads the seed files at test time and checks that every
copied line is the seed's line, in order. What the copies may differ in, and only that:

* indentation, which the seed text lost, restored;
* the kaa seed is Python 2: ``print x, y`` is written ``print(x, y)`` and ``except E, e:``
  is written ``except E as e:`` (``_py3`` below does exactly this to the seed's lines);
* lines marked ``# seed: <line>`` stand for that seed line: the changed import line,
  and the pseudo-code's "Thread 1:" labels, written as functions the test runs in threads;
* lines marked ``# added``: ``kaa.main.stop()`` where kaa's example relies on a main
  loop that never ends, and the scaffolding the pseudo-code examples leave to the reader
  (an import, a ``print`` the comment promises, a class around ``self.timeit``);
* the kaa examples connect to ``www.freevo.org:80``: the test replaces that address with
  a server on loopback (or a closed loopback port, for the failure branch).

The Pyro4 and quickrpc seeds hold no code examples, only signatures; those, and the
signatures of the pulsar seed, are checked against the compat modules at the end.
"""

from __future__ import annotations

import inspect
import re
import socket
import textwrap
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.timeout(20), pytest.mark.usefixtures("no_unhandled_failures")]

# Copies of the five seed documents (``../shared/seeds/``, read-only upstream) kept with
# the tests, so a clone anywhere can check the examples against them.
SEEDS = Path(__file__).resolve().parent / "seeds"
PYRO4, QUICKRPC, KAA, ASYNCHRON, PULSAR = (
    "000_d72664bbc2e8a0e9.txt",
    "001_e90c09210efaf409.txt",
    "002_8959ab03b57869d4.txt",
    "003_1003e48d7393196c.txt",
    "004_e4f751f9b06fee1e.txt",
)
FREEVO = "'www.freevo.org:80'"

# -- the examples, copied -----------------------------------------------------------------

# 002 (kaa), "InProgress Objects": connecting callbacks to an InProgress.
KAA_CALLBACKS = """\
from shortly.compat import kaa  # seed: import kaa
def handle_connect(result):
    print('Connected to remote site successfully')
    kaa.main.stop()  # added
def handle_exception(tp, exc, tb):
    print('Connect failed:', exc)
    kaa.main.stop()  # added
sock = kaa.Socket()
inprogress = sock.connect('www.freevo.org:80')
inprogress.connect(handle_connect)
inprogress.exception.connect(handle_exception)
# Or a convenience function exists to replace the above 2 lines:
# inprogress.connect_both(handle_connect, handle_exception)
kaa.main.run()
"""

# 002 (kaa), "InProgress Objects": the same, rewritten as a coroutine.
KAA_COROUTINE = """\
from shortly.compat import kaa  # seed: import kaa
@kaa.coroutine()
def connect(site):
    sock = kaa.Socket()
    try:
        yield sock.connect(site)
    except Exception as exc:
        print('Connect failed:', exc)
    else:
        print('Connected to remote site successfully')
    kaa.main.stop()  # added
connect('www.freevo.org:80')
kaa.main.run()
"""

# 003 (cs.asynchron), "Project Description": the trite example.
ASYNCHRON_TRITE = """\
from shortly.compat.asynchron import Asynchron  # added
A = Asynchron(name="my demo")
def thread_1():  # seed: Thread 1:
    value = A()
    # blocks...
    # prints 3 once Thread 2 (below) assigns to it
    print(value)  # added
def thread_2():  # seed: Thread 2:
    A.result = 3
def thread_3():  # seed: Thread 3:
    value = A()
    # returns immediately with 3
    print(value)  # added
"""

# 003 (cs.asynchron), "Project Description": collecting in completion order.
ASYNCHRON_REPORT = """\
from shortly.compat.asynchron import report  # added
As = ASYNCHRONS  # seed: As = [ ... list of Asynchrons or whatever type ... ]
for A in report(As):
    x = A()     # collect result, will return immediately
    print(x)    # print result
"""

# 004 (pulsar), "Async object interface", AsyncObject.timeit: "The usage is simple".
PULSAR_TIMEIT = """\
from shortly.compat.pulsar import AsyncObject  # added
class Client(AsyncObject):  # added
    async def asyncmethod(self):  # added
        return "pong"  # added
    async def bench(self):  # added
        b = self.timeit('asyncmethod', 100)
        return await b  # added
"""

# Each example and the seed file it comes from.
EXAMPLES = {
    "KAA_CALLBACKS": (KAA_CALLBACKS, KAA),
    "KAA_COROUTINE": (KAA_COROUTINE, KAA),
    "ASYNCHRON_TRITE": (ASYNCHRON_TRITE, ASYNCHRON),
    "ASYNCHRON_REPORT": (ASYNCHRON_REPORT, ASYNCHRON),
    "PULSAR_TIMEIT": (PULSAR_TIMEIT, PULSAR),
}

# -- checking the copies against the seeds --------------------------------------------------


def _py3(line: str) -> str:
    """The seed's Python 2 line in Python 3: print statement, ``except E, e``."""
    match = re.fullmatch(r"print (.+)", line)
    if match:
        return f"print({match.group(1)})"
    return re.sub(r"^except (\w+), (\w+):$", r"except \1 as \2:", line)


def _seed_lines(name: str) -> list[str]:
    return [_py3(line.strip()) for line in (SEEDS / name).read_text().splitlines() if line.strip()]


def _copied_lines(code: str) -> list[str]:
    """The example's lines as the seed has them: stripped, substitutes swapped back."""
    lines = []
    for raw in code.splitlines():
        line = raw.strip()
        if "# seed: " in line:
            lines.append(line.split("# seed: ", 1)[1])
        elif line and not line.endswith("# added"):
            lines.append(line)
    return lines


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_examples_are_verbatim(name: str) -> None:
    code, seed_file = EXAMPLES[name]
    copied = _copied_lines(code)
    seed = _seed_lines(seed_file)
    blocks = [seed[i : i + len(copied)] for i, line in enumerate(seed) if line == copied[0]]
    assert copied in blocks, f"{name} is not a copy of {seed_file}"


def test_every_example_of_the_seeds_is_copied() -> None:
    # The kaa seed introduces its two examples with "::"; both are copied.
    kaa_text = (SEEDS / KAA).read_text()
    assert kaa_text.count("::\nimport kaa") == 2
    # The asynchron seed's two examples: the trite one and report().
    asynchron = (SEEDS / ASYNCHRON).read_text()
    assert "Trite example:" in asynchron and "for A in report(As):" in asynchron
    # pulsar's one usage example.
    assert (SEEDS / PULSAR).read_text().count("The usage is simple:") == 1
    # Pyro4 and quickrpc: no code, only signatures (checked below).
    for name in (PYRO4, QUICKRPC):
        text = (SEEDS / name).read_text()
        assert "::" not in text and ">>>" not in text and "import " not in text


# -- running them ------------------------------------------------------------------------------


@pytest.fixture
def listening() -> Iterator[str]:
    """A loopback server standing in for www.freevo.org:80 (the backlog accepts)."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield f"'127.0.0.1:{server.getsockname()[1]}'"


@pytest.fixture
def refusing() -> str:
    """A loopback port nobody listens on."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
    return f"'127.0.0.1:{port}'"


def _run(code: str, **names: Any) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "seed_example", **names}
    exec(compile(code, "<seed example>", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("example", ["KAA_CALLBACKS", "KAA_CALLBACKS_BOTH", "KAA_COROUTINE"])
def test_kaa_examples_connect(
    example: str, listening: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _kaa_variant(example).replace(FREEVO, listening)
    _run(code)
    assert capsys.readouterr().out == "Connected to remote site successfully\n"


@pytest.mark.parametrize("example", ["KAA_CALLBACKS", "KAA_CALLBACKS_BOTH", "KAA_COROUTINE"])
def test_kaa_examples_report_a_failed_connect(
    example: str, refusing: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _kaa_variant(example).replace(FREEVO, refusing)
    _run(code)
    assert capsys.readouterr().out.startswith("Connect failed: [Errno 111]")


def _kaa_variant(example: str) -> str:
    if example != "KAA_CALLBACKS_BOTH":
        return EXAMPLES[example][0]
    # The seed's commented alternative: connect_both replaces "the above 2 lines".
    return KAA_CALLBACKS.replace(
        "inprogress.connect(handle_connect)\ninprogress.exception.connect(handle_exception)\n",
        "",
    ).replace("# inprogress.connect_both(", "inprogress.connect_both(")


def test_asynchron_trite_example(capsys: pytest.CaptureFixture[str]) -> None:
    names = _run(ASYNCHRON_TRITE)
    first = threading.Thread(target=names["thread_1"])
    first.start()
    first.join(0.05)
    assert first.is_alive()  # "blocks..."
    assert capsys.readouterr().out == ""
    names["thread_2"]()
    first.join(5)
    assert not first.is_alive()
    names["thread_3"]()  # "returns immediately with 3"
    assert capsys.readouterr().out == "3\n3\n"


def test_asynchron_report_example(capsys: pytest.CaptureFixture[str]) -> None:
    from shortly.compat.asynchron import Asynchron

    slow, fast, failing = Asynchron(), Asynchron(), Asynchron()
    fast.result = "fast"
    timer = threading.Timer(0.01, setattr, (slow, "result", "slow"))
    timer.start()
    _run(ASYNCHRON_REPORT, ASYNCHRONS=[slow, fast])
    timer.join(5)
    assert capsys.readouterr().out == "fast\nslow\n"
    failing.result = "also any notify-able type"
    _run(ASYNCHRON_REPORT, ASYNCHRONS=[failing])
    assert capsys.readouterr().out == "also any notify-able type\n"


def test_pulsar_timeit_example() -> None:
    import asyncio

    names = _run(PULSAR_TIMEIT)
    bench = asyncio.run(names["Client"]().bench())
    assert bench.taken is not None and bench.taken >= 0
    assert bench.result == ("pong",) * 100


# -- the signatures the seeds document -------------------------------------------------------

SIGNATURES: list[tuple[str, str, Callable[[], Any]]] = [
    (PYRO4, "Future(somecallable)", lambda: _pyro4().Future),
    (PYRO4, "delay(seconds)", lambda: _pyro4().Future.delay),
    (PYRO4, "iferror(exceptionhandler)", lambda: _pyro4().Future.iferror),
    (PYRO4, "then(call, *args, **kwargs)", lambda: _pyro4().Future.then),
    (PYRO4, "wait(timeout=None)", lambda: _pyro4().FutureResult.wait),
    (QUICKRPC, "Promise(setter_thread=None)", lambda: _quickrpc().Promise),
    (QUICKRPC, "result(timeout=1.0)", lambda: _quickrpc().Promise.result),
    (QUICKRPC, "set_exception(exception)", lambda: _quickrpc().Promise.set_exception),
    (QUICKRPC, "set_result(val)", lambda: _quickrpc().Promise.set_result),
    (QUICKRPC, "then(callback, errback=None)", lambda: _quickrpc().Promise.then),
    (QUICKRPC, "put(action)", lambda: _quickrpc().ActionQueue.put),
    (PULSAR, "timeit(method, times, *args, **kwargs)", lambda: _pulsar().AsyncObject.timeit),
    (PULSAR, "Bench(times, loop=None)", lambda: _pulsar().Bench),
    (PULSAR, "task(function)", lambda: _pulsar().task),
    (PULSAR, "maybe_async(value, loop=None)", lambda: _pulsar().maybe_async),
    (
        PULSAR,
        "chain_future(future, callback=None, errback=None, next=None)",
        lambda: _pulsar().chain_future,
    ),
    (
        PULSAR,
        "multi_async(data=None, loop=None, type=None, raise_on_error=True)",
        lambda: _pulsar().multi_async,
    ),
    (PULSAR, "async_while(timeout, while_clause, *args)", lambda: _pulsar().async_while),
    (PULSAR, "run_in_loop(loop, callable, *args, **kwargs)", lambda: _pulsar().run_in_loop),
    (
        PULSAR,
        "LockBase(name, *, loop=None, timeout=None, blocking=True)",
        lambda: _pulsar().LockBase,
    ),
    (PULSAR, "Lock(name, *, loop=None, timeout=None, blocking=True)", lambda: _pulsar().Lock),
]


def _pyro4() -> Any:
    from shortly.compat import pyro4

    return pyro4


def _quickrpc() -> Any:
    from shortly.compat import quickrpc

    return quickrpc


def _pulsar() -> Any:
    from shortly.compat import pulsar

    return pulsar


def _documented(seed_file: str, signature: str) -> bool:
    """Whether ``signature`` appears in the seed (whose lines may break inside it)."""
    text = re.sub(r"\s+", " ", (SEEDS / seed_file).read_text())
    return signature in re.sub(r"(\w) \(", r"\1(", text)


@pytest.mark.parametrize(("seed_file", "signature", "target"), SIGNATURES)
def test_documented_signatures_are_the_compat_signatures(
    seed_file: str, signature: str, target: Callable[[], Any]
) -> None:
    assert _documented(seed_file, signature), f"{signature} not found in {seed_file}"
    obj = target()
    actual = inspect.signature(obj)
    params = [p for p in actual.parameters.values() if p.name != "self"]
    shown = textwrap.shorten(str(actual), 200)
    name, _, rest = signature.partition("(")
    expected = [part.strip() for part in rest.rstrip(")").split(",") if part.strip()]
    got = []
    for param in params:
        if param.kind is param.VAR_POSITIONAL:
            got.append(f"*{param.name}")
        elif param.kind is param.VAR_KEYWORD:
            got.append(f"**{param.name}")
        elif param.default is param.empty:
            got.append(param.name)
        else:
            got.append(f"{param.name}={param.default!r}")
        if param.kind is param.KEYWORD_ONLY and "*" not in got[:-1]:
            got.insert(len(got) - 1, "*")
    # The compat module may add optional parameters after the documented ones.
    assert got[: len(expected)] == expected, f"{name}: documented {signature}, compat has {shown}"
    extra = params[len(expected) :]
    assert all(
        p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in extra
    )
