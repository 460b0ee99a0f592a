"""Themes: the 长者模式 (``elder``) theme, fallback to ``default``, extra theme folders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fengqiao.app import create_app
from fengqiao.testing.plugin import app_settings_for_tests
from fengqiao.themes import BUNDLED_THEMES

# Themes do not depend on the database: the app-building tests run on SQLite only.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

DEFAULT = BUNDLED_THEMES / "default"
ELDER = BUNDLED_THEMES / "elder"


@pytest.fixture
def app_config() -> dict:
    return {"theme": "elder"}


def _build(database_url: str, tmp_path: Path, **overrides):
    return create_app(app_settings_for_tests(database_url, tmp_path, **overrides))


@sqlite_only
def test_elder_login_page_adds_the_elder_overrides(client):
    response = client.get("/login")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # the default stylesheet first, then the theme's own layer on top
    assert html.index('href="/theme/fengqiao.css"') < html.index('href="/theme/theme.css"')
    assert "工作人员登录" in html  # login.html comes from the core, base.html from default

    base = client.get("/theme/fengqiao.css")
    assert base.status_code == 200 and base.mimetype == "text/css"
    assert base.get_data(as_text=True) == (DEFAULT / "static" / "fengqiao.css").read_text(encoding="utf-8")
    layer = client.get("/theme/theme.css").get_data(as_text=True)
    assert 'content: "长者模式"' in layer  # only the elder layer has the mode label


def test_elder_layer_is_self_contained_and_large():
    css = (ELDER / "static" / "theme.css").read_text(encoding="utf-8")
    rules = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    assert "@import" not in rules
    assert "url(" not in rules and "http" not in rules  # no CDN, no web fonts
    assert "@font-face" not in rules
    assert re.search(r"font-size:\s*20px", rules)
    assert re.search(r"--tap:\s*52px", rules)


@sqlite_only
def test_elder_renders_core_templates_it_does_not_override(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert 'class="error-page"' in html  # the core's error.html
    assert "返回首页" in html
    assert 'href="/theme/fengqiao.css"' in html
    assert 'aria-label="主导航"' not in html  # signed out: no menu


@sqlite_only
def test_elder_pages_keep_the_default_layout(login_as):
    client = login_as("shenli")
    html = client.get("/").get_data(as_text=True)
    assert "<h1>工作台</h1>" in html
    assert 'aria-label="主导航"' in html
    assert 'action="/logout"' in html
    assert 'class="footer"' in html


@sqlite_only
def test_static_files_fall_back_to_the_default_theme(client):
    assert not (ELDER / "static" / "favicon.svg").exists()
    response = client.get("/theme/favicon.svg")
    assert response.status_code == 200
    assert response.data == (DEFAULT / "static" / "favicon.svg").read_bytes()
    assert client.get("/theme/no-such-file.css").status_code == 404


@sqlite_only
def test_unknown_theme_fails_at_startup(database_url, tmp_path):
    with pytest.raises(RuntimeError, match="FENGQIAO_THEME") as excinfo:
        _build(database_url, tmp_path, theme="nosuchtheme")
    assert "nosuchtheme" in str(excinfo.value)


@sqlite_only
def test_theme_from_fengqiao_themes_path(database_url, tmp_path, monkeypatch):
    root = tmp_path / "themes"
    (root / "x" / "templates").mkdir(parents=True)
    (root / "x" / "templates" / "login.html").write_text(
        '{% extends "base.html" %}{% block title %}X{% endblock %}'
        '{% block content %}<p id="x-login">X 主题的登录页</p>{% endblock %}',
        encoding="utf-8",
    )
    monkeypatch.setenv("FENGQIAO_THEMES_PATH", str(root))
    app = _build(database_url, tmp_path, theme="x")
    try:
        assert app.extensions["fengqiao.theme"] == [root / "x", DEFAULT]
        client = app.test_client()
        html = client.get("/login").get_data(as_text=True)
        assert '<p id="x-login">X 主题的登录页</p>' in html
        assert 'class="topbar"' in html  # base.html from the default theme
        css = client.get("/theme/fengqiao.css")
        assert css.status_code == 200
        assert css.data == (DEFAULT / "static" / "fengqiao.css").read_bytes()
        missing = client.get("/no-such-page")
        assert missing.status_code == 404
        assert 'class="error-page"' in missing.get_data(as_text=True)
    finally:
        app.extensions["fengqiao.db"].dispose()
