"""shortly.bench (timeit, Bench) and the runner in benchmarks/ (figures only, nothing timed)."""

from __future__ import annotations

import doctest
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from benchmarks import _runner

from shortly import bench

ROOT = Path(__file__).resolve().parent.parent


def test_timeit_counts_calls_and_returns_the_last_result() -> None:
    calls: list[int] = []

    def call(x: int) -> int:
        calls.append(x)
        return len(calls)

    b = bench.timeit(call, 3, 7)
    assert b.times == 3 and calls == [7, 7, 7] and b.result == 3
    assert b.taken >= 0 and b.mean == b.taken / 3


@pytest.mark.parametrize(
    ("fn", "times", "error"), [(3, 1, TypeError), (len, "2", TypeError), (len, -1, ValueError)]
)
def test_timeit_rejects_bad_input(fn: object, times: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        bench.timeit(fn, times)  # type: ignore[arg-type]


def test_the_installed_package_keeps_only_timeit_and_bench() -> None:
    assert sorted(bench.__all__) == ["Bench", "timeit"]
    assert not hasattr(bench, "Report") and not hasattr(bench, "main")


def test_the_runners_examples_run() -> None:
    # benchmarks/ is outside the doctest run of src/; its examples are checked here.
    results = doctest.testmod(_runner, optionflags=doctest.ELLIPSIS)
    assert results.attempted >= 4 and results.failed == 0


def test_report_compares_and_writes(tmp_path: Path) -> None:
    bench_file = tmp_path / "bench_demo.py"
    bench_file.write_text(
        "def run(report):\n"
        "    report.compare('demo', {'a': lambda: None, 'b': lambda: sum(range(50))},"
        " per=1, baseline='a', target='b <= 100x a')\n"
        "    report.record('mem', {'a': 10, 'b': 20}, unit='bytes', baseline='a')\n"
    )
    out = tmp_path / "results"
    assert _runner.main([str(bench_file), "--repeat", "1", "--out", str(out)]) == 0
    data = json.loads((out / "latest.json").read_text())
    titles = [s["title"] for s in data["scenarios"]]
    assert titles == ["demo", "mem"]
    assert data["scenarios"][1]["ratios"] == {"a": 1.0, "b": 2.0}
    assert "| demo | a |" in (out / "latest.md").read_text()
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == ["demo.png", "mem.png"]
    assert (out / "demo.png").read_bytes()[:4] == b"\x89PNG"


def test_unknown_baseline_rejected() -> None:
    report = _runner.Report(echo=False)
    with pytest.raises(ValueError, match="baseline"):
        report.compare("x", {"a": lambda: None}, baseline="nope")


def test_a_limit_naming_no_entry_is_rejected_before_anything_runs() -> None:
    ran: list[str] = []
    report = _runner.Report(echo=False)
    with pytest.raises(ValueError, match=r"limits: 'nope'"):
        report.compare("x", {"a": lambda: ran.append("a")}, limits=[("a", "nope", 2.0)])
    with pytest.raises(ValueError, match=r"limits: most must be > 0"):
        report.record("y", {"a": 1.0}, unit="ms", limits=[("a", None, -1.0)])
    assert ran == [] and report.scenarios == []


@pytest.mark.parametrize(
    ("values", "verdict"),
    [({"shortly": 2.0, "floor": 1.0}, "met"), ({"shortly": 3.5, "floor": 1.0}, "missed")],
)
def test_a_ratio_limit_is_met_or_missed(values: dict[str, float], verdict: str) -> None:
    report = _runner.Report(echo=False)
    scenario = report.record(
        "s", values, unit="ns/op", target="shortly <= 3x floor", limits=[("shortly", "floor", 3)]
    )
    assert scenario.verdict() == verdict
    assert scenario.target_text() == f"{verdict}: shortly <= 3x floor"


def test_every_limit_must_hold_and_absolute_ones_are_in_the_unit() -> None:
    values = {"shortly": 4.0, "stdlib": 10.0}
    ratio = _runner.Limit("shortly", "stdlib", 0.5)
    both = [ratio, _runner.Limit("shortly", None, 5.0)]
    assert _runner.Scenario("s", "ms", values, limits=both).verdict() == "met"
    tight = [ratio, _runner.Limit("shortly", None, 3.0)]
    missed = _runner.Scenario("s", "ms", values, limits=tight)
    assert missed.verdict() == "missed"
    # Without target text, the limits are the text.
    assert missed.target_text() == "missed: shortly <= 0.5x stdlib; shortly <= 3 ms"
    assert _runner.Scenario("s", "ms", values, target="fast").target_text() == "fast"


def test_readme_table_is_replaced_between_markers(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- bench:start -->\nold\n<!-- bench:end -->\noutro\n")
    report = _runner.Report(echo=False)
    report.record("mem", {"shortly": 5.0, "stdlib": 20.0}, unit="bytes", baseline="stdlib")
    assert _runner.update_readme(readme, _runner.summary_markdown(report), "when") is True
    text = readme.read_text()
    assert "old" not in text and text.startswith("intro") and text.endswith("outro\n")
    assert "| mem | 5.00 bytes (0.25x stdlib) | stdlib: 20 bytes |" in text
    plain = tmp_path / "plain.md"
    plain.write_text("no markers")
    assert _runner.update_readme(plain, "x", "when") is False


def test_the_tables_say_met_or_missed_beside_the_target() -> None:
    report = _runner.Report(echo=False)
    limit = [("shortly", "floor", 2.0)]
    report.record("fast", {"shortly": 1.0, "floor": 1.0}, unit="ns", target="<= 2x", limits=limit)
    report.record("slow", {"shortly": 9.0, "floor": 1.0}, unit="ns", target="<= 2x", limits=limit)
    report.record("free", {"shortly": 9.0, "floor": 1.0}, unit="ns", target="fast enough")
    summary = _runner.summary_markdown(report).splitlines()
    assert summary[2].startswith("| fast |") and summary[2].endswith("| met: <= 2x |")
    assert summary[3].startswith("| slow |") and summary[3].endswith("| **missed**: <= 2x |")
    assert summary[4].endswith("| fast enough |")
    detail = report.to_markdown()
    assert "| met: <= 2x |" in detail and "| **missed**: <= 2x |" in detail
    assert [s.title for s in report.missed()] == ["slow"]


def test_several_files_run_each_in_its_own_interpreter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("a", "b"):
        (tmp_path / f"bench_{name}.py").write_text(
            "import os\n"
            "def run(report):\n"
            f"    report.record('{name}', {{'pid': os.getpid()}}, unit='pid',"
            " limits=[('pid', None, 1)])\n"
        )
    monkeypatch.chdir(tmp_path)  # the runner finds its package from anywhere
    out = tmp_path / "results"
    assert _runner.main(["bench_a.py", "bench_b.py", "--repeat", "1", "--out", str(out)]) == 0
    scenarios = json.loads((out / "latest.json").read_text())["scenarios"]
    assert [s["title"] for s in scenarios] == ["a", "b"]
    pids = {s["values"]["pid"] for s in scenarios}
    assert len(pids) == 2 and os.getpid() not in pids
    # The limits crossed the process boundary and were checked (a pid is > 1).
    assert [s["verdict"] for s in scenarios] == ["missed", "missed"]
    assert "**missed**: pid <= 1 pid" in (out / "latest.md").read_text()
    printed = capsys.readouterr().out.splitlines()
    assert printed[-2:] == ["target missed: a", "target missed: b"]


def test_python_m_benchmarks_is_the_command_line(tmp_path: Path) -> None:
    bench_file = tmp_path / "bench_one.py"
    bench_file.write_text("def run(report):\n    report.record('one', {'x': 1.0}, unit='ms')\n")
    out = tmp_path / "results"
    command = [sys.executable, "-m", "benchmarks", str(bench_file), "--out", str(out)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "== one" in done.stdout
    assert json.loads((out / "latest.json").read_text())["scenarios"][0]["title"] == "one"


@pytest.mark.parametrize(
    "path", sorted((ROOT / "benchmarks").glob("bench_*.py")), ids=lambda p: p.name
)
def test_every_benchmark_file_loads_and_has_a_run(path: Path) -> None:
    # Loading imports the file (and its runner imports) without timing anything.
    module = _runner._load(path)
    assert callable(module.run)
