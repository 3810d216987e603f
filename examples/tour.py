"""A tour of shortly: a small price tracker, run end to end in a few seconds.

It fetches 40 product pages from simulated shops on an asyncio loop running in its own
thread, parses them on a thread pool, stores the rows through a serial writer under a
named lock, and then looks at the results in the ways shortly offers: chains, awaiting
from asyncio, combinators, timeouts, spawn, fencing tokens, deadlock detection and the
unhandled-failure report. Nothing touches the network; the shops are coroutines.

Run it with ``make demo`` (or ``python examples/tour.py``). The account goes to stdout;
the progress bar (shortly.progress_bar: tqdm when installed, plain text otherwise)
and the log go to stderr.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import shortly

SKUS = [f"sku-{n:02d}" for n in range(40)]
PRICES = {sku: round(2 + (n * 37 % 100) / 10, 2) for n, sku in enumerate(SKUS)}
MALFORMED = {"sku-05", "sku-18", "sku-31"}  # the shop sends "n/a" as the price
SLOW = {"sku-11", "sku-27"}  # the shop never answers in time
FETCH_TIMEOUT = 2.0  # well above the slowest normal page (0.55 s), even on a busy machine


def say(text: str = "") -> None:
    print(text, flush=True)


# -- the simulated world ----------------------------------------------------------------


async def fetch_page(sku: str) -> str:
    """A shop's product page, after a network-like delay (runs on the io loop)."""
    n = int(sku[4:])
    await asyncio.sleep(30 if sku in SLOW else 0.05 + (n * 7 % 11) / 20)
    price = "n/a" if sku in MALFORMED else f"{PRICES[sku]:.2f}"
    return f"<h1>{sku}</h1><p class=price>{price}</p>"


def parse(page: str) -> dict[str, Any]:
    """Runs on the parser pool."""
    sku = page.split("<h1>")[1].split("</h1>")[0]
    price = page.split("<p class=price>")[1].split("</p>")[0]
    return {"sku": sku, "price": float(price)}  # float("n/a") raises ValueError


