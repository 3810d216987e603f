"""A log file written by one serial worker, fed by many threads.

Eight request-handler threads append lines to one file through a
``shortly.SerialExecutor``: the writes never interleave, each thread's lines keep
their order, one bad line is reported and does not stall the queue, and the worker
thread exists only while there is something to write.

Run: ``python examples/serial_writer.py``
"""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

import shortly

HANDLERS = 8
LINES_EACH = 500


def main() -> int:
    reported: list[shortly.Unhandled] = []
    previous = shortly.set_unhandled_handler(reported.append)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "access.log"
        log = path.open("w", encoding="utf-8")
        writer = shortly.SerialExecutor(name="log-writer")

        def write(line: str) -> None:
            if "\n" in line:
                raise ValueError(f"a log line may not contain a newline: {line!r}")
            log.write(line + "\n")

        def handle_requests(handler: int) -> None:
            for n in range(LINES_EACH):
                writer.put(write, f"handler-{handler} request-{n}")  # fire and forget

        threads = [threading.Thread(target=handle_requests, args=(h,)) for h in range(HANDLERS)]
        for t in threads:
            t.start()
        writer.put(write, "a bad\nline")  # reported, and the queue goes on
        for t in threads:
            t.join()
        # submit() gives a future: this one runs after everything queued before it.
        flushed = writer.submit(log.flush)
        flushed.result(timeout=10)
        writer.shutdown()  # waits for the queue to drain; the worker thread is gone
        log.close()

        lines = path.read_text(encoding="utf-8").splitlines()
        in_order = all(
            [int(line.rsplit("-", 1)[1]) for line in lines if line.startswith(f"handler-{h} ")]
            == list(range(LINES_EACH))
            for h in range(HANDLERS)
        )
        stats = writer.statistics()
    shortly.set_unhandled_handler(previous)

    print(f"lines written: {len(lines)} of {HANDLERS * LINES_EACH}")
    print(f"each handler's lines in the order it put them: {in_order}")
    print(f"bad lines reported: {len(reported)} ({type(reported[0].error).__name__})")
    print(f"worker alive after shutdown: {stats.worker_alive}")
    print(f"worker threads started (one per busy period): {stats.threads_started}")
    return 0 if in_order and len(lines) == HANDLERS * LINES_EACH and len(reported) == 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
