"""Five waits that would hang for ever, each refused at once with DeadlockError.

Each scenario is a mistake seen in real programs. With plain ``concurrent.futures`` or
asyncio each one freezes the program without a word; shortly knows who is to resolve
each future (its *owner*) and which thread waits on which, and raises instead. The
program prints the error message of each and finishes in well under a second.

Run: ``python examples/deadlocks.py``
"""

from __future__ import annotations

import asyncio
import textwrap
import threading
from collections.abc import Callable

import shortly


def refused(title: str, attempt: Callable[[], object]) -> None:
    try:
        attempt()
    except shortly.DeadlockError as e:
        print(f"refused: {title}")
        print(textwrap.indent(textwrap.fill(str(e), 88), "    "))
    else:
        raise AssertionError(f"{title}: the wait was not refused")


def waits_on_its_own_future() -> None:
    reply: shortly.Future[str] = shortly.Future(
        owner=threading.current_thread()
    )  # we are to resolve it...
    reply.result()  # ...and we wait for it


def serial_action_waits_on_a_later_one() -> None:
    with shortly.SerialExecutor(name="db-writer") as writer:

        def save_then_confirm() -> str:
            confirmation = writer.submit(lambda: "confirmed")  # runs after this one
            return confirmation.result()

        writer.submit(save_then_confirm).result(timeout=5)


def loop_blocks_on_itself() -> None:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="io-loop")
    thread.start()

    async def ping() -> str:
        return "pong"

    async def handler() -> str:
        # The classic asyncio.run_coroutine_threadsafe(...).result() freeze.
        return shortly.run_in_loop(loop, ping).result()

    try:
        shortly.run_in_loop(loop, handler).result(timeout=5)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


def two_threads_wait_on_each_other() -> None:
    errors: list[shortly.DeadlockError] = []

    def work(mine: shortly.Future[str], theirs: shortly.Future[str]) -> None:
        try:
            theirs.result(timeout=5)
        except shortly.DeadlockError as e:
            errors.append(e)
        mine.set_result("done")  # lets the other thread finish

    a = threading.Thread(target=lambda: work(from_a, from_b), name="thread-a")
    b = threading.Thread(target=lambda: work(from_b, from_a), name="thread-b")
    from_a: shortly.Future[str] = shortly.Future(owner=a)
    from_b: shortly.Future[str] = shortly.Future(owner=b)
    a.start()
    b.start()
    a.join()
    b.join()
    assert len(errors) == 1, errors  # exactly the thread that closed the cycle
    raise errors[0]


def lock_taken_twice() -> None:
    lock = shortly.Lock("inventory")
    with lock:
        lock.acquire()  # not re-entrant: would wait for ourselves


def main() -> int:
    refused("a thread waits on a future it must resolve itself", waits_on_its_own_future)
    refused("a serial action waits on one queued behind it", serial_action_waits_on_a_later_one)
    refused("result() on the event loop's own thread", loop_blocks_on_itself)
    refused("two threads wait on each other", two_threads_wait_on_each_other)
    refused("a thread takes a lock it holds", lock_taken_twice)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