class Store:
    """A table that refuses writes carrying a fencing token older than one it has seen."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}
        self.newest_token = 0

    def write(self, row: dict[str, Any], token: int) -> None:
        if token < self.newest_token:
            raise PermissionError(f"token {token} is stale (newest {self.newest_token})")
        self.newest_token = token
        self.rows[row["sku"]] = row


# -- the tour ------------------------------------------------------------------------------


class Tour:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.loop_thread = threading.Thread(target=self.loop.run_forever, name="io-loop")
        self.parsers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="parser")
        self.writer = shortly.SerialExecutor(name="store-writer")
        self.store = Store()

    def save(self, row: dict[str, Any]) -> str:
        """Runs on the serial writer: one write at a time, under the catalogue lock."""
        with shortly.Lock("catalogue", lease=5) as lease:
            self.store.write(row, lease.token)
        return str(row["sku"])

    def queue_save(self, row: dict[str, Any]) -> shortly.Future[str]:
        return self.writer.submit(self.save, row)

    def pipeline(self) -> list[shortly.Future[str]]:
        say(f"1. Fetch {len(SKUS)} pages on an asyncio loop, parse on a thread pool,")
        say("   store through a serial writer (a then-chain per page).")
        stored = []
        for sku in SKUS:
            page = shortly.run_in_loop(self.loop, fetch_page, sku)
            stored.append(
                page.with_timeout(FETCH_TIMEOUT, cancel=True)  # cancels the slow fetch
                .then(parse, executor=self.parsers)
                .then(self.queue_save)  # returns the writer's future: adopted
            )
        # A combinator's progress counts its inputs: the bar follows settled() (tqdm
        # when installed, a plain line per quarter otherwise).
        outcomes = shortly.progress_bar(shortly.settled(stored), desc="   fetching", unit="page")
        failures: dict[str, int] = {}
        for outcome in outcomes:
            if isinstance(outcome, shortly.Err):
                name = type(outcome.error).__name__
                failures[name] = failures.get(name, 0) + 1
        ok = len(outcomes) - sum(failures.values())
        detail = ", ".join(f"{n} {name}" for name, n in sorted(failures.items()))
        say(f"   stored {ok} of {len(SKUS)} pages; failed: {detail}")
        say(f"   (ValueError: a malformed price; TimeoutError: no answer within {FETCH_TIMEOUT} s)")
        return [f for f, o in zip(stored, outcomes, strict=True) if isinstance(o, shortly.Ok)]

    def awaiting(self, stored: list[shortly.Future[str]]) -> None:
        say("2. Await from asyncio: a coroutine on the loop awaits the writer's futures.")

        async def summarize() -> tuple[int, float]:
            skus = await shortly.all_of(stored)
            await shortly.sleep(0.01)  # a shortly timer, awaited on the loop
            return len(skus), sum(self.store.rows[s]["price"] for s in skus)

        count, total = shortly.run_in_loop(self.loop, summarize).result(timeout=5)
        say(f"   {count} rows in the store, prices adding up to {total:.2f}")
        try:
            import trio
        except ImportError:
            say("   (trio is not installed: awaiting from trio skipped)")
            return

        async def count_from_trio() -> int:
            return len(await shortly.all_of(stored))

        say(f"   trio awaits the very same futures: {trio.run(count_from_trio)} rows")

    def combinators(self) -> None:
        say("3. Combinators.")

        async def mirror(name: str, delay: float, up: bool) -> str:
            await asyncio.sleep(delay)
            if not up:
                raise ConnectionError(f"{name} is down")
            return name

        mirrors = [
            shortly.run_in_loop(self.loop, mirror, "mirror-a", 0.01, False),
            shortly.run_in_loop(self.loop, mirror, "mirror-b", 0.05, True),
            shortly.run_in_loop(self.loop, mirror, "mirror-c", 5.0, True),
        ]
        fastest = shortly.any_of(mirrors).result(timeout=5)
        say(f"   any_of: {fastest} answered first (mirror-a failed, tolerated;")
        say(f"           the slow mirror-c was cancelled: {mirrors[2].cancelled()})")

        service = shortly.run_in_loop(self.loop, mirror, "live price", 5.0, True)
        deadline = shortly.later(0.1, lambda: "cached price")
        winner = shortly.race([service, deadline]).result(timeout=5)
        say(f"   race against a 0.1 s timer: {winner!r} won")

        report = shortly.gather(
            {
                "cheapest": shortly.submit(min, self.store.rows.values(), key=_price),
                "dearest": shortly.submit(max, self.store.rows.values(), key=_price),
                "rows": len(self.store.rows),
            }
        ).result(timeout=5)
        cheapest, dearest = report["cheapest"], report["dearest"]
        say(
            f"   gather over a dict: cheapest {cheapest['sku']} at {cheapest['price']:.2f}, "
            f"dearest {dearest['sku']} at {dearest['price']:.2f}"
        )

    def spawned_retry(self) -> None:
        say("4. spawn: a retry loop written as async code, driven without an event loop.")
        attempts: list[str] = []

        def flaky_shop() -> float:
            attempts.append(threading.current_thread().name)
            if len(attempts) < 3:
                raise ConnectionResetError("connection reset")
            return 9.99

        async def with_retry() -> float:
            for attempt in range(1, 6):
                try:
                    return await shortly.submit(flaky_shop, executor=self.parsers)
                except ConnectionResetError:
                    await shortly.sleep(0.02 * attempt)  # back off on the timer thread
            raise RuntimeError("gave up")

        price = shortly.spawn(with_retry()).result(timeout=5)
        say(f"   the flaky shop answered {price} on attempt {len(attempts)}")

    def fencing(self) -> None:
        say("5. A lock with a lease and fencing tokens.")
        lock = shortly.Lock("catalogue", lease=0.1)
        stalled = lock.acquire()
        assert stalled is not None
        shortly.wait_until(lambda: not lock.locked(), timeout=5, interval=0.01).result()
        say(f"   a holder (token {stalled.token}) stalled past its 0.1 s lease")
        row = {"sku": "sku-00", "price": 1.0}
        fresh = self.writer.submit(self.save, row).result(timeout=5)
        say(f"   the writer took the lock over and wrote {fresh}")
        try:
            self.store.write({"sku": "sku-00", "price": 99.0}, stalled.token)
        except PermissionError as e:
            say(f"   the stalled holder's late write was refused: {e}")
        try:
            stalled.release()
        except shortly.LockError:
            say("   and its late release raised LockError instead of freeing the lock")

    def deadlocks(self) -> None:
        say("6. Deadlock detection: waits that could never finish are refused.")

        def save_then_confirm() -> str:
            confirmation = self.writer.submit(lambda: "confirmed")  # queued behind us
            return confirmation.result()

        error = self.writer.submit(save_then_confirm).exception(timeout=5)
        say(f"   a writer action waiting on work queued behind it: {type(error).__name__}")

        async def blocks_its_own_loop() -> str:
            page = shortly.run_in_loop(self.loop, fetch_page, "sku-01")
            try:
                return page.result()  # the loop would wait for itself
            finally:
                page.cancel()

        error = shortly.run_in_loop(self.loop, blocks_its_own_loop).exception(timeout=5)
        say(f"   result() on the loop's own thread:             {type(error).__name__}")

    def unhandled(self) -> None:
        say("7. Failures nobody handles are reported, never lost.")
        reported = threading.Event()

        def report(u: shortly.Unhandled) -> None:
            say(f"   reported: {u.context}: {type(u.error).__name__}: {u.error}")
            reported.set()

        previous = shortly.set_unhandled_handler(report)
        try:
            self.writer.put(self.store.write, {"price": 1.0}, 10**9)  # no "sku": KeyError
            self.writer.submit(str).result(timeout=5)  # the queue went on regardless
            reported.wait(timeout=5)
        finally:
            shortly.set_unhandled_handler(previous)

    def run(self) -> None:
        self.loop_thread.start()
        try:
            stored = self.pipeline()
            self.awaiting(stored)
            self.combinators()
            self.spawned_retry()
            self.fencing()
            self.deadlocks()
            self.unhandled()
        finally:
            self.writer.shutdown()
            self.parsers.shutdown()
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.loop_thread.join()
            self.loop.close()


def _price(row: dict[str, Any]) -> float:
    return float(row["price"])


class _OneLineErrors(logging.Formatter):
    """Log records with the exception's last line instead of the whole traceback."""

    def formatException(self, ei: Any) -> str:
        return f"  {ei[0].__name__}: {ei[1]}"


def main() -> int:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLineErrors("[log] %(message)s"))
    logging.basicConfig(handlers=[handler])
    started = time.monotonic()
    say("shortly tour: a price tracker over simulated shops")
    say()
    Tour().run()
    say()
    say(f"done in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
