"""Every extension point is documented in ``plugins/AUTHORING.md`` (its introduction promises it).

Adding a signal, a signal kwarg, a ``ctx`` method, a ``Plugin`` attribute or an sdk name
without documenting it — each sdk name in the table of its submodule — fails here, with the
name to document. The walkthrough quotes the example plugin's files as they are.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest
from blinker import Signal

import fengqiao.sdk as sdk
from fengqiao.plugins.base import Plugin
from fengqiao.plugins.context import PluginContext
from fengqiao.signals import ALL

AUTHORING = Path(__file__).resolve().parents[2] / "plugins" / "AUTHORING.md"
TEXT = AUTHORING.read_text(encoding="utf-8")
HEADING = re.compile(r"^#{1,6} ")


def section(heading_pattern: str) -> str | None:
    """The text under the first heading matching ``heading_pattern``, up to the next heading."""
    lines = TEXT.splitlines()
    for i, line in enumerate(lines):
        if HEADING.match(line) and re.search(heading_pattern, line):
            end = next((j for j in range(i + 1, len(lines)) if HEADING.match(lines[j])), len(lines))
            return "\n".join(lines[i + 1:end])
    return None


def defined(token: str) -> bool:
    """``token`` (in backticks) heads a section or is in the first cell of a table row."""
    quoted = f"`{token}`"
    for line in TEXT.splitlines():
        if HEADING.match(line) and quoted in line:
            return True
        if line.startswith("|") and quoted in line.split("|")[1]:
            return True
    return False


def signal_kwargs(signal) -> list[str]:
    """The kwargs a signal's doc names: ``… kwargs: form_key, version (int), breaking (bool).``"""
    doc = signal.__doc__ or ""
    assert "kwargs:" in doc, f"signal {signal.name} must list its kwargs in its doc"
    listed = re.sub(r"\([^)]*\)", "", doc.split("kwargs:", 1)[1])
    return [m.group(1) for part in listed.split(",") if (m := re.match(r"\s*([a-z_]+)", part))]


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_signal_is_documented_with_its_kwargs(name):
    body = section(rf"`{name}`")
    assert body is not None, f"plugins/AUTHORING.md: add a '#### `{name}`' section under Signals"
    missing = [k for k in signal_kwargs(ALL[name]) if f"`{k}`" not in body]
    assert not missing, f"plugins/AUTHORING.md: document the kwargs {missing} of `{name}`"


def test_every_core_signal_is_in_the_sdk_and_nothing_else_is():
    from fengqiao.sdk import events

    exported = {n for n in events.__all__ if isinstance(getattr(events, n), Signal)}
    assert exported == set(ALL), f"fengqiao.sdk.events and fengqiao.signals.ALL differ: {sorted(exported ^ set(ALL))}"


CTX_METHODS = sorted(
    n for n, _ in inspect.getmembers(PluginContext, inspect.isfunction) if not n.startswith("_")
)


def test_the_hooks_named_by_the_contract_exist():
    assert {"connect", "add_menu_item", "add_widget", "add_permission", "register_job",
            "settings"} <= set(CTX_METHODS)


@pytest.mark.parametrize("name", CTX_METHODS)
def test_every_ctx_method_is_documented(name):
    body = section(rf"`ctx\.{name}\(")
    assert body and body.strip(), f"plugins/AUTHORING.md: add a '#### `ctx.{name}(…)`' section"
    params = [p for p in inspect.signature(getattr(PluginContext, name)).parameters if p != "self"]
    heading = next(line for line in TEXT.splitlines() if HEADING.match(line) and f"`ctx.{name}(" in line)
    missing = [p for p in params if p not in heading]
    assert not missing, f"plugins/AUTHORING.md: the heading of ctx.{name} lacks {missing}"


PLUGIN_NAMES = sorted(n for n in vars(Plugin) if not n.startswith("_"))


@pytest.mark.parametrize("name", PLUGIN_NAMES)
def test_every_plugin_attribute_and_method_is_documented(name):
    member = vars(Plugin)[name]
    token = name
    if callable(member):
        params = [p for p in inspect.signature(member).parameters if p != "self"]
        token = f"{name}({', '.join(params)})"
    assert defined(token), f"plugins/AUTHORING.md: add a row for `{token}` to 'The Plugin class'"


def in_table(body: str | None, name: str) -> bool:
    """``name`` (in backticks) is in the first cell of a table row of ``body``."""
    return body is not None and any(
        line.startswith("|") and f"`{name}`" in line.split("|")[1] for line in body.splitlines())


SDK_NAMES = sorted((submodule, name) for submodule in sdk.SUBMODULES
                   for name in importlib.import_module(f"fengqiao.sdk.{submodule}").__all__)


@pytest.mark.parametrize(("submodule", "name"), SDK_NAMES, ids=[f"{s}.{n}" for s, n in SDK_NAMES])
def test_every_sdk_name_is_documented_in_its_submodules_table(submodule, name):
    body = section(rf"`fengqiao\.sdk\.{submodule}`")
    assert body is not None, f"plugins/AUTHORING.md: add a '#### `fengqiao.sdk.{submodule}`' section with a table"
    assert in_table(body, name), f"plugins/AUTHORING.md: add `{name}` to the table of `fengqiao.sdk.{submodule}`"


@pytest.mark.parametrize("name", sorted(sdk.__all__))
def test_every_name_of_the_top_level_is_documented(name):
    """The names ``from fengqiao.sdk import X`` still serves (API 1.4): in their submodule's
    table, or in the compatibility table when they have no submodule."""
    home = sdk._SUBMODULE_OF[name]
    documented = in_table(section(rf"`fengqiao\.sdk\.{home}`"), name) or in_table(section(r"^#+ Compatibility"), name)
    assert documented, f"plugins/AUTHORING.md: document `{name}`"


@pytest.mark.parametrize("path", [
    "pyproject.toml",
    "fengqiao_agenda/form_definitions/agenda-proposal.json",
    "fengqiao_agenda/models.py",
    "fengqiao_agenda/migrations/agenda_0001_items.py",
    "fengqiao_agenda/templates/index.html",
])
def test_the_walkthrough_quotes_the_example_plugin(path):
    """Files the guide shows in full are quoted verbatim: the walkthrough stays runnable."""
    text = (AUTHORING.parent / "fengqiao-agenda" / path).read_text(encoding="utf-8")
    assert text.strip() in TEXT, f"plugins/AUTHORING.md: quote fengqiao-agenda/{path} as it is now"
