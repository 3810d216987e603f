"""16 threads racing resolution, cancellation, callbacks and waits over 10,000 futures."""

from __future__ import annotations

import random
import threading
from collections import Counter

import pytest

import shortly

N_FUTURES = 10_000
N_THREADS = 16


@pytest.mark.timeout(120)
def test_racing_resolvers_callbacks_and_waiters() -> None:
    futures: list[shortly.Future[int]] = [shortly.Future() for _ in range(N_FUTURES)]
    callback_runs = [0] * N_FUTURES  # guarded by counts_lock
    counts_lock = threading.Lock()
    registered = Counter[int]()
    woken = Counter[int]()
    barrier = threading.Barrier(N_THREADS)
    errors: list[BaseException] = []

    def on_done(i: int) -> object:
        def cb(f: shortly.Future[int]) -> None:
            assert f.done()
            with counts_lock:
                callback_runs[i] += 1

        return cb

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        local_registered = Counter[int]()
        local_woken = Counter[int]()
        try:
            barrier.wait(10)
            for i in rng.sample(range(N_FUTURES), N_FUTURES // 2):
                f = futures[i]
                action = rng.randrange(5)
                if action == 0:
                    f.try_set_result(seed)
                elif action == 1:
                    f.try_set_exception(ValueError(seed))
                elif action == 2:
                    f.cancel()
                elif action == 3:
                    f.add_done_callback(on_done(i))  # type: ignore[arg-type]
                    local_registered[i] += 1
                else:
                    try:
                        f.result(timeout=0.001)
                    except (ValueError, shortly.CancelledError):
                        pass
                    except shortly.TimeoutError:
                        continue
                    local_woken[i] += 1
        except BaseException as e:
            errors.append(e)
        with counts_lock:
            registered.update(local_registered)
            woken.update(local_woken)

    threads = [threading.Thread(target=worker, args=(s,)) for s in range(N_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(100)
    assert not errors, errors[:3]

    # Settle whatever nobody settled: every callback must then have run exactly once,
    # and every wait that returned without timing out saw a settled future.
    for f in futures:
        f.try_set_result(-1)
        if not f.cancelled():
            f.exception()
    for i in range(N_FUTURES):
        assert callback_runs[i] == registered[i], f"future {i}: callbacks ran {callback_runs[i]}"
    assert sum(registered.values()) > N_FUTURES // 4, "the race exercised callbacks"
    assert sum(woken.values()) > 0, "some waits returned a settled future"


def _one_round(n: int) -> tuple[shortly.Future[int], list[int], int]:
    """n resolvers (a third of them cancel) and n waiters start at one barrier."""
    f: shortly.Future[int] = shortly.Future()
    barrier = threading.Barrier(n * 2)
    winners: list[int] = []
    woke: list[int] = []
    lock = threading.Lock()

    def resolver(k: int) -> None:
        barrier.wait(10)
        if k % 3 == 2:
            f.cancel()
            return
        won = f.try_set_exception(KeyError(k)) if k % 3 == 1 else f.try_set_result(k)
        if won:
            with lock:
                winners.append(k)

    def waiter() -> None:
        barrier.wait(10)
        f.wait(timeout=20)
        with lock:
            woke.append(1)

    threads = [threading.Thread(target=resolver, args=(k,)) for k in range(n)]
    threads += [threading.Thread(target=waiter) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return f, winners, len(woke)


@pytest.mark.timeout(120)
def test_exactly_one_resolution_wins_and_every_waiter_wakes() -> None:
    n = 8
    for r in range(300):
        f, winners, woke = _one_round(n)
        assert woke == n, f"round {r}: only {woke} of {n} waiters woke"
        if f.cancelled():
            assert winners == [], f"round {r}: a set_* won after cancel"
            continue
        assert len(winners) == 1, f"round {r}: winners {winners}"
        error = f.exception()
        if error is None:
            assert f.result() == winners[0]
        else:
            assert error.args == (winners[0],)


@pytest.mark.timeout(120)
def test_a_failure_read_as_it_lands_is_never_reported() -> None:
    # A reader that sees the future done (without the lock) must find the guard to
    # disarm: the failure it read is handled, nothing may be reported when dropped.
    seen: list[shortly.Unhandled] = []
    previous = shortly.set_unhandled_handler(seen.append)
    try:
        for i in range(3000):
            f: shortly.Future[int] = shortly.Future()
            thread = threading.Thread(target=f.set_exception, args=(ValueError(i),))
            thread.start()
            while not f.done():
                pass  # spin: the read must land as close to the settle as possible
            assert isinstance(f.exception(), ValueError)
            thread.join(timeout=10)
            del f
        assert shortly.flush_reports(timeout=10)
    finally:
        shortly.set_unhandled_handler(previous)
    assert seen == []
