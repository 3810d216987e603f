"""shortly.bench: timeit, Bench and Report (figures only, nothing timed here)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from shortly import bench


def test_timeit_counts_calls_and_returns_the_last_result() -> None:
    calls: list[int] = []
    b = bench.timeit(lambda x: calls.append(x) or len(calls), 3, 7)
    assert b.times == 3 and calls == [7, 7, 7] and b.result == 3
    assert b.taken >= 0 and b.mean == b.taken / 3


@pytest.mark.parametrize(
    ("fn", "times", "error"), [(3, 1, TypeError), (len, "2", TypeError), (len, -1, ValueError)]
)
def test_timeit_rejects_bad_input(fn: object, times: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        bench.timeit(fn, times)  # type: ignore[arg-type]


def test_report_compares_and_writes(tmp_path: Path) -> None:
    bench_file = tmp_path / "bench_demo.py"
    bench_file.write_text(
        "def run(report):\n"
        "    report.compare('demo', {'a': lambda: None, 'b': lambda: sum(range(50))},"
        " per=1, baseline='a', target='b <= 100x a')\n"
        "    report.record('mem', {'a': 10, 'b': 20}, unit='bytes', baseline='a')\n"
    )
    out = tmp_path / "results"
    assert bench.main([str(bench_file), "--repeat", "1", "--out", str(out)]) == 0
    data = json.loads((out / "latest.json").read_text())
    titles = [s["title"] for s in data["scenarios"]]
    assert titles == ["demo", "mem"]
    assert data["scenarios"][1]["ratios"] == {"a": 1.0, "b": 2.0}
    assert "| demo | a |" in (out / "latest.md").read_text()
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == ["demo.png", "mem.png"]
    assert (out / "demo.png").read_bytes()[:4] == b"\x89PNG"


def test_unknown_baseline_rejected() -> None:
    report = bench.Report(echo=False)
    with pytest.raises(ValueError, match="baseline"):
        report.compare("x", {"a": lambda: None}, baseline="nope")


def test_readme_table_is_replaced_between_markers(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- bench:start -->\nold\n<!-- bench:end -->\noutro\n")
    report = bench.Report(echo=False)
    report.record("mem", {"shortly": 5.0, "stdlib": 20.0}, unit="bytes", baseline="stdlib")
    assert bench.update_readme(readme, bench.summary_markdown(report), "when") is True
    text = readme.read_text()
    assert "old" not in text and text.startswith("intro") and text.endswith("outro\n")
    assert "| mem | 5.00 bytes (0.25x stdlib) | stdlib: 20 bytes |" in text
    plain = tmp_path / "plain.md"
    plain.write_text("no markers")
    assert bench.update_readme(plain, "x", "when") is False


def test_several_files_run_each_in_its_own_interpreter(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"bench_{name}.py").write_text(
            "import os\n"
            "def run(report):\n"
            f"    report.record('{name}', {{'pid': os.getpid()}}, unit='pid')\n"
        )
    out = tmp_path / "results"
    files = [str(tmp_path / "bench_a.py"), str(tmp_path / "bench_b.py")]
    assert bench.main([*files, "--repeat", "1", "--out", str(out)]) == 0
    scenarios = json.loads((out / "latest.json").read_text())["scenarios"]
    assert [s["title"] for s in scenarios] == ["a", "b"]
    pids = {s["values"]["pid"] for s in scenarios}
    assert len(pids) == 2 and os.getpid() not in pids
