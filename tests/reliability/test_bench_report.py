"""The benchmark summary table (bench/report.py): rows, verdicts, skips, alignment, run.py."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def report():
    module = _load("report")
    module.reset()
    return module


def test_verdicts_follow_the_target(report):
    met = report.record("forms", "page vs plain", 11.0, 10.0, 1.1, "≤ 1.2×", report.at_most(1.1, 1.2), unit=" ms")
    missed = report.record("forms", "submission vs INSERT", 8.0, 0.5, 16.0, "≤ 1.6×", report.at_most(16.0, 1.6))
    floor = report.record("load", "throughput vs trivial", 50.0, 100.0, 0.5, "≥ 70%", report.at_least(0.5, 0.7))
    info = report.record("scope", "subtree vs pk", 1.0, 1.0, 1.0, "(information)")
    assert (met.result, missed.result, floor.result, info.result) == ("MET", "MISSED", "MISSED", "-")
    assert report.at_most(1.2, 1.2) and report.at_least(0.7, 0.7)  # the target itself counts as met
    assert not report.at_most(1.2001, 1.2) and not report.at_least(0.6999, 0.7)
    assert (met.value, met.baseline, met.ratio) == ("11.00 ms", "10.00 ms", "1.10×")


def test_table_lists_every_row_with_a_tally(report):
    report.record("forms", "API submission", 5.0, 0.5, 10.0, "≤ 1.6×", False, unit=" ms")
    report.record("plugins", "GET /queues all vs none", 10.7, 10.0, 1.07, "≤ 1.1×", True, unit=" ms")
    report.skipped("load", "no PostgreSQL on 127.0.0.1:5432")
    report.record("load", "errors (all phases)", 0, target="0", met=True)
    lines = report.table().splitlines()
    assert lines[0].split() == ["benchmark", "measurement", "figure", "baseline", "ratio", "target", "result"]
    assert set(lines[1]) <= {"-", " "}
    body = lines[2:-1]
    assert [line.split()[0] for line in body] == ["forms", "plugins", "load", "load"]
    assert body[0].endswith("MISSED") and body[1].endswith("MET") and body[3].endswith("MET")
    assert "SKIPPED: no PostgreSQL on 127.0.0.1:5432" in body[2]
    assert lines[-1] == "2 met, 1 missed, 1 skipped"
    # columns line up: every "target" cell starts at the same offset as its header
    column = lines[0].index("target")
    assert body[0][column:].startswith("≤ 1.6×") and body[1][column:].startswith("≤ 1.1×")


def test_wide_characters_keep_columns_aligned(report):
    report.record("forms", "四十项表单页面", 1.0, 1.0, 1.0, "≤ 1.2×", True)
    report.record("forms", "ascii measurement", 1.0, 1.0, 1.0, "≤ 1.2×", True)
    header, _rule, wide, narrow, _tally = report.table().splitlines()
    assert report._width(wide[: wide.index("1.00")]) == report._width(narrow[: narrow.index("1.00")])


def test_run_prints_one_summary_and_marks_a_crashed_bench_skipped(tmp_path, monkeypatch, capsys):
    bench_dir = tmp_path / "bench"
    bench_dir.mkdir()
    for name in ("report", "run"):
        (bench_dir / f"{name}.py").write_text((BENCH / f"{name}.py").read_text(encoding="utf-8"), encoding="utf-8")
    (bench_dir / "bench_good.py").write_text(
        "import report\n\ndef main():\n    print('own output')\n"
        "    report.record('good', 'x vs y', 2.0, 1.0, 2.0, '≤ 1.5×', report.at_most(2.0, 1.5))\n")
    (bench_dir / "bench_broken.py").write_text("def main():\n    raise RuntimeError('no PostgreSQL here')\n")
    monkeypatch.setattr(sys, "path", [str(bench_dir), *sys.path])
    monkeypatch.delitem(sys.modules, "report", raising=False)
    spec = importlib.util.spec_from_file_location("_bench_run_copy", bench_dir / "run.py")
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    assert run.main([]) == 1  # one bench crashed: a non-zero exit, but the table still prints
    out = capsys.readouterr().out
    assert "own output" in out
    summary = out[out.index("== summary"):]
    assert "SKIPPED: failed: RuntimeError: no PostgreSQL here" in summary
    assert "MISSED" in summary and summary.rstrip().endswith("0 met, 1 missed, 1 skipped")
    assert run.main(["nonexistent"]) == 2
    monkeypatch.delitem(sys.modules, "report", raising=False)


WRK_OUTPUT = """Running 15s test @ http://127.0.0.1:8001/floor
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     6.52ms    2.10ms  40.11ms   81.20%
    Req/Sec   615.33     60.12   750.00     70.00%
  18390 requests in 15.01s, 3.10MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 4
Requests/sec:   1225.18
Transfer/sec:    211.71KB
"""


def test_wrk_figures_are_read_from_its_output():
    wrk = _load("wrk")
    run = wrk.parse(WRK_OUTPUT, "http://127.0.0.1:8001/floor", 15)
    assert (run.requests_per_second, run.mean_latency_ms, run.errors) == (1225.18, 6.52, 7)
    assert wrk.parse(WRK_OUTPUT.replace("6.52ms", "812.00us")).mean_latency_ms == pytest.approx(0.812)
    with pytest.raises(RuntimeError):
        wrk.parse("unable to connect to 127.0.0.1:8001 Connection refused")


def test_wrk_lua_strings_hold_any_json_exactly():
    wrk = _load("wrk")
    tricky = '{"summary": "引号\\" ]] 和 ]=] 都在"}'
    quoted = wrk._lua_string(tricky)
    level = quoted.index("[", 1)  # [==[ … ]==]: as many = as needed to never close early
    opening, closing = quoted[: level + 1], quoted[len(quoted) - level - 1:]
    assert quoted == opening + tricky + closing and closing not in tricky
    with pytest.raises(ValueError):
        wrk.post("http://example.com/floor", {})
