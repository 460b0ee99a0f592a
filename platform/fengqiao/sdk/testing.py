"""The test kit for a plugin's own tests (the fixtures ``app``, ``client``, ``demo``,
``login_as``, ``bearer`` … come with ``fengqiao``'s pytest plugin; these are the helpers).

Import it from tests only: it needs pytest.
"""

from __future__ import annotations

from fengqiao.testing.plugin import (
    api_token,
    browser_login,
    csrf_token,
    imports_outside_the_sdk,
    load_plugin_demo,
    login,
    migration_drift,
    submit_form,
    walk_case,
)

__all__ = [
    "api_token", "browser_login", "csrf_token", "imports_outside_the_sdk", "load_plugin_demo", "login",
    "migration_drift", "submit_form", "walk_case",
]
