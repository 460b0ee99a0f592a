"""Packaging rules: sdk-only imports, migrations equal to the models, documented API, CLI,
demo data, switching off."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from fengqiao.sdk.models import db
from fengqiao.sdk.testing import csrf_token, imports_outside_the_sdk, migration_drift

import fengqiao_certificates  # noqa: F401  (registers the tables on the metadata)
from fengqiao_certificates.models import CertificateList

pytestmark = pytest.mark.plugins("certificates")
# Pure logic and pages run on SQLite only; what depends on the database (seeding races,
# routing, serials, revocation, metrics, migrations) runs on PostgreSQL too.
PACKAGE = Path(__file__).resolve().parents[1] / "fengqiao_certificates"


def test_imports_only_the_sdk_from_the_core():
    assert imports_outside_the_sdk(PACKAGE) == []


def test_migrations_create_exactly_the_models_tables(app):
    assert migration_drift(app, "certificates_") == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_api_routes_are_documented_as_public(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/p/certificates/items", "/p/certificates/verify/{code}"):
        assert paths[path]["get"]["security"] == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_cli_seed_and_seed_demo(app, demo):
    from click.testing import CliRunner

    from fengqiao_certificates.cli import certificates

    url = app.extensions["fengqiao.db"].engine.url.render_as_string(hide_password=False)
    env = {"FENGQIAO_MODE": "testing", "FENGQIAO_DATABASE_URL": url,
           "FENGQIAO_INSTANCE_PATH": app.instance_path, "FENGQIAO_PLUGINS": "certificates"}
    first = CliRunner().invoke(certificates, ["seed"], env=env)
    assert first.exit_code == 0 and "已创建" in first.output
    assert "已存在" in CliRunner().invoke(certificates, ["seed"], env=env).output
    demo_run = CliRunner().invoke(certificates, ["seed-demo"], env=env)
    assert demo_run.exit_code == 0 and "已发布演示清单" in demo_run.output


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_demo_loader_publishes_the_demo_list_once(app, demo):
    from fengqiao.sdk.testing import load_plugin_demo

    assert load_plugin_demo(app) == ["certificates"]
    load_plugin_demo(app)
    with app.app_context():
        codes = sorted(db.scalars(sa.select(CertificateList.org_code)))
    assert codes == ["339901001001", "national"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_switching_off_hides_pages_api_and_form(app, client, login_as):
    login_as("admin")
    token = csrf_token(client, "/admin/plugins")
    client.post("/admin/plugins/certificates/switch", data={"enabled": "0", "csrf_token": token})
    assert client.get("/p/certificates/").status_code == 404
    assert client.get("/api/v1/p/certificates/items?org=339901001001").status_code == 404
    assert "certificate-request" not in {f["key"] for f in client.get("/api/v1/forms").get_json()}
