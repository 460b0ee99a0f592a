"""Every extension point is documented in ``plugins/AUTHORING.md`` (its introduction promises it).

Adding a signal, a signal kwarg, a ``ctx`` method, a ``Plugin`` attribute or an sdk name
without documenting it fails here, with the name to document.
"""

from __future__ import annotations

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


def test_every_signal_in_the_sdk_is_a_documented_core_signal():
    exported = {n for n in sdk.__all__ if isinstance(getattr(sdk, n), Signal)}
    assert exported, "the sdk exports no signal?"
    assert exported <= set(ALL), f"add {sorted(exported - set(ALL))} to fengqiao.signals.ALL"


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


@pytest.mark.parametrize("name", sorted(sdk.__all__))
def test_every_sdk_name_is_documented(name):
    assert defined(name), f"plugins/AUTHORING.md: add `{name}` to the table 'The sdk: fengqiao.sdk'"


@pytest.mark.parametrize("path", [
    "pyproject.toml",
    "fengqiao_hello/form_definitions/hello-greeting.json",
    "fengqiao_hello/migrations/hello_0001_greetings.py",
])
def test_the_walkthrough_quotes_the_example_plugin(path):
    """Files the guide shows in full are quoted verbatim: the walkthrough stays runnable."""
    text = (AUTHORING.parent / "fengqiao-hello" / path).read_text(encoding="utf-8")
    assert text.strip() in TEXT, f"plugins/AUTHORING.md: quote fengqiao-hello/{path} as it is now"
