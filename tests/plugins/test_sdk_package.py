"""The sdk's shape: a package of topic submodules that import only what they need.

A plugin's ``import fengqiao.sdk`` (``Plugin`` at discovery) must not pull in the core's API
routes, its web views or its heavy libraries; ``from fengqiao.sdk import X`` keeps working for
every name of API 1.4; each name has one home.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import fengqiao.sdk as sdk

NAMES_OF_1_4 = {
    "API_CHANGELOG", "API_VERSION", "APIError", "Certificate", "FontMissing", "LOCAL_TZ", "MAX_INT", "Model",
    "NOT_FOUND_MESSAGE", "OrgInfo", "Plugin", "Scope", "UTCDateTime", "ValidationFailed", "add_working_days", "audit",
    "calendar_changed", "case_assigned", "case_closed", "case_created", "case_data", "case_escalated", "case_info",
    "case_notification", "case_rated", "case_transitioned", "cases_in", "certificate_pdf", "cli_app",
    "current_job_id", "current_user", "db", "document", "enqueue", "external_url", "files_dir", "form_published",
    "get_in_scope", "in_scope", "int_arg", "is_active", "is_working_day", "json_body", "login_required",
    "marked_schema", "mask_address", "mask_data", "mask_id_card", "mask_mobile", "mask_name", "mask_text",
    "mask_value", "may_reveal", "not_found", "org_ancestors", "org_unit", "org_units", "parse_int",
    "perform_action", "plugin_settings", "plugin_signal", "public", "qr_data_uri", "qr_png", "query",
    "rate_limited", "read_table", "render", "requires", "safe_cell", "safe_image", "scope_for", "send_signal",
    "set_progress", "submission_received", "submit_form", "today_local", "tracking_matches", "user_created",
    "utcnow", "validate", "workbook_bytes", "working_days_between", "write_lock", "xlsx_response",
}

PROBE = """
import importlib, json, sys
loaded = {}
for name in ["fengqiao.sdk"] + ["fengqiao.sdk." + s for s in %r]:
    before = set(sys.modules)
    importlib.import_module(name)
    loaded[name] = sorted(m for m in set(sys.modules) - before)
print(json.dumps(loaded))
"""


def _fresh_imports() -> dict[str, list[str]]:
    """What each import adds to a fresh interpreter's modules, the sdk first, then each submodule."""
    runtime = [s for s in sdk.SUBMODULES if s != "testing"]
    out = subprocess.run([sys.executable, "-c", PROBE % runtime], capture_output=True, text=True, check=True,
                         timeout=120)
    return json.loads(out.stdout)


def test_importing_the_sdk_loads_no_route_view_or_heavy_library():
    loaded = _fresh_imports()
    assert [m for m in loaded["fengqiao.sdk"] if m.startswith("fengqiao")] == ["fengqiao", "fengqiao.sdk"]
    everything = {m for modules in loaded.values() for m in modules}
    routes = sorted(m for m in everything if m == "fengqiao.api" or m.startswith(("fengqiao.api.", "fengqiao.web")))
    assert routes == [], f"the sdk must not import the core's routes or views: {routes}"
    heavy = sorted(m for m in everything if m.split(".")[0] in {"openpyxl", "fpdf", "qrcode", "PIL", "rq"})
    assert heavy == [], f"load these on first call, not on import: {heavy}"
    core = {m for m in everything if m.startswith("fengqiao.")}
    assert len(core) < 70, f"the sdk's submodules load {len(core)} core modules"


def test_every_name_of_api_1_4_still_imports_from_the_top():
    assert set(sdk.__all__) == NAMES_OF_1_4
    for name in NAMES_OF_1_4:
        value = getattr(sdk, name)
        home = importlib.import_module(f"fengqiao.sdk.{sdk._SUBMODULE_OF[name]}")
        assert getattr(home, name) is value, name


def test_each_name_has_one_home():
    homes: dict[str, list[str]] = {}
    for submodule in sdk.SUBMODULES:
        module = importlib.import_module(f"fengqiao.sdk.{submodule}")
        assert module.__doc__ and module.__doc__.strip(), f"fengqiao.sdk.{submodule} says what it is for"
        for name in module.__all__:
            assert hasattr(module, name), f"fengqiao.sdk.{submodule}.{name}"
            homes.setdefault(name, []).append(submodule)
    shared = {n: h for n, h in homes.items() if len(h) > 1 and n != "submit_form"}  # the test kit has its own
    assert shared == {}
    assert set(sdk._SUBMODULE_OF) - set(homes) == {"cases_in"}  # deprecated: kept at the top only


def test_unknown_names_are_an_attribute_error():
    try:
        sdk.no_such_name  # noqa: B018
    except AttributeError as err:
        assert "no_such_name" in str(err)
    else:
        raise AssertionError("fengqiao.sdk.no_such_name resolved")
