"""Timing helpers and the benchmark command line.

Two layers. :func:`timeit` and :class:`Bench` time a callable ``times`` times and say
how long it took, synchronously (:mod:`shortly.compat.pulsar` keeps pulsar's own
future-returning ``timeit`` and ``Bench``).
:class:`Report` runs the comparisons in ``benchmarks/``: every entry of a scenario is
timed in the same process, best of several runs, and reported as nanoseconds per
operation and as a ratio to a baseline, because a ratio measured side by side survives
a slower machine where an absolute figure does not.

Run everything with ``make bench`` (``python -m shortly.bench``), or one file with
``python -m shortly.bench benchmarks/bench_core.py``. Results go to
``benchmarks/results/latest.json`` and ``latest.md``.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "Bench",
    "Report",
    "Scenario",
    "main",
    "plot",
    "summary_markdown",
    "timeit",
    "update_readme",
]


@dataclass
class Bench:
    """The outcome of :func:`timeit`: how many calls and how long they took.

    Attributes:
        times: how many calls were made.
        taken: total seconds for all of them.
        result: what the last call returned.

    >>> from shortly.bench import Bench
    >>> b = Bench(times=4, taken=2.0)
    >>> b.mean
    0.5
    """

    times: int
    taken: float
    result: Any = None

    @property
    def mean(self) -> float:
        """Seconds per call."""
        return self.taken / self.times if self.times else 0.0


def timeit(fn: Callable[..., Any], times: int, *args: Any, **kwargs: Any) -> Bench:
    """Call ``fn(*args, **kwargs)`` ``times`` times and return a :class:`Bench`.

    Raises:
        TypeError: if ``fn`` is not callable or ``times`` is not an int.
        ValueError: if ``times`` is negative.

    >>> from shortly.bench import timeit
    >>> b = timeit(sum, 10, [1, 2, 3])
    >>> b.times, b.result
    (10, 6)
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, not {type(fn).__name__}")
    if isinstance(times, bool) or not isinstance(times, int):
        raise TypeError(f"times must be an int, not {type(times).__name__}")
    if times < 0:
        raise ValueError(f"times must be >= 0, not {times}")
    result = None
    start = time.perf_counter()
    for _ in range(times):
        result = fn(*args, **kwargs)
    return Bench(times, time.perf_counter() - start, result)


@dataclass
class Scenario:
    """One scenario's figures: a value per entry, and ratios to the baseline.

    >>> from shortly.bench import Scenario
    >>> s = Scenario("demo", "ns/op", {"a": 10.0, "b": 20.0}, baseline="a")
    >>> s.ratios()
    {'a': 1.0, 'b': 2.0}
    """

    title: str
    unit: str
    values: dict[str, float]
    baseline: str | None = None
    target: str | None = None
    notes: list[str] = field(default_factory=list)

    def ratios(self) -> dict[str, float]:
        """Each value divided by the baseline's (empty without a baseline)."""
        base = self.values.get(self.baseline) if self.baseline else None
        if not base:
            return {}
        return {name: value / base for name, value in self.values.items()}


class Report:
    """Collects scenarios and prints them as they are measured.

    Args:
        repeat: how many timed runs per entry; the best is kept.
        quick: shrink workloads (benchmark files may read ``report.quick``).

    >>> from shortly.bench import Report
    >>> r = Report(repeat=2, echo=False)
    >>> s = r.compare("sum", {"builtin": lambda: sum(range(100))}, per=100)
    >>> s.values["builtin"] > 0
    True
    """

    def __init__(self, *, repeat: int = 5, quick: bool = False, echo: bool = True) -> None:
        if repeat < 1:
            raise ValueError(f"repeat must be >= 1, not {repeat}")
        self.repeat = repeat
        self.quick = quick
        self.echo = echo
        self.scenarios: list[Scenario] = []

    def _best(self, fn: Callable[[], object]) -> float:
        best = float("inf")
        fn()  # warm up caches, lazy imports and thread starts
        for _ in range(self.repeat):
            gc.collect()
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
        return best

    def compare(
        self,
        title: str,
        entries: dict[str, Callable[[], object]],
        *,
        per: int = 1,
        baseline: str | None = None,
        target: str | None = None,
    ) -> Scenario:
        """Time each entry (one call = ``per`` operations); record ns per operation."""
        if baseline is not None and baseline not in entries:
            raise ValueError(f"baseline {baseline!r} is not one of the entries")
        values = {name: self._best(fn) * 1e9 / per for name, fn in entries.items()}
        return self._add(Scenario(title, "ns/op", values, baseline, target))

    def record(
        self,
        title: str,
        values: dict[str, float],
        *,
        unit: str,
        baseline: str | None = None,
        target: str | None = None,
    ) -> Scenario:
        """Record figures measured by the caller (bytes, milliseconds...)."""
        return self._add(Scenario(title, unit, dict(values), baseline, target))

    def _add(self, scenario: Scenario) -> Scenario:
        self.scenarios.append(scenario)
        if self.echo:
            print(render_text(scenario), flush=True)
        return scenario

    def to_json(self) -> dict[str, Any]:
        """Everything measured, with the machine and date, as JSON-ready data."""
        return {
            "date": time.strftime("%Y-%m-%d %H:%M:%S %z"),
            "machine": machine(),
            "scenarios": [dict(asdict(s), ratios=s.ratios()) for s in self.scenarios],
        }

    def to_markdown(self) -> str:
        """A Markdown table: scenario, entry, value, ratio, target."""
        lines = [
            "| scenario | entry | value | ratio | target |",
            "|---|---|---:|---:|---|",
        ]
        for s in self.scenarios:
            ratios = s.ratios()
            for i, (name, value) in enumerate(s.values.items()):
                ratio = f"{ratios[name]:.2f}x" if name in ratios else ""
                lines.append(
                    f"| {s.title if i == 0 else ''} | {name} | {value:,.0f} {s.unit} | {ratio} "
                    f"| {(s.target or '') if i == 0 else ''} |"
                )
        return "\n".join(lines) + "\n"


