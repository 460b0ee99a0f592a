"""Forms designed in Excel, end to end: the CLI, /admin/forms upload → diff → publish, and a
resident filling the published household survey through the API."""

from __future__ import annotations

import io

import openpyxl
import pytest
from xlsform_book import (
    HOUSEHOLD_CHOICES,
    HOUSEHOLD_SURVEY,
    VALID_ANSWERS,
    household_workbook,
    row,
    workbook,
)

from fengqiao.forms.xlsform import import_workbook
from fengqiao.testing.cli import run_cli
from fengqiao.testing.plugin import csrf_token, login

COMMUNITY = "339901001001"  # 揽月社区
SUBMIT = f"/api/v1/forms/household-survey/submissions?org={COMMUNITY}"


def _without(survey, name):
    return [r for r in survey if r[1] != name]


def _upload(client, content: bytes, filename: str = "survey.xlsx", token: str | None = None):
    data = {"workbook": (io.BytesIO(content), filename)}
    if token is not False:
        data["csrf_token"] = token or csrf_token(client, "/admin/forms")
    return client.post("/admin/forms/import-xlsx", data=data, content_type="multipart/form-data")


def _publish(client, key: str, confirm: bool = False):
    data = {"csrf_token": csrf_token(client, f"/admin/forms/{key}/edit")}
    if confirm:
        data["confirm_breaking"] = "1"
    return client.post(f"/admin/forms/{key}/publish", data=data)


def _errors(response) -> dict[str, str]:
    return {e["pointer"]: e["code"] for e in response.get_json()["errors"]}


def test_household_survey_uploaded_published_and_filled_by_a_resident(app, client, login_as):
    login_as("admin")
    uploaded = _upload(client, household_workbook())
    assert uploaded.status_code == 302 and uploaded.headers["Location"] == "/admin/forms/household-survey/edit"
    edit = client.get(uploaded.headers["Location"]).get_data(as_text=True)
    assert "已从工作簿导入「入户调查」为草稿" in edit and "这是第一次发布" in edit
    assert _publish(client, "household-survey").status_code == 302

    resident = app.test_client()
    assert resident.get("/forms/household-survey").status_code == 200  # renders for residents
    created = resident.post(SUBMIT, json=VALID_ANSWERS)
    assert created.status_code == 201, created.get_json()

    bad = {**VALID_ANSWERS, "head_age": 12, "head_mobile": "12345", "housing_other": "",
           "members": [{"m_name": "王建军", "m_relation": "spouse", "m_age": 200}], "total_income": 50000}
    refused = resident.post(SUBMIT, json=bad)
    assert refused.status_code == 422
    errors = _errors(refused)
    assert errors["/head_age"] == "minimum"
    messages = {e["pointer"]: e["message"] for e in refused.get_json()["errors"]}
    assert messages["/head_age"] == "年龄应在 16 到 120 岁之间"  # the workbook's 约束提示
    assert messages["/head_mobile"] != "年龄应在 16 到 120 岁之间"
    assert errors["/head_mobile"] == "format"
    assert errors["/housing_other"] == "required"  # required while 住房类型 is 其他
    assert errors["/members/0/m_age"] == "maximum"
    assert errors["/total_income"] == "maximum"  # the cross-field constraint, at the field


def test_upload_shows_the_diff_and_a_breaking_change_needs_confirmation(app, client, login_as):
    login_as("admin")
    _upload(client, household_workbook())
    _publish(client, "household-survey")
    changed = [r if r[1] != "head_name" else row("text", "head_name", "户主姓名（与户口簿一致）", "是")
               for r in _without(HOUSEHOLD_SURVEY, "building")]
    second = _upload(client, workbook(changed, HOUSEHOLD_CHOICES))
    assert second.status_code == 302
    edit = client.get("/admin/forms/household-survey/edit").get_data(as_text=True)
    assert "与第 1 版相比" in edit and "building" in edit and "head_name" in edit
    assert _publish(client, "household-survey").status_code == 409  # building removed: breaking
    assert _publish(client, "household-survey", confirm=True).status_code == 302
    same = _upload(client, workbook(changed, HOUSEHOLD_CHOICES))
    assert same.status_code == 302 and same.headers["Location"] == "/admin/forms/household-survey"


def test_a_workbook_with_problems_is_refused_whole(app, client, login_as):
    login_as("admin")
    survey = [row("slect_one yesno", "a", "题一"), row("text", "b", "题二"), row("text", "b", "题三")]
    response = _upload(client, workbook(survey, [], ["broken-survey", "坏表", "", "staff"]), "broken.xlsx")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "工作簿 broken.xlsx 未导入，共 2 处问题" in page
    assert "<strong>survey 表第 2 行「类型」列</strong>：未知题型 “slect_one yesno”" in page
    assert "<strong>survey 表第 4 行「字段名」列</strong>：字段名 “b” 重复（已在第 3 行使用）" in page
    assert client.get("/admin/forms/broken-survey").status_code == 404  # nothing saved
    nothing = client.post("/admin/forms/import-xlsx", data={"csrf_token": csrf_token(client, "/admin/forms")})
    assert nothing.status_code == 422 and "请选择要导入的 .xlsx 工作簿" in nothing.get_data(as_text=True)
    garbage = _upload(client, b"PK\x03\x04 not really", "fake.xlsx")
    assert garbage.status_code == 422 and "不是有效的 Excel" in garbage.get_data(as_text=True)


