"""Demo rows for ``fengqiao demo``: a few rules, accounts and products in 揽月社区 / 竹坞村.
Idempotent: nothing is added when the plugin already has rules. The demo accounts' 查询码
is ``DEMO_PIN`` (real accounts get a random one)."""

from __future__ import annotations

import sqlalchemy as sa
from fengqiao.sdk.models import db, utcnow, write_lock
from fengqiao.sdk.orgs import org_unit

from fengqiao_points import ledger
from fengqiao_points.accounts import open_account
from fengqiao_points.models import PointsProduct, PointsRule

RULES = [  # (key, unit, name, points, cap, period)
    ("volunteer", "339901", "参加志愿服务（每次）", 5, 20, "month"),
    ("clean_yard", "339901001001", "庭院整洁户", 10, 10, "month"),
    ("mediation", "339901", "协助调解邻里纠纷", 20, None, None),
    ("litter", "339901", "乱扔垃圾经劝导不改", -5, None, None),
]
PRODUCTS = [("洗衣液 2kg", 30, 20, "县妇联"), ("大米 5kg", 50, 10, "石溪镇农业合作社"), ("毛巾", 10, 50, None)]
DEMO_PIN = "123456"
ACCOUNTS = [("王秀英", "339901001001", "household", 60), ("李建国", "339901001001", "household", 25),
            ("陈阿婆", "339901100202", "person", 80)]


def load() -> None:
    if db.scalar(sa.select(sa.func.count()).select_from(PointsRule)):
        return
    for key, code, name, points, cap, period in RULES:
        unit = org_unit(code)
        if unit is None:
            return
        db.add(PointsRule(key=key, version=1, org_code=code, org_path=unit.path, name=name, points=points,
                          cap_points=cap, cap_period=period, evidence_required=False,
                          proposers="staff,resident", active=True, created_at=utcnow()))
    for name, points, stock, donor in PRODUCTS:
        db.add(PointsProduct(name=name, points=points, stock=stock, donor=donor, active=True, created_at=utcnow()))
    db.commit()
    for name, code, kind, opening in ACCOUNTS:
        write_lock()
        account, _ = open_account(name, code, kind, pin=DEMO_PIN)
        ledger.post(account.id, opening, kind="adjustment", reason="期初积分（演示数据）")
        db.commit()
