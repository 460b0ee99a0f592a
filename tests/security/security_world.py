"""One demo world for the security tests (see conftest.py for the fixture): an app with every installed plugin enabled, the demo
county, a case of 揽月社区's grid A with a photo, a case of 桥东社区, a finished export job of
shenli's, and a signed-in client per persona.

Built once per module on SQLite (the permission matrix runs hundreds of requests; the
checks under test are the same on PostgreSQL). CSRF is switched off so that an unauthorised
POST meets the access check rather than the token check (CSRF has its own tests).
"""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass, field

from flask import Flask
from flask.testing import FlaskClient

from fengqiao.testing.plugin import TEST_SECRET, api_token

PERSONAS = ("anonymous", "resident", "zhangmin", "shenli", "hanzhiming", "zhifa", "ducha", "lingdao", "admin")
STAFF = PERSONAS[2:]
COMMUNITY_A, GRID_A, COMMUNITY_B = "339901001001", "339901001001001", "339901001002"
UNLIMITED = {name: "100000/minute" for name in ("login", "login_failures", "public_submit", "public_upload", "track")}

INCIDENT = {"summary": "揽月花园5幢路灯不亮", "category": "市容环境", "description": "路灯坏了三天。",
            "location": {"address": "揽月花园5幢"}}
REQUEST = {"request_type": "complaint", "summary": "桥东广场夜间噪音", "content": "广场舞音响太响。",
           "caller_name": "陈德福", "caller_mobile": "13800138000"}


def png_bytes(size: tuple[int, int] = (8, 8), color: str = "red") -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


@dataclass
class World:
    app: Flask
    case_a: str
    code_a: str
    case_b: str
    attachment_a: str
    job: int
    clients: dict[str, FlaskClient] = field(default_factory=dict)  # browser sessions
    tokens: dict[str, str] = field(default_factory=dict)  # API bearer tokens

    @property
    def bare(self) -> FlaskClient:
        """A client without cookies, for API calls that carry a bearer token (or nothing)."""
        return self.app.test_client()

    def api_headers(self, persona: str, fresh: bool = False) -> dict[str, str]:
        """Bearer headers for a staff persona (``fresh``: a new token, for a call that ends it)."""
        token = self.tokens.get(persona)
        if token and fresh:
            token = api_token(self.app.test_client(), persona)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def fresh_client(self, persona: str) -> FlaskClient:
        client = self.app.test_client()
        if persona in STAFF:
            sign_in(client, persona)
        return client


def sign_in(client: FlaskClient, username: str) -> None:
    from fengqiao.demo_data import DEMO_PASSWORD

    response = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302, (username, response.status_code)


def build_world(tmp_path_factory, template, **config) -> World:
    from fengqiao.app import create_app
    from fengqiao.demo_data import load_demo_data
    from fengqiao.forms.uploads import save_upload

    folder = tmp_path_factory.mktemp("security-world")
    shutil.copyfile(template, folder / "fengqiao.db")
    settings = {
        "mode": "testing", "database_url": f"sqlite:///{folder / 'fengqiao.db'}",
        "instance_path": str(folder / "instance"), "secret_key": TEST_SECRET, "redis_url": None,
        "plugins": None,  # every installed plugin: their routes belong in the matrix too
        "rate_limits": UNLIMITED, "wtf_csrf_enabled": False, **config,
    }
    app = create_app(settings)
    with app.app_context():
        load_demo_data()
    clients = {persona: app.test_client() for persona in PERSONAS}
    tokens = {}
    for persona in STAFF:
        sign_in(clients[persona], persona)
        tokens[persona] = api_token(app.test_client(), persona)
    bare = app.test_client()

    def bearer(persona: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[persona]}"}

    from werkzeug.datastructures import FileStorage

    from fengqiao.db import db

    with app.test_request_context():
        saved = save_upload(FileStorage(io.BytesIO(png_bytes()), "路灯.png"), "/photos/0", True)
        db.commit()
        attachment_id = saved.id
    made = bare.post("/api/v1/forms/grid-incident/submissions",
                     json={**INCIDENT, "photos": [attachment_id]}, headers=bearer("zhangmin"))
    assert made.status_code == 201, made.get_data(as_text=True)
    case_a = made.get_json()
    made_b = bare.post(f"/api/v1/forms/livelihood-request/submissions?org={COMMUNITY_B}",
                                       json=REQUEST)
    assert made_b.status_code == 201, made_b.get_data(as_text=True)
    ledger = bare.post("/api/v1/metrics/ledgers", json={"kind": "cases"}, headers=bearer("shenli"))
    assert ledger.status_code == 202, ledger.get_data(as_text=True)
    job = ledger.get_json()["job"]
    assert bare.get(f"/api/v1/jobs/{job}", headers=bearer("shenli")).get_json()["status"] == "done"
    return World(app=app, case_a=case_a["case_number"], code_a=case_a["tracking_code"],
                 case_b=made_b.get_json()["case_number"], attachment_a=attachment_id, job=job,
                 clients=clients, tokens=tokens)
