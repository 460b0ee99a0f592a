"""The stable facade for plugin authors: import only from here.

Everything else in ``fengqiao`` is internal and may change between releases; names here
change only with a new ``API_VERSION`` and a changelog entry.
"""

from __future__ import annotations

from typing import Any

from fengqiao.access import login_required, public, requires

API_VERSION = "1.0"
"""The plugin API this core implements. Plugins declare a range, e.g. ``">=1,<2"``."""

API_CHANGELOG = {
    "1.0": "First plugin API: Plugin, public/login_required/requires decorators.",
}


class Plugin:
    """Base class for plugins found through the ``fengqiao.plugins`` entry-point group."""

    name: str = ""
    title: str = ""
    api_version: str = ">=1,<2"
    form_definitions: str | None = None
    templates: str | None = None

    def blueprint(self) -> Any | None:
        """Optionally return a Flask blueprint; it is mounted at ``/p/<name>/``."""
        return None

    def setup(self, ctx: Any) -> None:
        """Connect signals, register jobs, menu items and permissions."""


__all__ = ["API_VERSION", "Plugin", "login_required", "public", "requires"]
