"""Screens: statement, shelf with 账户号 + 查询码, counter, notice board with objections,
rules edited in the browser (versioned), ranking, masked Excel exports."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fengqiao.sdk.models import db, utcnow
from fengqiao.sdk.testing import csrf_token, login, submit_form, walk_case
from openpyxl import load_workbook

from fengqiao_points import claims
from fengqiao_points.models import PointsAccount, PointsClaim, PointsRedemption, PointsRule

pytestmark = [pytest.mark.plugins("points"),
              pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def signed_in(app, username: str):
    """A fresh client signed in as ``username`` (one client per person)."""
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def post(client, url: str, data: dict, page: str | None = None):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, page or url)})


def test_pages_need_login_and_permission(app, client, demo):
    assert client.get("/p/points/").status_code == 302
    assert signed_in(app, "lingdao").get("/p/points/").status_code == 403  # viewer
    grid_worker = signed_in(app, "zhangmin")  # may view and propose, not manage
    assert grid_worker.get("/p/points/").status_code == 200
    assert grid_worker.get("/p/points/counter").status_code == 403


def test_open_account_in_the_browser_and_the_resident_signs_in(app, client, login_as):
    login_as("shenli")
    page = client.get("/p/points/accounts/new").get_data(as_text=True)
    assert "桥东社区" not in page  # only units she manages
    bad = post(client, "/p/points/accounts/new", {"name": "", "org": "339901001002", "kind": "x"})
    html = bad.get_data(as_text=True)
    assert "请填写户主/姓名" in html and "请选择所属社区/村" in html and "请选择账户类型" in html
    made = post(client, "/p/points/accounts/new", {"name": "李建国", "org": "339901001001", "kind": "household"})
    html = made.get_data(as_text=True)
    number = re.search(r"data-number>(\d{8})<", html).group(1)
    pin = re.search(r"data-pin>(\d{6})<", html).group(1)

    resident = app.test_client()
    wrong = post(resident, "/p/points/shelf/login", {"number": number, "pin": "000000" if pin != "000000" else "111111"},
                 "/p/points/shelf")
    assert wrong.status_code == 422 and "账户号或查询码不正确" in wrong.get_data(as_text=True)
    ok = post(resident, "/p/points/shelf/login", {"number": number, "pin": pin}, "/p/points/shelf")
    assert ok.status_code == 302
    shelf = resident.get("/p/points/shelf").get_data(as_text=True)
    assert 'data-balance>0<' in shelf and "李**" in shelf and "李建国" not in shelf


def test_five_wrong_pins_lock_self_service(app, make_account):
    account = make_account()
    resident = app.test_client()
    for _ in range(5):
        post(resident, "/p/points/shelf/login", {"number": account["number"], "pin": "x"}, "/p/points/shelf")
    locked = post(resident, "/p/points/shelf/login", {"number": account["number"], "pin": account["pin"]},
                  "/p/points/shelf")
    assert locked.status_code == 422 and "错误次数过多" in locked.get_data(as_text=True)


def test_shelf_reserve_cancel_and_counter_collect(app, client, bearer, login_as, make_account, make_product):
    account = make_account(balance=30, admin=bearer("admin"))
    product = make_product(name="大米 5kg", points=20, stock=2)
    resident = app.test_client()
    post(resident, "/p/points/shelf/login", {"number": account["number"], "pin": account["pin"]}, "/p/points/shelf")
    post(resident, "/p/points/shelf/reserve", {"product": product, "quantity": "1"}, "/p/points/shelf")
    html = resident.get("/p/points/shelf").get_data(as_text=True)
    assert "预约成功" in html and "data-balance>10<" in html
    again = post(resident, "/p/points/shelf/reserve", {"product": product, "quantity": "1"}, "/p/points/shelf")
    assert again.status_code == 302
    assert "积分余额不足" in resident.get("/p/points/shelf").get_data(as_text=True)

    login_as("shenli")
    counter = client.get(f"/p/points/counter?account={account['number']}").get_data(as_text=True)
    assert "大米 5kg" in counter and "王**" in counter
    with app.app_context():
        rid = db.scalar(sa.select(PointsRedemption.id))
    post(client, f"/p/points/counter/{rid}/collect", {"account_number": account["number"]}, "/p/points/counter")
    with app.app_context():
        assert db.get(PointsRedemption, rid).status == "collected"
        assert db.get(PointsRedemption, rid).closed_by == "shenli"
    assert "没有待领取的预约" in client.get("/p/points/counter").get_data(as_text=True)
    cancel = post(resident, f"/p/points/shelf/cancel/{rid}", {}, "/p/points/shelf")
    assert cancel.status_code == 302
    assert "已领取" in resident.get("/p/points/shelf").get_data(as_text=True)


def test_release_job_refunds_overdue_reservations_once(app, client, bearer, staff, make_account, make_product):
    account = make_account(balance=10, admin=bearer("admin"))
    product = make_product(points=10, stock=1)
    rid = client.post("/api/v1/p/points/redemptions", json={"account": account["id"], "product": product},
                      headers=staff).get_json()["id"]
    from fengqiao_points.redemptions import release_overdue

    with app.test_request_context():
        assert release_overdue() == 0  # not yet 7 days
        db.get(PointsRedemption, rid).created_at = utcnow() - timedelta(days=8)
        db.commit()
        assert release_overdue() == 1
        assert release_overdue() == 0
        assert db.get(PointsRedemption, rid).status == "expired"
        assert db.get(PointsAccount, account["id"]).balance == 10


@pytest.fixture
def rule(make_rule):
    return make_rule(key="clean", name="庭院整洁户", cap_points=10, proposers="staff")


def test_propose_page_checks_the_cap(client, login_as, make_account, rule):
    account = make_account()
    login_as("zhangmin")
    url = f"/p/points/claims/new?account={account['number']}"
    assert "庭院整洁户" in client.get(url).get_data(as_text=True)
    first = post(client, "/p/points/claims/new", {"account": account["number"], "rule": rule,
                                                  "description": "院子打扫得很干净"}, url)
    assert first.status_code == 302
    second = post(client, "/p/points/claims/new", {"account": account["number"], "rule": rule,
                                                   "description": "又打扫了一次"}, url)
    html = second.get_data(as_text=True)
    assert "超过规则「庭院整洁户」每月上限 10 分" in html and "待审核 10 分" in html
    empty = post(client, "/p/points/claims/new", {"account": account["number"]}, url).get_data(as_text=True)
    assert "请填写积分规则" in empty and "请填写事迹说明" in empty


def test_board_masks_names_and_takes_objections(app, client, bearer, make_account, rule):
    account = make_account(name="赵大海")
    number = submit_form(client, "points-claim", {"account": account["number"], "rule": rule,
                                                  "description": "院子整洁"},
                         headers=bearer("zhangmin"), org="339901001001")["case_number"]
    walk_case(client, number, [("first_approve", {})], bearer("shenli"))
    walk_case(client, number, [("second_approve", {})], bearer("luojia"))
    public = app.test_client()
    board = public.get("/p/points/board").get_data(as_text=True)
    assert number in board and "赵**" in board and "赵大海" not in board
    url = f"/p/points/board/{number}/object"
    short = post(public, url, {"reason": "不"})
    assert short.status_code == 422 and "异议理由至少 5 个字" in short.get_data(as_text=True)
    done = post(public, url, {"reason": "这户院子堆满杂物，并不整洁"})
    assert done.status_code == 302
    assert number not in public.get("/p/points/board").get_data(as_text=True)
    assert public.get(url).status_code == 404
    with app.app_context():
        assert db.scalar(sa.select(PointsClaim.state)) == "objected"


def test_admin_edits_a_rule_as_a_new_version(app, client, login_as, rule):
    login_as("admin")
    page = client.get(f"/p/points/rules/{rule}/edit").get_data(as_text=True)
    assert "庭院整洁户" in page
    bad = post(client, f"/p/points/rules/{rule}/edit", {"name": "庭院整洁户", "org": "339901", "points": "0",
                                                       "proposers": "staff"})
    assert "分值不能为 0" in bad.get_data(as_text=True) or "分值应在" in bad.get_data(as_text=True)
    ok = post(client, f"/p/points/rules/{rule}/edit", {"name": "庭院整洁户", "org": "339901", "points": "15",
                                                      "cap_points": "30", "cap_period": "month",
                                                      "proposers": "staff"})
    assert ok.status_code == 302
    with app.app_context():
        versions = [(r.version, r.points, r.active) for r in db.scalars(
            sa.select(PointsRule).where(PointsRule.key == "clean").order_by(PointsRule.version))]
    assert versions == [(1, 10, False), (2, 15, True)]
    assert signed_in(app, "shenli").get(f"/p/points/rules/{rule}/edit").status_code == 403


def test_ranking_and_masked_exports(app, client, bearer, login_as, make_account, rule):
    account = make_account(name="孙=HYPERLINK")
    number = submit_form(client, "points-claim", {"account": account["number"], "rule": rule,
                                                  "description": "院子整洁"},
                         headers=bearer("zhangmin"), org="339901001001")["case_number"]
    walk_case(client, number, [("first_approve", {})], bearer("shenli"))
    walk_case(client, number, [("second_approve", {})], bearer("luojia"))
    with app.test_request_context():
        db.scalar(sa.select(PointsClaim)).notice_ends_at = utcnow() - timedelta(seconds=1)
        db.commit()
        assert claims.end_notices() == 1
    login_as("shenli")
    ranking = client.get("/p/points/ranking").get_data(as_text=True)
    assert "揽月社区" in ranking and '<td class="num">10</td>' in ranking
    sheet = load_workbook(io.BytesIO(client.get("/p/points/export/ledger.xlsx").data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][2] == "账户号" and rows[2][3].startswith("孙*") and "HYPERLINK" not in rows[2][3]
    assert rows[2][6] == 10
    redemptions = client.get("/p/points/export/redemptions.xlsx")
    assert redemptions.status_code == 200


def test_statement_page(app, client, bearer, login_as, make_account):
    account = make_account(balance=12, admin=bearer("admin"))
    login_as("shenli")
    html = client.get(f"/p/points/accounts/{account['id']}").get_data(as_text=True)
    assert "data-balance>12 分<" in html and "期初积分导入" in html and "人工调整" in html
    assert signed_in(app, "hanzhiming").get(f"/p/points/accounts/{account['id']}").status_code == 404


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


PNG = _png()


def test_product_photo_is_checked_by_its_bytes(app, client, login_as):
    login_as("shenli")
    token = csrf_token(client, "/p/points/products")
    fake = client.post("/p/points/products", data={"csrf_token": token, "name": "毛巾", "points": "10", "stock": "3",
                                                  "photo": (io.BytesIO(b"<html>x</html>"), "a.png", "image/png")},
                       content_type="multipart/form-data")
    assert "照片应为 1MB 以内的 JPG、PNG、GIF 或 WebP 图片" in fake.get_data(as_text=True)
    polyglot = client.post("/p/points/products", data={
        "csrf_token": token, "name": "毛巾", "points": "10", "stock": "3",
        "photo": (io.BytesIO(b"\x89PNG\r\n\x1a\n<script>alert(1)</script>"), "b.png", "image/png")},
        content_type="multipart/form-data")
    assert "照片应为" in polyglot.get_data(as_text=True)  # a PNG signature is not a picture
    ok = client.post("/p/points/products", data={"csrf_token": token, "name": "毛巾", "points": "10", "stock": "3",
                                                "photo": (io.BytesIO(PNG + b"<script>"), "a.png", "image/png")},
                     content_type="multipart/form-data")
    assert ok.status_code == 302
    with app.app_context():
        from fengqiao_points.models import PointsProduct

        product_id = db.scalar(sa.select(PointsProduct.id))
    photo = app.test_client().get(f"/p/points/products/{product_id}/photo")
    assert photo.status_code == 200 and photo.mimetype == "image/png"
    assert photo.data.startswith(b"\x89PNG") and b"<script>" not in photo.data  # re-encoded


def test_counter_reserves_on_behalf_and_products_of_other_units_stay_off_the_shelf(
        app, client, bearer, staff, login_as, make_account, make_product):
    account = make_account(balance=100, admin=bearer("admin"))
    local = make_product(name="本社区毛巾", points=10, stock=5)
    other = client.post("/api/v1/p/points/products", json={"name": "石溪镇大米", "points": 10, "stock": 5,
                                                           "org": "339901100"}, headers=bearer("admin"))
    assert other.status_code == 201
    other_id = other.get_json()["id"]
    refused = client.post("/api/v1/p/points/redemptions", json={"account": account["id"], "product": other_id},
                          headers=staff)
    assert refused.status_code == 404
    resident = app.test_client()
    post(resident, "/p/points/shelf/login", {"number": account["number"], "pin": account["pin"]}, "/p/points/shelf")
    shelf = resident.get("/p/points/shelf").get_data(as_text=True)
    assert "本社区毛巾" in shelf and "石溪镇大米" not in shelf
    login_as("shenli")
    post(client, "/p/points/counter/reserve", {"account": account["id"], "account_number": account["number"],
                                               "product": local, "quantity": "2"}, "/p/points/counter")
    with app.app_context():
        redemption = db.scalar(sa.select(PointsRedemption))
        assert (redemption.quantity, redemption.points, redemption.reserved_by) == (2, 20, "shenli")


def test_resident_proposes_a_claim_for_their_own_household(app, make_account, demo):
    with app.app_context():
        db.add(PointsRule(key="yard", version=1, org_code="339901", org_path="/339901/", name="美丽庭院",
                          points=5, cap_points=None, cap_period=None, evidence_required=False,
                          proposers="resident", active=True, created_at=utcnow()))
        db.commit()
        rule_id = db.scalar(sa.select(PointsRule.id))
    account = make_account()
    resident = app.test_client()
    post(resident, "/p/points/shelf/login", {"number": account["number"], "pin": account["pin"]}, "/p/points/shelf")
    empty = post(resident, "/p/points/shelf/claim", {"rule": "", "description": ""})
    assert empty.status_code == 422 and "请填写积分规则" in empty.get_data(as_text=True)
    done = post(resident, "/p/points/shelf/claim", {"rule": str(rule_id), "description": "门前屋后整理干净"})
    assert done.status_code == 302
    assert "已提交申报" in resident.get("/p/points/shelf").get_data(as_text=True)
    with app.app_context():
        claim = db.scalar(sa.select(PointsClaim))
        assert (claim.account_id, claim.rule_id, claim.points, claim.state) == (account["id"], rule_id, 5, "proposed")


def test_dashboard_card_and_menu(app, client, bearer, staff, login_as, make_account, make_product):
    account = make_account(balance=10, admin=bearer("admin"))
    product = make_product(points=10, stock=1)
    client.post("/api/v1/p/points/redemptions", json={"account": account["id"], "product": product}, headers=staff)
    login_as("shenli")
    html = client.get("/").get_data(as_text=True)
    assert "data-waiting>1<" in html and 'href="/p/points/"' in html
    other = signed_in(app, "hanzhiming").get("/").get_data(as_text=True)  # 桥东社区: its own (none)
    assert "data-waiting>0<" in other