def test_upload_limits_csrf_and_permissions(app, client, login_as):
    login_as("admin")
    token = csrf_token(client, "/admin/forms")
    big = _upload(client, b"\0" * ((1 << 20) + 10), token=token)
    assert big.status_code == 422 and "文件过大：表单工作簿最大 1 MB" in big.get_data(as_text=True)
    huge = _upload(client, b"\0" * (3 << 20), token=token)
    assert huge.status_code == 413  # the app-wide body limit, before any reading
    assert _upload(client, household_workbook(), token=False).status_code == 400  # no CSRF token
    assert client.get("/admin/forms/household-survey").status_code == 404

    staff = app.test_client()  # a community secretary: no forms.manage
    login(staff, "shenli")
    assert _upload(staff, household_workbook(), token=csrf_token(staff, "/")).status_code == 403
    assert staff.get("/admin/forms/xlsform-template.xlsx").status_code == 403
    assert staff.get("/admin/forms/grid-incident/definition.xlsx").status_code == 403


def test_template_and_export_downloads_read_back(app, client, login_as):
    login_as("admin")
    assert "下载模板工作簿" in client.get("/admin/forms").get_data(as_text=True)
    template = client.get("/admin/forms/xlsform-template.xlsx")
    assert template.status_code == 200 and template.mimetype.endswith("spreadsheetml.sheet")
    assert set(openpyxl.load_workbook(io.BytesIO(template.data)).sheetnames) == {"survey", "choices", "settings"}
    assert import_workbook(template.data)["key"] == "household-visit-example"

    exported = client.get("/admin/forms/grid-incident/definition.xlsx")
    assert exported.status_code == 200
    assert exported.headers["Content-Disposition"] == 'attachment; filename="grid-incident-v1.xlsx"'
    published = client.get("/admin/forms/grid-incident/definition.json").get_json()
    assert import_workbook(exported.data) == published
    assert "definition.xlsx" in client.get("/admin/forms/grid-incident").get_data(as_text=True)
    assert client.get("/admin/forms/grid-incident/definition.xlsx?version=9").status_code == 404
    assert client.get("/admin/forms/grid-incident/definition.xlsx?version=x").status_code == 404
    assert client.get("/admin/forms/no-such-form/definition.xlsx").status_code == 404
    same = _upload(client, exported.data)
    assert same.status_code == 302 and same.headers["Location"] == "/admin/forms/grid-incident"


@pytest.fixture
def cli_env(database_url, tmp_path):
    return {"FENGQIAO_DATABASE_URL": database_url, "FENGQIAO_INSTANCE_PATH": str(tmp_path / "i"),
            "FENGQIAO_MODE": "testing"}


def test_cli_imports_a_workbook_and_refuses_a_breaking_change(cli_env, tmp_path):
    path = tmp_path / "household.xlsx"
    path.write_bytes(household_workbook())
    assert run_cli(["forms", "check", str(path)], {}).returncode == 0
    first = run_cli(["forms", "import", str(path), "--publish"], cli_env)
    assert first.returncode == 0 and "household-survey: 已发布第 1 版" in first.stdout, first.stderr
    again = run_cli(["forms", "import", str(path), "--publish"], cli_env)
    assert again.returncode == 0 and "未改动" in again.stdout

    path.write_bytes(workbook(_without(_without(HOUSEHOLD_SURVEY, "building"), "remark"), HOUSEHOLD_CHOICES))
    refused = run_cli(["forms", "import", str(path), "--publish"], cli_env)
    assert refused.returncode == 1
    assert "不兼容的修改" in refused.stderr and "building" in refused.stderr and "remark" in refused.stderr
    allowed = run_cli(["forms", "import", str(path), "--publish", "--allow-breaking"], cli_env)
    assert allowed.returncode == 0 and "已发布第 2 版" in allowed.stdout

    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(workbook([row("slect_one x", "a", "A")], [], ["broken", "坏表", "", "staff"]))
    failed = run_cli(["forms", "import", str(broken)], cli_env)
    assert failed.returncode == 1
    assert f"{broken}: survey 表第 2 行「类型」列：未知题型 “slect_one x”" in failed.stderr

    template = tmp_path / "template.xlsx"
    made = run_cli(["forms", "template", str(template)], {})
    assert made.returncode == 0 and import_workbook(template.read_bytes())["key"] == "household-visit-example"
