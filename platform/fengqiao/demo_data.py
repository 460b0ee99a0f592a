"""The fictional 云澜县 (339901; docs/domain.md, "Demo county"): units, grids, departments and staff.

Loading is idempotent: existing units and accounts are left as they are.
"""

from __future__ import annotations

from fengqiao.accounts.service import create_user
from fengqiao.db import db
from fengqiao.models import User
from fengqiao.orgs.service import create_unit, get_by_code

DEMO_PASSWORD = "Fengqiao2026"

# (code, name, level, parent code, kind)
UNITS: list[tuple[str, str, str, str | None, str]] = [
    ("339901", "云澜县", "county", None, "territorial"),
    ("339901001", "澄湖街道", "street", "339901", "territorial"),
    ("339901001001", "揽月社区", "community", "339901001", "territorial"),
    ("339901001001001", "揽月花园1–8幢网格", "grid", "339901001001", "territorial"),
    ("339901001001002", "湖滨路商业网格", "grid", "339901001001", "territorial"),
    ("339901001002", "桥东社区", "community", "339901001", "territorial"),
    ("339901001002001", "桥东新村网格", "grid", "339901001002", "territorial"),
    ("339901001002002", "锦绣苑网格", "grid", "339901001002", "territorial"),
    ("339901100", "石溪镇", "street", "339901", "territorial"),
    ("339901100201", "石溪村", "community", "339901100", "territorial"),
    ("339901100201001", "一、二组网格", "grid", "339901100201", "territorial"),
    ("339901100201002", "三、四组网格", "grid", "339901100201", "territorial"),
    ("339901100202", "竹坞村", "community", "339901100", "territorial"),
    ("339901100202001", "上坞下坞网格", "grid", "339901100202", "territorial"),
    ("339901100202002", "茶场片网格", "grid", "339901100202", "territorial"),
    ("339901901", "县指挥中心（12345）", "county", "339901", "department"),
    ("339901902", "综合行政执法局", "county", "339901", "department"),
    ("339901903", "住建局", "county", "339901", "department"),
    ("339901904", "自然资源和规划局", "county", "339901", "department"),
    ("339901905", "民政局", "county", "339901", "department"),
    ("339901906", "水务集团", "county", "339901", "department"),
    ("339901907", "燃气公司", "county", "339901", "department"),
    ("339901100901", "石溪司法所", "street", "339901100", "department"),
    ("339901001901", "澄湖派出所", "street", "339901001", "department"),
    ("339901001001901", "揽月花园物业服务中心", "community", "339901001001", "department"),
]

