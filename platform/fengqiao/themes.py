"""Themes: template and static overrides by name, falling back to ``default``.

A theme is a folder with ``templates/`` and ``static/``; core templates extend
``base.html``, which the active theme (or ``default``) provides.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, abort, send_from_directory
from jinja2 import ChoiceLoader, FileSystemLoader

from fengqiao.access import public
from fengqiao.bundled import bundled_folder

BUNDLED_THEMES = bundled_folder("themes")  # the repository's themes/, shipped in the package


def theme_roots() -> list[Path]:
    """Folders that may hold themes: ``FENGQIAO_THEMES_PATH`` entries, then the bundled one."""
    roots = [Path(p) for p in os.environ.get("FENGQIAO_THEMES_PATH", "").split(os.pathsep) if p]
    roots.append(BUNDLED_THEMES)
    return [r for r in roots if r.is_dir()]


def find_theme(name: str) -> Path | None:
    for root in theme_roots():
        if (root / name).is_dir():
            return root / name
    return None


def init_themes(app: Flask, theme: str) -> list[Path]:
    """Put the theme's and the default theme's folders in front of the core's."""
    chain = [p for p in dict.fromkeys([find_theme(theme), find_theme("default")]) if p]
    if not chain:
        raise RuntimeError(f"theme folder not found (looked in {theme_roots() or [BUNDLED_THEMES]})")
    if find_theme(theme) is None:
        raise RuntimeError(f"主题 {theme!r} 不存在 (FENGQIAO_THEME)")
    app.jinja_loader = ChoiceLoader(
        [FileSystemLoader([str(p / "templates") for p in chain]), app.jinja_loader]
    )
    static_dirs = [p / "static" for p in chain if (p / "static").is_dir()]

    @public
    def theme_static(filename: str):
        for folder in static_dirs:  # the first theme in the chain that has the file serves it
            if os.path.isfile(os.path.join(folder, filename)):  # False (not OSError) for absurd names
                return send_from_directory(folder, filename, max_age=3600)
        abort(404)

    app.add_url_rule("/theme/<path:filename>", "theme_static", theme_static)
    app.extensions["fengqiao.theme"] = chain
    return chain