def summary_markdown(report: Report) -> str:
    """A short table for the README: shortly's figures and the others', side by side."""

    def fmt(value: float, unit: str) -> str:
        return f"{value:,.0f} {unit}" if value >= 10 else f"{value:,.2f} {unit}"

    lines = ["| scenario | shortly | measured beside it | target |", "|---|---|---|---|"]
    for s in report.scenarios:
        ratios = s.ratios()
        ours = [n for n in s.values if n.startswith("shortly")][:1]
        if not ours:
            continue
        base = f" ({ratios[ours[0]]:.2f}x {s.baseline})" if ours[0] in ratios else ""
        others = "; ".join(
            f"{name}: {fmt(value, s.unit)}" for name, value in s.values.items() if name != ours[0]
        )
        lines.append(
            f"| {s.title} | {fmt(s.values[ours[0]], s.unit)}{base} | {others} | {s.target or ''} |"
        )
    return "\n".join(lines) + "\n"


def update_readme(path: Path, table: str, when: str) -> bool:
    """Replace the README's text between the benchmark markers; False if it has none."""
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    text = path.read_text(encoding="utf-8")
    if start not in text or end not in text:
        return False
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{start}\n{when}\n\n{table}{end}{tail}", encoding="utf-8")
    return True


def machine() -> str:
    """One line naming the machine, interpreter and core count."""
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.python_implementation()} {platform.python_version()}"
    )


def render_text(scenario: Scenario) -> str:
    """A scenario as aligned text lines for the terminal."""
    ratios = scenario.ratios()
    lines = [
        f"\n== {scenario.title}" + (f"   [target: {scenario.target}]" if scenario.target else "")
    ]
    for name, value in scenario.values.items():
        ratio = f"{ratios[name]:7.2f}x" if name in ratios else ""
        lines.append(f"   {name:<34} {value:>14,.1f} {scenario.unit:<6} {ratio}")
    return "\n".join(lines)


def _slug(title: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in title.lower()).strip("-")[:60]


def plot(report: Report, out: Path) -> list[Path]:
    """Draw one PNG bar chart per scenario (needs matplotlib, extra ``[bench]``).

    Bars show the ratio to the scenario's baseline (or raw values without one), so
    every chart reads the same way: shorter is cheaper. Returns the files written, or
    nothing when matplotlib is not installed.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    written = []
    for scenario in report.scenarios:
        ratios = scenario.ratios()
        shown = ratios or scenario.values
        fig, ax = plt.subplots(figsize=(7, 0.5 + 0.45 * len(shown)))
        names = list(shown)
        colors = ["#d9480f" if name.startswith("shortly") else "#868e96" for name in names]
        ax.barh(names, [shown[n] for n in names], color=colors)
        ax.invert_yaxis()
        unit = f"x {scenario.baseline}" if ratios else scenario.unit
        ax.set_xlabel(f"{unit} (lower is better)")
        ax.set_title(scenario.title, fontsize=10)
        fig.tight_layout()
        path = out / f"{_slug(scenario.title)}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


def _load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"benchmarks.{path.stem}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load benchmark file {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run_isolated(path: Path, repeat: int, quick: bool) -> list[Scenario]:
    """Run one benchmark file in a fresh interpreter and return its scenarios.

    What one file leaves behind (imported peers, heap growth, collector generations)
    would otherwise tilt the figures of the files after it.
    """
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-m", "shortly.bench", str(path), "--out", out]
        command += ["--repeat", str(repeat)] + (["--quick"] if quick else [])
        subprocess.run(command, check=True)
        data = json.loads((Path(out) / "latest.json").read_text())
    fields = ("title", "unit", "values", "baseline", "target", "notes")
    return [Scenario(**{k: s[k] for k in fields}) for s in data["scenarios"]]


def main(argv: list[str] | None = None) -> int:
    """The ``make bench`` command line: run benchmark files, write the results."""
    parser = argparse.ArgumentParser(prog="python -m shortly.bench", description=__doc__)
    parser.add_argument("files", nargs="*", type=Path, help="benchmark files (default: all)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per entry")
    parser.add_argument("--quick", action="store_true", help="smaller workloads")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    parser.add_argument("--readme", type=Path, help="refresh this README's benchmark table")
    args = parser.parse_args(argv)
    files = args.files or sorted(Path("benchmarks").glob("bench_*.py"))
    if not files:
        parser.error("no benchmark files found (run from the project root)")
    report = Report(repeat=args.repeat, quick=args.quick)
    print(f"shortly benchmarks on {machine()}")
    for path in files:
        print(f"\n#### {path}", flush=True)
        if len(files) == 1:
            _load(path).run(report)
        else:
            report.scenarios += _run_isolated(path, args.repeat, args.quick)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(report.to_json(), indent=2) + "\n")
    header = f"Measured {time.strftime('%Y-%m-%d')} on {machine()}.\n\n"
    (args.out / "latest.md").write_text(header + report.to_markdown())
    plots = plot(report, args.out)
    if args.readme is not None:
        when = f"Measured {time.strftime('%Y-%m-%d')} on {machine()} (`make bench`)."
        if not update_readme(args.readme, summary_markdown(report), when):
            print(f"{args.readme} has no benchmark markers; left as it was")
    print(f"\nwrote {args.out / 'latest.json'}, {args.out / 'latest.md'} and {len(plots)} plots")
    return 0


if __name__ == "__main__":
    sys.exit(main())
