"""Run every benchmark in bench/ and end with ONE table of figures, baselines, ratios, targets.

``python bench/run.py`` runs all ``bench_*.py`` in turn (each prints its own detail and
records its headline rows through ``report``); ``python bench/run.py load queues`` runs only
the named ones. A bench that crashes is listed as SKIPPED with its error, and the others
still run, so one broken prerequisite never hides the rest of the table.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).parent
if str(HERE) not in sys.path:  # the benches import the shared ``report`` helper
    sys.path.insert(0, str(HERE))

import report  # noqa: E402


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs, {model}; Python {sys.version.split()[0]}"


def benches(names: list[str]) -> list[Path]:
    found = sorted(HERE.glob("bench_*.py"))
    if not names:
        return found
    return [p for p in found if p.stem.removeprefix("bench_") in names or p.stem in names]


def main(argv: list[str] | None = None) -> int:
    chosen = benches(sys.argv[1:] if argv is None else argv)
    if not chosen:
        print("no such benchmark; available: "
              + ", ".join(p.stem.removeprefix("bench_") for p in sorted(HERE.glob("bench_*.py"))))
        return 2
    crashed = 0
    for path in chosen:
        name = path.stem.removeprefix("bench_")
        print(f"== {path.stem} ==", flush=True)
        began = time.perf_counter()
        try:
            spec = importlib.util.spec_from_file_location(path.stem, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module  # dataclasses look their module up while it loads
            spec.loader.exec_module(module)
            module.main()
        except Exception as err:  # one broken bench must not hide the others' figures
            traceback.print_exc()
            report.skipped(name, f"failed: {type(err).__name__}: {err}"[:120])
            crashed += 1
        print(f"({path.stem}: {time.perf_counter() - began:.0f} s)\n", flush=True)
    print(f"== summary ({machine()}) ==")
    print(report.table())
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
