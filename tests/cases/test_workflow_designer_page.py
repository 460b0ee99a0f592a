"""The workflow designer page without JavaScript (what a browser posts, through the Flask
client): tables instead of a JSON box, 添加一行 / 删除 that keep everything typed, saving a
draft, every problem beside its cell, the JSON tab, the live diagram endpoint and scope."""

from __future__ import annotations

import copy
import json
import re
from html import unescape
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from fengqiao.accounts.service import create_user
from fengqiao.cases import case_types
from fengqiao.db import db
from fengqiao.demo_data import DEMO_PASSWORD
from fengqiao.forms.core import CORE_DEFINITIONS
from fengqiao.models import User
from fengqiao.testing.plugin import csrf_token, login

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

DESIGN = "/admin/workflows/grid_incident/design"
DIAGRAM = "/admin/workflows/diagram"


class _Form(HTMLParser):
    """The fields a browser would post from the designer's form (not the <template> rows)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: list[list[str]] = []
        self.template = 0
        self.select: str | None = None
        self.first_option: list[str] | None = None
        self.chosen = False
        self.textarea: list[str] | None = None
        self.invalid: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "template":
            self.template += 1
        if self.template:
            return
        if a.get("aria-invalid") == "true" and a.get("name"):
            self.invalid.add(a["name"])
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "button"):
                return
            self.fields.append([a["name"], a.get("value", "")])
        elif tag == "select":
            self.select, self.first_option, self.chosen = a.get("name"), None, False
        elif tag == "option" and self.select:
            pair = [self.select, a.get("value", "")]
            if self.first_option is None:
                self.first_option = pair
            if "selected" in a and not self.chosen:
                self.fields.append(pair)
                self.chosen = True
        elif tag == "textarea" and a.get("name"):
            self.textarea = [a["name"], ""]

    def handle_endtag(self, tag):
        if tag == "template":
            self.template -= 1
        elif tag == "select" and self.select and not self.template:
            if not self.chosen and self.first_option:
                self.fields.append(self.first_option)
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            value = self.textarea[1]
            self.fields.append([self.textarea[0], value[1:] if value.startswith("\n") else value])
            self.textarea = None

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data


def _form(html: str) -> _Form:
    parser = _Form()
    parser.feed(html)
    return parser


def _set(fields: list[list[str]], name: str, value: str) -> None:
    for pair in fields:
        if pair[0] == name:
            pair[1] = value
            return
    fields.append([name, value])


def _post(client, fields: list[list[str]], **buttons):
    data = [(n, v) for n, v in fields] + list(buttons.items())
    from werkzeug.datastructures import MultiDict

    return client.post(DESIGN, data=MultiDict(data))


def _file_definition(key: str = "grid_incident") -> dict:
    return json.loads((CORE_DEFINITIONS / f"{key}.casetype.json").read_text(encoding="utf-8"))


def _draft(app, key: str = "grid_incident"):
    with app.app_context():
        draft = case_types.get_draft(key)
        return copy.deepcopy(draft.definition) if draft else None


def test_the_designer_is_tables_not_a_json_box_and_saves_without_javascript(login_as, demo):
    """Regression (issue 20): the workflow "designer" was a JSON textarea only. Now the page
    has state and transition tables, rows are added through submit buttons (no script) and
    the tables save a draft that the JSON tab then shows."""
    client = login_as("admin")
    html = client.get(DESIGN).get_data(as_text=True)
    assert 'name="states-0-key"' in html and 'name="transitions-0-to"' in html
    assert 'name="add_state"' in html and 'name="add_transition"' in html and 'name="remove-states-0"' in html
    assert "高级（JSON）" in html and 'src="/static/workflow_designer.js"' in html
    assert "<script>" not in html and ' style="' not in html.split("<main", 1)[1]
    fields = _form(html).fields

    html = _post(client, fields, add_state="1").get_data(as_text=True)  # 添加一行, no script
    fields = _form(html).fields
    assert ["states-9-key", "state1"] in fields
    _set(fields, "states-9-title", "复查中")
    html = _post(client, fields, add_transition="1").get_data(as_text=True)
    fields = _form(html).fields
    assert ["states-9-title", "复查中"] in fields  # nothing typed is lost
    assert '<option value="state1">复查中</option>' in html  # the new state is offered at once
    n = len(_file_definition()["workflow"]["transitions"])
    _set(fields, f"transitions-{n}-title", "提交复查")
    fields += [[f"transitions-{n}-from", "in_progress"], [f"transitions-{n}-roles", "staff"]]
    _set(fields, f"transitions-{n}-to", "state1")
    html = _post(client, fields, add_state="1").get_data(as_text=True)  # one more, then removed again
    fields = _form(html).fields
    html = _post(client, fields, **{"remove-states-10": "1"}).get_data(as_text=True)
    fields = _form(html).fields
    assert "states-10-key" not in dict(fields)
    # 复查中 needs a way out: a second transition back to 处置中
    html = _post(client, fields, add_transition="1").get_data(as_text=True)
    fields = _form(html).fields
    _set(fields, f"transitions-{n + 1}-title", "复查完成")
    _set(fields, f"transitions-{n + 1}-to", "closed")
    fields += [[f"transitions-{n + 1}-from", "state1"], [f"transitions-{n + 1}-roles", "grid_worker"]]
    _set(fields, "note", "增加复查")

    response = _post(client, fields, source="tables")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    draft = _draft(demo)
    assert {"key": "state1", "title": "复查中"} in draft["workflow"]["states"]
    added = draft["workflow"]["transitions"][n]
    assert added == {"name": "step1", "title": "提交复查", "from": ["in_progress"], "to": "state1", "roles": ["staff"]}
    original = _file_definition()
    assert draft["workflow"]["transitions"][:n] == original["workflow"]["transitions"]
    assert draft["sla"] == original["sla"]
    page = client.get(DESIGN).get_data(as_text=True)
    text = unescape(re.search(r'<textarea id="definition"[^>]*>\n?(.*?)</textarea>', page, re.S).group(1))
    assert json.loads(text) == draft  # the JSON tab shows what the tables saved
    assert "草稿保存于" in page and "复查中" in page


def test_an_unchanged_page_posts_back_the_same_definition(login_as, demo):
    client = login_as("admin")
    fields = _form(client.get(DESIGN).get_data(as_text=True)).fields
    assert _post(client, fields, source="tables").status_code == 302
    assert json.dumps(_draft(demo), ensure_ascii=False) == json.dumps(_file_definition(), ensure_ascii=False)


def test_every_problem_is_shown_beside_its_cell_and_in_the_list(login_as, demo):
    client = login_as("admin")
    fields = _form(client.get(DESIGN).get_data(as_text=True)).fields
    _set(fields, "transitions-2-to", "")
    _set(fields, "transitions-4-step_amount", "两天")
    _set(fields, "transitions-4-step_title", "整改")
    _set(fields, "states-1-title", "")
    response = _post(client, fields, source="tables")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    page = _form(html)
    assert {"transitions-2-to", "transitions-4-step_amount", "states-1-title"} <= page.invalid
    assert "两天" in html and "流转第 5 行" in html
    assert ["transitions-4-step_amount", "两天"] in page.fields  # shown again exactly as posted
    assert 'href="#f-transitions-2-to"' in html and 'href="#f-states-1-title"' in html
    assert _draft(demo) is None


def test_the_json_tab_saves_the_json(login_as, demo):
    client = login_as("admin")
    fields = _form(client.get(DESIGN).get_data(as_text=True)).fields
    definition = _file_definition()
    definition["workflow"]["states"][0]["title"] = "待受理（JSON）"
    _set(fields, "definition", json.dumps(definition, ensure_ascii=False))
    assert _post(client, fields, source="json").status_code == 302
    assert _draft(demo)["workflow"]["states"][0]["title"] == "待受理（JSON）"
    definition["workflow"]["transitions"][0]["to"] = "nowhere"
    _set(fields, "definition", json.dumps(definition, ensure_ascii=False))
    response = _post(client, fields, source="json")
    assert response.status_code == 422 and "nowhere" in response.get_data(as_text=True)
    _set(fields, "definition", "{broken")
    response = _post(client, fields, source="json")
    assert response.status_code == 422 and "JSON 格式错误" in response.get_data(as_text=True)


def test_the_diagram_endpoint_draws_the_edited_definition(login_as, demo):
    client = login_as("admin")
    token = csrf_token(client, DESIGN)
    definition = _file_definition()
    definition["workflow"]["states"].append({"key": "rechecking", "title": "待复查"})
    answer = client.post(DIAGRAM, json={"definition": definition}, headers={"X-CSRFToken": token})
    assert answer.status_code == 200
    assert "待复查" in answer.json["svg"] and answer.json["svg"].startswith("<svg")
    assert answer.json["problems"]  # nothing reaches 待复查 yet: drawn, and said
    del definition["workflow"]["states"]
    answer = client.post(DIAGRAM, json={"definition": definition}, headers={"X-CSRFToken": token})
    assert answer.status_code == 422 and answer.json["problems"]
    answer = client.post(DIAGRAM, json={"definition": {"x": "y" * 300_000}}, headers={"X-CSRFToken": token})
    assert answer.status_code == 413
    assert client.post(DIAGRAM, json={"nothing": 1}, headers={"X-CSRFToken": token}).status_code == 400
    assert client.post(DIAGRAM, json={"definition": definition}).status_code == 400  # no CSRF header


def test_another_streets_admin_gets_404(client, demo):
    with demo.app_context():
        create_user("chenghu_admin", DEMO_PASSWORD, "admin", "339901001", "澄湖街道管理员")
        create_user("shixi_admin", DEMO_PASSWORD, "admin", "339901100", "石溪镇管理员")
        db.commit()
        owner = db.scalar(sa.select(User).where(User.username == "chenghu_admin"))
        case_types.create_type(owner, "ebike_charging", "电动车违规充电隐患", "DC", "339901001", None)
        db.commit()
    other, owner_client = demo.test_client(), demo.test_client()
    login(other, "shixi_admin")
    assert other.get("/admin/workflows/ebike_charging/design").status_code == 404
    login(owner_client, "chenghu_admin")
    page = owner_client.get("/admin/workflows/ebike_charging/design")
    assert page.status_code == 200 and "澄湖街道及其下级单位" in page.get_data(as_text=True)
    fields = _form(page.get_data(as_text=True)).fields
    _set(fields, "title", "电动车违规充电")
    response = owner_client.post("/admin/workflows/ebike_charging/design", data={**dict(fields), "source": "tables"})
    assert response.status_code == 302
    with demo.app_context():
        assert case_types.get_draft("ebike_charging").definition["title"] == "电动车违规充电"
    response = other.post("/admin/workflows/ebike_charging/design",
                          data={**dict(fields), "csrf_token": csrf_token(other, "/admin/workflows"), "source": "tables"})
    assert response.status_code == 404
    answer = other.post(DIAGRAM, json={"definition": {}}, headers={"X-CSRFToken": csrf_token(other, "/admin/workflows")})
    assert answer.status_code == 422  # the drawing reads no type: any forms.manage admin may ask
