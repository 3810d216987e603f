"""One future, every world: a result made in a thread, used five ways at once.

A worker thread computes a value into one ``shortly.Future``. Meanwhile a thread blocks
on it, an asyncio task awaits it on a loop in another thread, a trio task awaits it, a
``then`` chain transforms it, and code driven by ``spawn`` (no event loop at all) awaits
it. Each reports what it got, and from which thread.

Run: ``python examples/every_world.py``
"""

from __future__ import annotations

import asyncio
import threading

import trio

import shortly


def where() -> str:
    return threading.current_thread().name


def main() -> int:
    answer: shortly.Future[int] = shortly.Future()
    results: dict[str, shortly.Future[str]] = {}

    # 1. A thread that blocks.
    blocked: shortly.Future[str] = shortly.Future()

    def blocking_reader() -> None:
        blocked.set_result(f"got {answer.result(timeout=10)} in {where()}")

    threading.Thread(target=blocking_reader, name="blocking-reader").start()
    results["a blocked thread"] = blocked

    # 2. An asyncio task, on a loop running in its own thread.
    loop = asyncio.new_event_loop()
    loop_thread = threading.Thread(target=loop.run_forever, name="asyncio-loop")
    loop_thread.start()

    async def asyncio_reader() -> str:
        return f"got {await answer} in {where()}"

    results["an asyncio task"] = shortly.run_in_loop(loop, asyncio_reader)

    # 3. A trio task, in a trio run of its own.
    trio_done: shortly.Future[str] = shortly.Future()

    async def trio_reader() -> None:
        trio_done.set_result(f"got {await answer} in {where()}")

    threading.Thread(target=trio.run, args=(trio_reader,), name="trio-run").start()
    results["a trio task"] = trio_done

    # 4. A then-chain: runs in whichever thread resolves the answer.
    results["a then-chain"] = answer.then(lambda value: f"got {value} in {where()}")

    # 5. async code without a loop: resumed by the thread that resolves the answer.
    async def spawned_reader() -> str:
        return f"got {await answer} in {where()}"

    results["spawned code"] = shortly.spawn(spawned_reader())

    # Everyone is waiting; now the producer answers.
    producer = threading.Thread(target=lambda: answer.set_result(42), name="producer")
    producer.start()

    for who, said in shortly.gather(results).result(timeout=10).items():
        print(f"{who:>16}: {said}")

    loop.call_soon_threadsafe(loop.stop)
    loop_thread.join()
    loop.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
