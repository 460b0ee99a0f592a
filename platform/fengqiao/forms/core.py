"""Publish the form definitions the core and the loaded plugins ship (idempotent).

The core's live in ``form_definitions/`` at the repository top, shipped in the package as
``fengqiao.bundled.form_definitions``; a plugin's in the folder its ``form_definitions``
attribute names, imported with the source ``plugin:<name>``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fengqiao.bundled import bundled_folder
from fengqiao.cases.case_types import sync_files
from fengqiao.forms.definition import check_files
from fengqiao.forms.store import BreakingChange, announce_published, import_definition

log = logging.getLogger(__name__)
CORE_DEFINITIONS = bundled_folder("form_definitions")


def import_core_forms(folder: Path = CORE_DEFINITIONS, source: str = "core") -> list[str]:
    """Publish every definition in ``folder`` that changed; returns the keys published.
    The caller commits (a breaking change is refused before it writes; the others are kept)."""
    definitions, problems = check_files([folder])
    for problem in problems:
        log.error("core form definition invalid: %s", problem)
    published = []
    for definition in definitions:
        try:
            result = import_definition(definition.to_dict(), source, publish_now=True)
        except BreakingChange as err:
            log.error("core form %s not republished: %s", err.form_key, err)
            continue
        if result.version is not None:
            announce_published(result.version)
            published.append(result.key)
    return published


def sync_all_forms(app) -> list[str]:
    """The core's definitions, then each loaded plugin's."""
    published = import_core_forms()
    for name, plugin in app.extensions.get("fengqiao.plugins", {}).items():
        folder = plugin.package_path(plugin.form_definitions)
        if folder is not None:
            published += import_core_forms(folder, f"plugin:{name}")
    sync_files(app)  # the case types beside them, as versions (an unchanged file adds none)
    return published