# (username, display name, role, org code, what they do)
STAFF: list[tuple[str, str, str, str, str]] = [
    ("admin", "系统管理员", "admin", "339901", "配置表单、流程、插件和用户"),
    ("ducha", "县督查员", "supervisor", "339901", "全县督办、统计"),
    ("lingdao", "县领导（只读）", "viewer", "339901", "查看统计"),
    ("wangqing", "王青", "staff", "339901901", "县指挥中心（12345）受理员（定级、派单、审核、回访）"),
    ("zhoujian", "周健", "leader", "339901001", "澄湖街道党工委书记（审批吹哨、延期、挂账）"),
    ("luojia", "罗佳", "staff", "339901001", "澄湖街道调度员"),
    ("qianli", "钱立", "mediator", "339901001", "澄湖街道矛盾纠纷调解中心调解员"),
    ("yuantao", "袁涛", "staff", "339901100", "石溪镇调度员"),
    ("gaojie", "高洁", "leader", "339901001001", "揽月社区书记（审批、积分初审）"),
    ("shenli", "沈丽", "staff", "339901001001", "揽月社区社工（受理、调度）"),
    ("tangmin", "唐敏", "mediator", "339901001001", "揽月社区人民调解员"),
    ("hanzhiming", "韩志明", "staff", "339901001002", "桥东社区书记"),
    ("fengguoping", "冯国平", "staff", "339901100201", "石溪村书记（一肩挑）"),
    ("caoxue", "曹雪", "staff", "339901100202", "竹坞村书记"),
    ("zhangmin", "张敏", "grid_worker", "339901001001001", "揽月花园网格员"),
    ("liuyang", "刘洋", "grid_worker", "339901001001002", "湖滨路网格员"),
    ("chenjing", "陈静", "grid_worker", "339901001002001", "桥东新村网格员"),
    ("xuwen", "许文", "grid_worker", "339901001002002", "锦绣苑网格员"),
    ("hujianhua", "胡建华", "grid_worker", "339901100201001", "石溪村一二组网格员"),
    ("yangmei", "杨梅", "grid_worker", "339901100201002", "石溪村三四组网格员"),
    ("jianglin", "蒋林", "grid_worker", "339901100202001", "竹坞村网格员"),
    ("zhuhong", "朱红", "grid_worker", "339901100202002", "茶场片网格员"),
    ("zhifa", "执法局联络员", "department", "339901902", "综合行政执法局"),
    ("zhujian", "住建局联络员", "department", "339901903", "住建局"),
    ("shuiwu", "水务集团联络员", "department", "339901906", "水务集团"),
    ("wuye", "物业联络员", "department", "339901001001901", "揽月花园物业服务中心（整改社区派来的隐患）"),
]

# The demo banner's hint per role: whom to sign in as first and what to try (one short line).
TRY_FIRST: dict[str, tuple[str, str]] = {
    "admin": ("admin", "配置表单、流程和插件"),
    "supervisor": ("ducha", "督办超期和上报的事项"),
    "viewer": ("lingdao", "看统计分析和台账"),
    "staff": ("shenli", "受理、派单、核查结案"),
    "leader": ("zhoujian", "审批吹哨和挂账"),
    "mediator": ("tangmin", "调解纠纷、登记协议"),
    "grid_worker": ("zhangmin", "手机上报事件、自行处置"),
    "department": ("zhifa", "签收派来的事项、反馈结果"),
}


def load_demo_data() -> dict[str, int]:
    """Create what is missing; returns how many units and users were added. Commits once at
    its end: the demo county is a unit of work of its own (commands, test fixtures, benches)."""
    added_units = added_users = 0
    for code, name, level, parent, kind in UNITS:
        if get_by_code(code) is None:
            create_unit(code, name, level, parent, kind)
            added_units += 1
    existing = set(db.scalars(User.__table__.select().with_only_columns(User.username)))
    for username, display_name, role, org, _duty in STAFF:
        if username not in existing:
            create_user(username, DEMO_PASSWORD, role, org, display_name)
            added_users += 1
    from fengqiao.workcalendar import announce_calendar_changed
    from fengqiao.workcalendar.seeding import seed_from_chinese_calendar

    seeded = seed_from_chinese_calendar()
    announce_calendar_changed(seeded)
    from flask import current_app

    from fengqiao.forms.core import sync_all_forms

    forms = sync_all_forms(current_app)
    db.commit()
    return {"units": added_units, "users": added_users, "forms": len(forms)}


def load_plugin_demo_data() -> list[str]:
    """Run each active plugin's demo loader (``ctx.add_demo_data``); returns their names.

    Separate from ``load_demo_data`` so that tests get the bare demo jurisdiction; a loader
    that fails is logged and the demo starts without its rows."""
    import logging

    from flask import current_app

    from fengqiao.plugins.state import is_active

    loaded = []
    for plugin, load in current_app.extensions.get("fengqiao.demo_loaders", []):
        if not is_active(plugin):
            continue
        try:
            load()
            db.commit()  # each plugin's rows are kept on their own: a failing loader loses only its own
            loaded.append(plugin)
        except Exception:
            db.rollback()
            logging.getLogger(__name__).exception("plugin %s: demo data failed", plugin)
    return loaded
