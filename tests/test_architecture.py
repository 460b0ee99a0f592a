"""The dependency rules of ``fengqiao`` (docs/architecture.md, "Dependency rules"), checked on
its import graph as :mod:`grimp` builds it from the source.

Which imports count: every ``import`` statement in a module of ``fengqiao``, at module level
and inside functions alike (a function-level import may defer a heavy or optional
dependency, but it still is a dependency: it must not close a cycle); imports under
``if TYPE_CHECKING:`` do not count (they never run).
"""

from __future__ import annotations

from importlib.metadata import entry_points

import grimp
import pytest

PACKAGE = "fengqiao"
SERVICES = ("fengqiao.cases", "fengqiao.forms", "fengqiao.accounts", "fengqiao.orgs",
            "fengqiao.workcalendar")
WEB_LAYER = ("fengqiao.web", "fengqiao.api")
SDK = "fengqiao.sdk"


def build(package: str = PACKAGE, *, external: bool = False) -> grimp.ImportGraph:
    return grimp.build_graph(package, include_external_packages=external,
                             exclude_type_checking_imports=True, cache_dir=None)


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return build()


def import_cycles(graph: grimp.ImportGraph) -> list[tuple[str, ...]]:
    """One shortest cycle ``a → b → … → a`` for each set of modules that import each other."""
    found: dict[frozenset[str], tuple[str, ...]] = {}
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back:
                cycle = (importer, *back)
                found.setdefault(frozenset(cycle), cycle)
    return list(found.values())


def describe(graph: grimp.ImportGraph, chain: tuple[str, ...]) -> str:
    """``a (line 12) → b (line 40) → a``: where each step of a chain is imported."""
    steps = []
    for importer, imported in zip(chain, chain[1:], strict=False):
        lines = sorted(d["line_number"] for d in graph.get_import_details(importer=importer, imported=imported))
        steps.append(f"{importer} (line {', '.join(map(str, lines)) or '?'})")
    return " → ".join([*steps, chain[-1]])


def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle():
    graph = grimp.ImportGraph()
    for module in ("pkg", "pkg.a", "pkg.b", "pkg.c", "pkg.d"):
        graph.add_module(module)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.c")
    graph.add_import(importer="pkg.d", imported="pkg.c")
    assert import_cycles(graph) == []
    graph.add_import(importer="pkg.c", imported="pkg.a")
    assert [set(c) for c in import_cycles(graph)] == [{"pkg.a", "pkg.b", "pkg.c"}]


def test_function_level_imports_count_and_type_checking_ones_do_not(tmp_path, monkeypatch):
    package = tmp_path / "layered"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "low.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from layered.high import High\n")
    (package / "high.py").write_text("import layered.low\n")
    (package / "lazy.py").write_text("def later():\n    import layered.high\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = build("layered")
    assert graph.direct_import_exists(importer="layered.lazy", imported="layered.high")
    assert not graph.direct_import_exists(importer="layered.low", imported="layered.high")
    assert import_cycles(graph) == []
    (package / "low.py").write_text("def later():\n    from layered.high import High\n")
    assert [set(c) for c in import_cycles(build("layered"))] == [{"layered.low", "layered.high"}]


def test_no_import_cycles_inside_fengqiao(graph):
    cycles = import_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(describe(graph, c) for c in cycles)


def plugin_packages(graph: grimp.ImportGraph) -> set[str]:
    """The top-level packages of the installed plugins, and any ``fengqiao_*`` package."""
    installed = {e.value.split(":")[0].split(".")[0] for e in entry_points(group="fengqiao.plugins")}
    return installed | {m for m in graph.modules if m.startswith("fengqiao_")}


def test_the_core_never_imports_a_plugin():
    graph = build(external=True)
    plugins = plugin_packages(graph)
    assert "fengqiao_hello" in plugins  # the bundled plugins are installed in development
    offenders = {plugin: sorted(graph.find_modules_that_directly_import(plugin))
                 for plugin in plugins if plugin in graph.modules}
    assert not any(offenders.values()), offenders


@pytest.mark.parametrize("service", SERVICES)
def test_services_never_import_the_web_or_api_layer(graph, service):
    """Services raise domain errors and return data; pages and API routes are built on them."""
    chains = [chain for layer in WEB_LAYER
              for chain in graph.find_shortest_chains(importer=service, imported=layer, as_packages=True)]
    assert not chains, "\n".join(describe(graph, c) for c in sorted(chains))


def test_no_core_module_imports_the_sdk(graph):
    """The SDK is the plugins' view of the core; the core never depends on it."""
    sdk = {SDK} | graph.find_descendants(SDK)
    importers = {importer for module in sdk for importer in graph.find_modules_that_directly_import(module)}
    assert importers <= sdk, sorted(importers - sdk)
