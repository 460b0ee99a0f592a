"""Two versions of a case type side by side (issue 20, 安全变更): the pure diff in Chinese and
the compare page reached from the version history."""

from __future__ import annotations

import copy
import json
import re

import pytest
import sqlalchemy as sa

from fengqiao.cases import case_types
from fengqiao.cases.case_type_diff import (
    ADDED,
    CHANGED,
    REMOVED,
    SKIPPED,
    diff_definitions,
    json_lines,
)
from fengqiao.db import db
from fengqiao.forms.core import CORE_DEFINITIONS
from fengqiao.models import User
from fengqiao.testing.plugin import login

COMPARE = "/admin/workflows/grid_incident/compare"


def _grid() -> dict:
    return json.loads((CORE_DEFINITIONS / "grid_incident.casetype.json").read_text(encoding="utf-8"))


def _changed() -> dict:
    """grid_incident with a shorter default limit, a new tier, 受理 renamed and given a guard and
    a step limit, 自行处置 removed and a state 待复核 with a transition into it added."""
    data = copy.deepcopy(_grid())
    data["sla"]["default"] = {"working_days": 2}
    data["sla"]["tiers"]["minor"] = {"working_days": 10}
    transitions = data["workflow"]["transitions"]
    accept = next(t for t in transitions if t["name"] == "accept")
    accept["title"] = "受理登记"
    accept["guards"] = [*accept.get("guards", []), "comment_required"]
    accept["step_limit"] = {"title": "派单", "default": {"working_hours": 2}}
    data["workflow"]["transitions"] = [t for t in transitions if t["name"] != "self_handle"]
    data["workflow"]["states"].append({"key": "rechecking", "title": "待复核"})
    data["workflow"]["transitions"].append({"name": "recheck", "title": "送复核", "from": ["reported_back"],
                                            "to": "rechecking", "roles": ["staff"], "levels": ["street"]})
    data["workflow"]["transitions"].append({"name": "recheck_pass", "title": "复核通过", "from": ["rechecking"],
                                            "to": "closed", "roles": ["staff"]})
    return data


def test_the_diff_names_every_change_in_chinese():
    diff = diff_definitions(_grid(), _changed())
    basics = {row.label: (row.old, row.new) for row in diff.basics}
    assert basics["时限：默认"] == ("3 个工作日", "2 个工作日")
    assert basics["时限：minor"] == ("", "10 个工作日")
    assert "时限：urgent" not in basics  # unchanged rows are left out

    states = {item.key: item for item in diff.states}
    assert list(states) == ["rechecking"] and states["rechecking"].kind == ADDED
    assert [(r.label, r.old, r.new) for r in states["rechecking"].rows] == [("标题", "", "待复核")]

    moves = {item.key: item for item in diff.transitions}
    assert moves["accept"].kind == CHANGED and moves["accept"].title == "受理登记"
    rows = {r.label: (r.old, r.new) for r in moves["accept"].rows}
    assert rows["标题"] == ("受理", "受理登记")
    assert rows["条件"][1].endswith("须填写意见") and rows["条件"][0] != rows["条件"][1]
    assert rows["时限"] == ("", "环节时限 派单 2 工作小时")
    assert set(rows) == {"标题", "条件", "时限"}  # 从, 到, 角色 … unchanged
    assert moves["self_handle"].kind == REMOVED and all(r.new == "" for r in moves["self_handle"].rows)
    added = {r.label: r.new for r in moves["recheck"].rows}
    assert moves["recheck"].kind == ADDED
    assert added["从"] == "已上报核查（reported_back）" or added["从"].endswith("（reported_back）")
    assert added["到"] == "待复核（rechecking）" and added["角色"] == "工作人员（限街道）"

    same = diff_definitions(_grid(), _grid())
    assert same.empty and all(line.kind in ("same", SKIPPED) for line in same.lines)


