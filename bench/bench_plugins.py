"""Plugin system overhead, each against a same-run baseline (issue: plugin system).

(a) start-up, each measured cold in a fresh process after the core is imported: finding,
    checking and mounting every installed plugin (``load_plugins`` on an otherwise complete
    app: their setup, blueprints, templates) vs a bare stevedore ``ExtensionManager`` load
    (import + instantiate) of the same entry points — target ≤ 2×. Mounting includes
    Werkzeug compiling each plugin route (about half of the difference with 140 routes);
(b) request overhead: a signed-in queue page (menu, access checks, plugin switches) with
    every installed plugin enabled vs none — target ≤ 1.1×. The dashboard, where plugins add
    their widgets' own work, is printed for information.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import report

from fengqiao.app import create_app
from fengqiao.demo_data import load_demo_data
from fengqiao.migrate import upgrade
from fengqiao.plugins.discovery import discover
from fengqiao.testing.plugin import login

BARE = """
import time, fengqiao.sdk
from stevedore import ExtensionManager
t = time.perf_counter()
ExtensionManager("fengqiao.plugins", invoke_on_load=True)
print((time.perf_counter() - t) * 1000)
"""
# The core app is built first without its plugins (create_app with load_plugins held back),
# then the real load_plugins runs on it, timed: what plugins add to a cold start.
OURS = """
import tempfile, time, fengqiao.sdk
import fengqiao.plugins.loader as loader
load_plugins, loader.load_plugins = loader.load_plugins, lambda app: None
from fengqiao.app import create_app
app = create_app({"mode": "testing", "database_url": "sqlite://", "instance_path": tempfile.mkdtemp(),
                  "plugins": "*"})
t = time.perf_counter()
load_plugins(app)
print((time.perf_counter() - t) * 1000)
"""


def _cold_ms(script: str, runs: int = 7) -> float:
    return statistics.median(
        float(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                             check=True).stdout.strip().splitlines()[-1])
        for _ in range(runs)
    )


def main() -> None:
    names = [p.name for p in discover().plugins]
    print(f"installed plugins: {', '.join(names) or '(none)'}")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        apps = {}
        for label, plugins in (("none", []), ("all", None)):
            apps[label] = create_app({"mode": "testing", "database_url": url, "instance_path": tmp,
                                      "plugins": plugins})
        upgrade(apps["all"].extensions["fengqiao.db"].engine)
        with apps["all"].app_context():
            load_demo_data()

        bare_ms, ours_ms = _cold_ms(BARE), _cold_ms(OURS)
        print(f"(a) start-up (cold): load_plugins {ours_ms:.2f} ms vs bare stevedore "
              f"{bare_ms:.2f} ms -> {ours_ms / bare_ms:.2f}x (target <= 2x)")
        report.record("plugins", "cold start-up vs bare stevedore", ours_ms, bare_ms, ours_ms / bare_ms,
                      "≤ 2×", report.at_most(ours_ms / bare_ms, 2.0), unit=" ms")

        clients = {}
        for label, app in apps.items():
            clients[label] = app.test_client()
            login(clients[label], "shenli")
        for path, target in (("/queues", " (target <= 1.1x)"), ("/", " (information)")):
            samples = {label: [] for label in clients}
            for _ in range(20):
                for client in clients.values():
                    client.get(path)
            for _ in range(400):  # interleaved, so drift in machine load hits both alike
                for label, client in clients.items():
                    t = time.perf_counter()
                    client.get(path)
                    samples[label].append((time.perf_counter() - t) * 1000)
            timings = {label: statistics.median(v) for label, v in samples.items()}
            ratio = timings["all"] / timings["none"]
            print(f"(b) GET {path}: all plugins {timings['all']:.2f} ms vs none "
                  f"{timings['none']:.2f} ms -> {ratio:.2f}x{target}")
            report.record("plugins", f"GET {path} all plugins vs none", timings["all"], timings["none"], ratio,
                          "≤ 1.1×" if path == "/queues" else "(information)",
                          report.at_most(ratio, 1.1) if path == "/queues" else None, unit=" ms")
        for app in apps.values():
            app.extensions["fengqiao.db"].dispose()


if __name__ == "__main__":
    main()
