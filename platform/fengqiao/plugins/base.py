"""``Plugin``: the class every plugin derives from (re-exported by ``fengqiao.sdk.plugin``)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

API_VERSION = "1.11"
"""The plugin API this core implements; plugins declare a range such as ``">=1,<2"``."""


class Plugin:
    """A module found through the ``fengqiao.plugins`` entry-point group.

    Declarative attributes say what the plugin ships; ``setup(ctx)`` connects the rest.
    Every name a plugin owns is namespaced by ``name``: URLs ``/p/<name>/`` and
    ``/api/v1/p/<name>/``, templates ``<name>/…``, tables ``<name>_…``, permissions
    ``<name>.<perm>``, settings, and CLI commands ``fengqiao <name> …``.
    """

    name: str = ""
    title: str = ""
    api_version: str = ">=1,<2"
    description: str = ""
    form_definitions: str | None = None  # folder (in the package) of form + case-type JSON
    templates: str | None = None  # folder of templates, used as "<name>/<file>"
    static: str | None = None  # folder served at /p/<name>/static/
    migrations: str | None = None  # folder of Alembic versions (its own branch, label = name)
    settings_schema: dict | None = None  # JSON Schema of the settings admins edit
    demo_only: bool = False  # a walkthrough or sample: loaded only in demo and testing mode

    def blueprint(self) -> Any | None:
        """Optionally a Flask blueprint for pages; mounted at ``/p/<name>/``."""
        return None

    def api_blueprint(self) -> Any | None:
        """Optionally a Flask blueprint for JSON routes; mounted at ``/api/v1/p/<name>/``."""
        return None

    def cli(self) -> Any | None:
        """Optionally a ``click.Group``; it becomes ``fengqiao <name> …``."""
        return None

    def setup(self, ctx: Any) -> None:
        """Connect signals, register jobs, menu items, permissions and dashboard widgets."""

    # -- helpers for the loader -------------------------------------------------------
    def package_path(self, folder: str | None) -> Path | None:
        """An absolute path for a folder named relative to the plugin's package."""
        if not folder:
            return None
        path = Path(inspect.getfile(type(self))).resolve().parent / folder
        return path if path.is_dir() else None