def test_the_json_diff_pairs_lines_and_folds_unchanged_runs():
    old = {"a": 1, "b": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "c": "x"}
    new = {"a": 1, "b": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "c": "y", "d": True}
    lines = json_lines(old, new, context=2)
    kinds = [line.kind for line in lines]
    assert kinds[0] == SKIPPED and lines[0].count > 0  # the long unchanged start folds away
    changed = [line for line in lines if line.kind == "changed"]
    assert changed[0].old.strip() == '"c": "x"' and changed[0].new.strip() == '"c": "y",'
    assert any(line.kind == ADDED and line.new.strip() == '"d": true' and line.old_no is None for line in lines)


@pytest.fixture
def two_versions(demo):
    with demo.app_context():
        admin = db.scalar(sa.select(User).where(User.username == "admin"))
        case_types.save_version("grid_incident", json.dumps(_changed(), ensure_ascii=False), "时限调整", admin)
        db.commit()
    return demo


def test_the_compare_page_shows_both_versions_side_by_side(client, login_as, two_versions):
    login_as("admin")
    history = client.get("/admin/workflows/grid_incident/versions").get_data(as_text=True)
    assert f'action="{COMPARE}"' in history and 'name="a"' in history and 'name="b"' in history

    response = client.get(f"{COMPARE}?a=1&b=2")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count("<svg") == 2 and "第 1 版" in html and "第 2 版" in html
    basics = re.search(r'<tr data-label="时限：默认">(.*?)</tr>', html, re.S).group(1)
    assert re.search(r'class="wf-old">3 个工作日</td>\s*<td class="wf-new">2 个工作日<', basics)
    assert 'data-item="accept" data-kind="changed" data-label="标题"' in html
    assert 'data-item="self_handle" data-kind="removed"' in html
    assert 'data-item="rechecking" data-kind="added"' in html
    assert "须填写意见" in html and "环节时限 派单 2 工作小时" in html
    assert 'class="wf-line-changed"' in html and "JSON 定义对比" in html
    assert "<script>" not in html and 'style="' not in html  # strict CSP

    default = client.get(COMPARE)  # neither given: the one before the latest against the latest
    assert default.status_code == 200 and 'data-item="accept"' in default.get_data(as_text=True)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_bad_versions_are_422_in_chinese_and_unknown_types_404(client, login_as, two_versions):
    login_as("admin")
    for query, message in (("a=x&b=2", "版本号应为正整数：x"), ("a=1&b=9", "没有第 9 版（最新为第 2 版）"),
                           ("a=2&b=2", "请选择两个不同的版本"), ("a=1", "请选择要对比的两个版本"),
                           ("a=0&b=1", "版本号应为正整数：0")):
        response = client.get(f"{COMPARE}?{query}")
        assert response.status_code == 422, query
        assert message in response.get_data(as_text=True), query
    assert client.get("/admin/workflows/no_such_type/compare?a=1&b=2").status_code == 404
    staff = client.application.test_client()  # staff without forms.manage
    login(staff, "shenli")
    assert staff.get(f"{COMPARE}?a=1&b=2").status_code == 403


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_another_jurisdictions_type_is_404(client, demo):
    """A type limited to 揽月社区 is unknown to an admin of 桥东社区: no compare page either."""
    from fengqiao.models import Membership, OrgUnit

    with demo.app_context():
        admin = db.scalar(sa.select(User).where(User.username == "admin"))
        limited = {**_grid(), "org": "339901001001"}
        case_types.save_version("grid_incident", json.dumps(limited, ensure_ascii=False), "仅揽月社区", admin)
        other = db.scalar(sa.select(User).where(User.username == "hanzhiming"))
        unit = db.scalar(sa.select(OrgUnit).where(OrgUnit.code == "339901001002"))
        db.add(Membership(user_id=other.id, org_id=unit.id, role="admin"))
        db.commit()
    login(client, "hanzhiming")
    assert client.get("/admin/workflows/whistle/compare").status_code == 422  # a county-wide type: readable
    assert client.get(f"{COMPARE}?a=1&b=2").status_code == 404
