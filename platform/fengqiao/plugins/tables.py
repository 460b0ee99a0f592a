"""Each plugin's own declarative base: its tables on a metadata of its own.

A plugin's models never join the core's ``Base.metadata`` (nor another plugin's): the core's
schema comparison, ``create_all`` in a plugin's own tests and Alembic's autogenerate for a
plugin's branch each see exactly one owner's tables. The constraint naming convention is the
core's, so migrations name constraints the same way on every backend.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase

from fengqiao.db import NAMING_CONVENTION

SHARED = ""
"""The key of the base shared by plugins written before API 1.5 (``fengqiao.sdk.Model``)."""

_bases: dict[str, type[DeclarativeBase]] = {}


def declarative_base_for(plugin: str) -> type[DeclarativeBase]:
    """The declarative base of ``plugin``'s models (the same class on every call)."""
    base = _bases.get(plugin)
    if base is None:
        metadata = sa.MetaData(naming_convention=NAMING_CONVENTION, info={"plugin": plugin})
        name = "".join(part.title() for part in plugin.split("_")) + "Model" if plugin else "PluginModel"
        base = _bases[plugin] = type(name, (DeclarativeBase,), {"metadata": metadata, "__module__": __name__})
    return base


def plugin_metadata(plugins: Iterable[str] | None = None) -> list[sa.MetaData]:
    """The metadata of every plugin base created so far (a plugin's models are imported with
    it), or only of the ``plugins`` named (and the shared base of older plugins)."""
    if plugins is None:
        return [base.metadata for base in _bases.values()]
    wanted = {SHARED, *plugins}
    return [base.metadata for name, base in _bases.items() if name in wanted]
