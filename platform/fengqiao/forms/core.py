"""The core's own form definitions (``form_definitions/`` at the repository top)."""

from __future__ import annotations

import logging
from pathlib import Path

from fengqiao.db import db
from fengqiao.forms.definition import check_files
from fengqiao.forms.store import BreakingChange, announce_published, import_definition

log = logging.getLogger(__name__)
CORE_DEFINITIONS = Path(__file__).resolve().parents[3] / "form_definitions"


def import_core_forms(folder: Path = CORE_DEFINITIONS) -> list[str]:
    """Publish every core definition that changed (idempotent); returns the keys published."""
    definitions, problems = check_files([folder])
    for problem in problems:
        log.error("core form definition invalid: %s", problem)
    published = []
    for definition in definitions:
        try:
            result = import_definition(definition.to_dict(), "core", publish_now=True)
        except BreakingChange as err:
            db.rollback()
            log.error("core form %s not republished: %s", err.form_key, err)
            continue
        db.commit()
        if result.version is not None:
            announce_published(result.version)
            published.append(result.key)
    return published
