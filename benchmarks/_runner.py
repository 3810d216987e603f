"""The benchmark runner: time the comparisons in ``benchmarks/`` and write the results.

Every entry of a scenario is timed in the same process, best of several runs, and
reported as nanoseconds per operation and as a ratio to a baseline, because a ratio
measured side by side survives a slower machine where an absolute figure does not.

A scenario may carry :class:`Limit` s, its target in a form a machine can check; the
tables then say beside the target text whether it was ``met`` or ``missed``.

Run everything with ``make bench`` (``python -m benchmarks``), or one file with
``python -m benchmarks benchmarks/bench_core.py``, from the project root. Results go
to ``benchmarks/results/latest.json`` and ``latest.md``, with one plot per scenario.
This is repository tooling, not part of the installed package (which keeps only
``shortly.bench.timeit`` and ``Bench``).
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
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent

__all__ = [
    "Limit",
    "Report",
    "Scenario",
    "main",
    "plot",
    "summary_markdown",
    "update_readme",
]


class Limit(NamedTuple):
    """A checkable target: ``entry``'s value is at most ``most`` times ``of``'s value.

    With ``of=None`` the bound is absolute, in the scenario's unit. A plain tuple
    ``(entry, of, most)`` is accepted wherever a Limit is.

    >>> Limit("shortly", "stdlib", 0.5).holds({"shortly": 4.0, "stdlib": 10.0})
    True
    >>> Limit("shortly", None, 3.0).holds({"shortly": 4.0})
    False
    """

    entry: str
    of: str | None
    most: float

    def holds(self, values: dict[str, float]) -> bool:
        """Whether ``values`` meet this limit."""
        bound = self.most * values[self.of] if self.of is not None else self.most
        return values[self.entry] <= bound

    def describe(self, unit: str) -> str:
        """The limit as target text, e.g. ``shortly <= 0.5x stdlib``."""
        if self.of is None:
            return f"{self.entry} <= {self.most:g} {unit}"
        return f"{self.entry} <= {self.most:g}x {self.of}"


@dataclass
class Scenario:
    """One scenario's figures: a value per entry, and ratios to the baseline.

    ``target`` is the target as text for a reader; ``limits`` the same target for the
    machine, which :meth:`verdict` checks.

    >>> s = Scenario("demo", "ns/op", {"a": 10.0, "b": 20.0}, baseline="a",
    ...              target="b <= 1.5x a", limits=[("b", "a", 1.5)])
    >>> s.ratios()
    {'a': 1.0, 'b': 2.0}
    >>> s.verdict()
    'missed'
    """

    title: str
    unit: str
    values: dict[str, float]
    baseline: str | None = None
    target: str | None = None
    notes: list[str] = field(default_factory=list)
    limits: list[Limit] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.limits = [_limit(self.values, limit) for limit in self.limits]

    def ratios(self) -> dict[str, float]:
        """Each value divided by the baseline's (empty without a baseline)."""
        base = self.values.get(self.baseline) if self.baseline else None
        if not base:
            return {}
        return {name: value / base for name, value in self.values.items()}

    def verdict(self) -> str | None:
        """``"met"`` if every limit holds, ``"missed"`` if one does not, None without limits."""
        if not self.limits:
            return None
        return "met" if all(limit.holds(self.values) for limit in self.limits) else "missed"

    def target_text(self, *, emphasis: bool = False) -> str:
        """The target with its verdict beside it: ``met: shortly <= 2x floor``.

        Without target text the limits are described; ``emphasis`` puts a missed
        verdict in Markdown bold.
        """
        text = self.target or "; ".join(limit.describe(self.unit) for limit in self.limits)
        verdict = self.verdict()
        if verdict is None:
            return text
        if emphasis and verdict == "missed":
            verdict = f"**{verdict}**"
        return f"{verdict}: {text}"


def _limit(values: dict[str, float], limit: Iterable[Any]) -> Limit:
    """Check one limit against the scenario's entries and make it a :class:`Limit`."""
    checked = Limit(*limit)
    for name in (checked.entry, checked.of):
        if name is not None and name not in values:
            raise ValueError(f"limits: {name!r} is not one of the entries {sorted(values)}")
    if isinstance(checked.most, bool) or not isinstance(checked.most, (int, float)):
        raise TypeError(f"limits: most must be a number, not {type(checked.most).__name__}")
    if not checked.most > 0:
        raise ValueError(f"limits: most must be > 0, not {checked.most}")
    return checked


class Report:
    """Collects scenarios and prints them as they are measured.

    Args:
        repeat: how many timed runs per entry; the best is kept.
        quick: shrink workloads (benchmark files may read ``report.quick``).

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
        limits: Iterable[tuple[str, str | None, float]] = (),
    ) -> Scenario:
        """Time each entry (one call = ``per`` operations); record ns per operation."""
        if baseline is not None and baseline not in entries:
            raise ValueError(f"baseline {baseline!r} is not one of the entries")
        # Checked before anything is timed: a misspelt entry should not cost a run.
        checked = [_limit(dict.fromkeys(entries, 1.0), limit) for limit in limits]
        values = {name: self._best(fn) * 1e9 / per for name, fn in entries.items()}
        return self._add(Scenario(title, "ns/op", values, baseline, target, [], checked))

    def record(
        self,
        title: str,
        values: dict[str, float],
        *,
        unit: str,
        baseline: str | None = None,
        target: str | None = None,
        limits: Iterable[tuple[str, str | None, float]] = (),
    ) -> Scenario:
        """Record figures measured by the caller (bytes, milliseconds...)."""
        checked = [Limit(*limit) for limit in limits]
        return self._add(Scenario(title, unit, dict(values), baseline, target, [], checked))

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
            "scenarios": [
                dict(asdict(s), ratios=s.ratios(), verdict=s.verdict()) for s in self.scenarios
            ],
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
                    f"| {s.target_text(emphasis=True) if i == 0 else ''} |"
                )
        return "\n".join(lines) + "\n"

    def missed(self) -> list[Scenario]:
        """The scenarios whose limits were not all met."""
        return [s for s in self.scenarios if s.verdict() == "missed"]


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
            f"| {s.title} | {fmt(s.values[ours[0]], s.unit)}{base} | {others} "
            f"| {s.target_text(emphasis=True)} |"
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
    target = scenario.target_text()
    lines = [f"\n== {scenario.title}" + (f"   [target {target}]" if target else "")]
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
        command = [sys.executable, "-m", "benchmarks", str(path.resolve()), "--out", out]
        command += ["--repeat", str(repeat)] + (["--quick"] if quick else [])
        # From the project root, where ``benchmarks`` is importable, whatever our cwd.
        subprocess.run(command, check=True, cwd=ROOT)
        data = json.loads((Path(out) / "latest.json").read_text())
    fields = ("title", "unit", "values", "baseline", "target", "notes", "limits")
    return [Scenario(**{k: s[k] for k in fields}) for s in data["scenarios"]]


def main(argv: list[str] | None = None) -> int:
    """The ``make bench`` command line: run benchmark files, write the results."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("files", nargs="*", type=Path, help="benchmark files (default: all)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per entry")
    parser.add_argument("--quick", action="store_true", help="smaller workloads")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--readme", type=Path, help="refresh this README's benchmark table")
    args = parser.parse_args(argv)
    files = args.files or sorted((ROOT / "benchmarks").glob("bench_*.py"))
    if not files:
        parser.error("no benchmark files found")
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
    for scenario in report.missed():
        print(f"target missed: {scenario.title}")
    return 0
