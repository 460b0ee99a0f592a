"""A living demo county: about 300 cases of the past year in every state of every core type.

``fengqiao demo`` (and ``fengqiao demo-data load --with-cases``) call :func:`load_living_demo`
after the demo county (``demo_data.load_demo_data``); the test fixture ``demo`` never does,
so tests keep counting an empty county.

Every case is made the way real ones are: submitted through the form service and moved
through the workflow engine by the demo account whose job the step is, each step at its own
moment of the past. The engine, the SLA clock and the working-day calendar read the time
through ``fengqiao.db.utcnow``, so the loader turns that clock back (:func:`_clock`):
deadlines, 挂账 pauses, check-in limits and escalation cool-downs come out exactly as they
would have. Overdue cases are swept at their deadline (the periodic sweep's own code), so
their 超期 rows and automatic 上报 fall when they would have; a last sweep at the real time
marks what is due soon.

The jobs the history enqueued (notifications of long-past steps) are written off as done,
except the last twelve hours', which run as usual (before the loader returns, so the demo's
inboxes hold them when its banner appears). The content comes from
``cases.synthetic_content`` (realistic, fake names; mobile numbers 1380013xxxx, the placeholder
the project's tests and docs use: China reserves no fictional range, and the demo sends no SMS). Loading is idempotent: a database that holds any case of a core
type is left as it is, so a second run, or a county with real work in it, gains nothing
(the plugins' own demo rows do not count).
"""

from __future__ import annotations

import contextlib
import random
import struct
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO

import sqlalchemy as sa
from flask import current_app
from werkzeug.datastructures import FileStorage

from fengqiao import db as db_module
from fengqiao.cases import synthetic_content as content
from fengqiao.db import LOCAL_TZ, db
from fengqiao.models import Case, JobRecord, User

SEED = 20260422
BATCH = 25  # cases per commit
RECENT_JOBS = timedelta(hours=12)  # notifications of the last hours' steps are still news
CORE_TYPES = ("grid_incident", "livelihood_request", "dispute_mediation", "proxy_service", "whistle")

# (grid, its grid worker, its community, the community's staff, its street's staff)
PLACES = [
    ("339901001001001", "zhangmin", "339901001001", "shenli", "luojia"),
    ("339901001001002", "liuyang", "339901001001", "shenli", "luojia"),
    ("339901001002001", "chenjing", "339901001002", "hanzhiming", "luojia"),
    ("339901001002002", "xuwen", "339901001002", "hanzhiming", "luojia"),
    ("339901100201001", "hujianhua", "339901100201", "fengguoping", "yuantao"),
    ("339901100201002", "yangmei", "339901100201", "fengguoping", "yuantao"),
    ("339901100202001", "jianglin", "339901100202", "caoxue", "yuantao"),
    ("339901100202002", "zhuhong", "339901100202", "caoxue", "yuantao"),
]
PLACE_WEIGHTS = [30, 14, 10, 8, 10, 8, 10, 10]  # 揽月花园 (zhangmin, shenli) is the showcase
# county departments with a demo liaison: (code, username)
DEPARTMENTS = [("339901902", "zhifa"), ("339901903", "zhujian"), ("339901906", "shuiwu")]
SHOWCASE_ROOMS = "揽月花园 室"  # rooms of the showcase grid's estate, as the address book is searched
PROPERTY = ("339901001001901", "wuye")  # 揽月花园物业, reachable from 揽月社区
CENTRE = "wangqing"  # 县指挥中心（12345）
STREET_LEADER = "zhoujian"  # 澄湖街道: approves 吹哨
MEDIATOR = {"339901001001": "tangmin"}  # 揽月社区's mediator; elsewhere the community's staff


@dataclass
class Step:
    actor: str  # the demo account whose job the step is
    action: str
    fields: dict | None = None
    comment: str = ""
    hours: float = 4.0  # after the previous step


@dataclass
class Plan:
    form: str
    data: dict
    submitter: str  # a demo account (staff keying in, a grid worker reporting)
    org: str | None  # None: the submitter's own unit (the 12345 centre)
    steps: list[Step]
    created: datetime
    overdue: bool = False  # left open past its deadline: swept then


# ---- the clock --------------------------------------------------------------------------


@contextlib.contextmanager
def _clock(at: datetime) -> Iterator[list[datetime]]:
    """Turn ``utcnow`` back: every loaded module that imported it reads ``now[0]`` instead."""
    original = db_module.utcnow
    now = [at]

    def fake() -> datetime:
        return now[0]

    patched = []
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith("fengqiao"):
            continue
        if getattr(module, "utcnow", None) is original:
            module.utcnow = fake
            patched.append(module)
    try:
        yield now
    finally:
        for module in patched:
            module.utcnow = original


class _Collector:
    """Stands in for the job dispatcher while history is written: the jobs stay pending."""

    backend = "collector"

    def dispatch(self, pending) -> None:
        pass

    def flush(self, timeout: float = 10) -> None:
        pass


# ---- content ----------------------------------------------------------------------------


def _mobile(rng: random.Random) -> str:
    return f"1380013{rng.randrange(10**4):04d}"  # the tests' placeholder numbers (see the docstring)


def _png(rng: random.Random) -> bytes:
    """A small valid PNG of one random colour (处置前/处置后 photos must differ)."""
    width = height = 8
    pixel = bytes(rng.randrange(256) for _ in range(3))
    raw = b"".join(b"\x00" + pixel * width for _ in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def _incident(rng: random.Random, urgency: str | None = None) -> dict:
    _title, data, _phone = content.grid_incident(rng)
    data["reporter_mobile"] = _mobile(rng)
    if urgency:
        data["urgency"] = urgency
    elif data["urgency"] == "urgent":
        data["urgency"] = "normal"  # 24-hour cases are made on purpose (due soon)
    return data


def _request(rng: random.Random, phone: str | None = None) -> dict:
    _title, data, _phone = content.livelihood_request(rng)
    data["caller_mobile"] = phone or _mobile(rng)
    return data


def _dispute(rng: random.Random) -> dict:
    _title, data, _phone = content.dispute_registration(rng)
    data["parties"][0]["mobile"] = _mobile(rng)
    return data


def _proxy(rng: random.Random) -> dict:
    _title, data, _phone = content.proxy_service(rng)
    data["applicant_mobile"] = _mobile(rng)
    return data


WHISTLES = [
    ("揽月花园地下车库反复渗水", "livelihood", "车库顶板渗水半年，物业、施工方互相推诿，需要住建和水务到场。"),
    ("湖滨路夜市占道经营反弹", "enforcement", "夜市摊点多次劝离后反弹，需执法、住建联合整治。"),
    ("桥东新村老旧管网爆管", "emergency", "主管道爆裂，三幢楼停水，需水务集团立即到场抢修。"),
    ("锦绣苑违建阳光房拆除", "enforcement", "多户违建阳光房影响消防通道，需执法局联合拆除。"),
    ("澄湖公园沿河步道塌陷", "emergency", "步道局部塌陷，存在安全隐患，需住建、水务联合处置。"),
]


def _whistle(rng: random.Random) -> dict:
    summary, category, description = rng.choice(WHISTLES)
    return {"summary": summary, "category": category, "description": description,
            "address": summary[:4] + rng.choice(content.SPOTS), "departments_wanted": "住建局、综合行政执法局"}


# ---- the scenarios: which steps lead to which state -------------------------------------


def _incident_steps(rng, place, path: str, dept: tuple[str, str] | None, urgency: str | None = None) -> list[Step]:
    _grid, worker, _community, staff, street = place
    urgency = {"urgency": urgency or rng.choice(["normal", "normal", "complex"])}
    if dept is None:
        dept = rng.choice(DEPARTMENTS)
    via = street if dept != PROPERTY else staff  # a community sends to its 物业; the street to county bureaus
    code, liaison = dept
    accept = Step(staff, "accept", urgency, hours=rng.uniform(0.3, 3))
    dispatch = Step(via, "dispatch", {"unit": code}, hours=rng.uniform(1, 6))
    ack = Step(liaison, "acknowledge", hours=rng.uniform(0.5, 4))
    back = Step(liaison, "report_back", {"result": "已到场处置完毕，现场已恢复"}, "已按要求整改，附整改说明",
                hours=rng.uniform(8, 40))
    verify = Step(staff, "verify_pass", comment="经网格员现场核查，问题已解决", hours=rng.uniform(2, 20))
    full = [accept, dispatch, ack, back, verify]
    if path.startswith("dispatch:"):
        return full[:int(path.split(":")[1])]
    if path == "self":
        return [Step(worker, "self_handle", {"before_photos": ["?"], "after_photos": ["?"]},
                     "网格员现场处置完毕", hours=rng.uniform(0.5, 3))]
    if path.startswith("start:"):
        own = [accept, Step(worker, "start", hours=rng.uniform(0.5, 4)),
               Step(worker, "report_back", {"result": "已现场协调处理"}, "已处理", hours=rng.uniform(4, 30)),
               Step(staff, "verify_pass", comment="核查通过", hours=rng.uniform(2, 12))]
        return own[:int(path.split(":")[1])]
    if path.startswith("reopen"):  # closed, then reopened by the community: handled again by the grid
        again = [Step(staff, "reopen", comment="居民来电反映问题复发，重办", hours=rng.uniform(24, 120))]
        if path == "reopen_done":
            again += [Step(staff, "accept", urgency, hours=rng.uniform(0.5, 3)),
                      Step(worker, "start", hours=rng.uniform(0.5, 4)),
                      Step(worker, "report_back", {"result": "已再次处置"}, "已再次处置", hours=rng.uniform(4, 30)),
                      Step(staff, "verify_pass", comment="复查通过", hours=rng.uniform(2, 12))]
        return [*full, *again]
    if path == "reject":
        return [Step(staff, "reject", comment="经核实不属于本网格事项，已告知上报人", hours=rng.uniform(1, 5))]
    if path == "rework":
        return [*full[:4], Step(staff, "verify_fail", comment="现场核查仍有遗留，请返工", hours=rng.uniform(4, 12)),
                Step(liaison, "report_back", {"result": "已返工完毕"}, "已返工", hours=rng.uniform(8, 30)),
                Step(staff, "verify_pass", comment="复查通过", hours=rng.uniform(2, 10))]
    if path == "send_back":
        other = next(d for d in DEPARTMENTS if d != dept)
        return [accept, dispatch, Step(liaison, "send_back", comment="非本单位职责，请改派", hours=rng.uniform(1, 6)),
                Step(street, "dispatch", {"unit": other[0]}, hours=rng.uniform(1, 4)),
                Step(other[1], "acknowledge", hours=rng.uniform(0.5, 4)),
                Step(other[1], "report_back", {"result": "已处置"}, "已处置完毕", hours=rng.uniform(8, 30)),
                Step(staff, "verify_pass", comment="核查通过", hours=rng.uniform(2, 10))][:int(rng.choice((3, 5, 7)))]
    if path.startswith("park"):
        ask = Step(liaison, "request_park", {"block": rng.choice(["budget", "project", "season"]),
                                              "review_on": "?", "expected_resolution": "列入明年维修计划，资金到位后实施"},
                   "需资金立项，暂无法办结", hours=rng.uniform(10, 48))
        approve = Step(staff if via == street else street, "approve_park", hours=rng.uniform(2, 24))
        steps = [accept, dispatch, ack, ask]
        if path == "park":
            return [*steps, approve]
        if path == "park_asked":
            return steps
        return [*steps, approve, Step(staff, "write_off", comment="维修资金已落实，问题已解决", hours=rng.uniform(200, 600))]
    raise ValueError(path)


def _request_steps(rng, community: str, staff: str, path: str) -> list[Step]:
    unit, handler = rng.choice([(community, staff), (community, staff), *DEPARTMENTS])
    dispatch = Step(CENTRE, "dispatch", {"unit": unit}, hours=rng.uniform(0.2, 2))
    ack = Step(handler, "acknowledge", hours=rng.uniform(0.3, 2))
    contact = Step(handler, "contact", {"method": "phone", "reached": True}, hours=rng.uniform(0.5, 3))
    reply = Step(handler, "reply", {"reply": "已协调相关单位处理，问题已解决"}, "已办结，已电话答复诉求人",
                 hours=rng.uniform(6, 40))
    approve = Step(CENTRE, "approve", hours=rng.uniform(1, 10))
    satisfied = rng.choices(["satisfied", "basically_satisfied", "dissatisfied"], (70, 22, 8))[0]
    solved = "solved" if satisfied != "dissatisfied" else rng.choice(["partly", "unsolved"])
    follow = Step(CENTRE, "follow_up", {"reached": True, "method": "phone", "solved": solved, "satisfied": satisfied},
                  "电话回访", hours=rng.uniform(2, 30))
    full = [dispatch, ack, contact, reply, approve, follow]
    if path.startswith("full:"):
        return full[:int(path.split(":")[1])]
    if path == "answer":
        return [Step(CENTRE, "answer", comment="已即时答复来电人相关政策", hours=rng.uniform(0.1, 1))]
    if path == "withdraw":
        return [Step(CENTRE, "withdraw", comment="来电人表示问题已自行解决，申请撤单", hours=rng.uniform(1, 6))]
    if path == "materials":
        return [dispatch, ack, Step(handler, "request_materials", {"reply": "请补充房屋产权证明复印件"},
                                    "已告知诉求人补正材料", hours=rng.uniform(2, 10))]
    if path == "redo":
        return [dispatch, ack, contact, reply,
                Step(CENTRE, "redo", comment="答复内容不完整，请补充办理", hours=rng.uniform(2, 8)),
                Step(handler, "reply", {"reply": "已补充办理并答复"}, "已补充答复", hours=rng.uniform(6, 30)),
                Step(CENTRE, "approve", hours=rng.uniform(1, 8)), follow]
    if path == "unreached":
        return [*full[:5], Step(CENTRE, "follow_up_failed", {"method": "phone"}, "电话无人接听，明日再访",
                                hours=rng.uniform(2, 10))]
    if path == "send_back":
        return [dispatch, Step(handler, "send_back", comment="非本单位职责，请重新派单", hours=rng.uniform(0.5, 4))]
    raise ValueError(path)


def _dispute_steps(rng, community: str, staff: str, path: str) -> list[Step]:
    mediator = MEDIATOR.get(community, staff)
    screen = Step(mediator, "screen", {"screening": rng.choice(["routine", "monthly", "application"]),
                                       "risk_level": rng.choice(["low", "low", "medium"]), "mediable": True},
                  hours=rng.uniform(2, 24))
    accept = Step(staff, "accept", {"mediation_body": "village"}, hours=rng.uniform(2, 24))
    start = Step(mediator, "start", hours=rng.uniform(4, 48))
    meeting = Step(mediator, "record_meeting", comment="组织双方当面调解一次，分歧缩小", hours=rng.uniform(24, 96))
    agree = Step(mediator, "agree", {"form": "written", "parties": ["申请人", "被申请人"],
                                     "terms": "被申请人于十五日内赔偿维修费用，双方不再就此事争执"},
                 "双方达成书面调解协议", hours=rng.uniform(24, 120))
    skip = Step(mediator, "skip_confirmation", {"reason": "performed"}, hours=rng.uniform(2, 24))
    close = Step(mediator, "close", {"performance": "performed", "satisfied": "satisfied"}, "回访双方，协议已履行",
                 hours=rng.uniform(48, 200))
    full = [screen, accept, start, meeting, agree, skip, close]
    if path.startswith("full:"):
        return full[:int(path.split(":")[1])]
    if path.startswith("court"):  # 司法确认: applied for, then (``court_done``) confirmed and followed up
        apply = Step(mediator, "apply_confirmation", {"court": "云澜县人民法院", "applied_on": "?", "joint": True},
                     "双方共同申请司法确认", hours=rng.uniform(24, 96))
        ruled = Step(mediator, "confirmed", {"result": "confirmed", "ruled_on": "?",
                                             "court_case_number": f"（2026）浙0001民特{rng.randint(100, 999)}号"},
                     "法院裁定调解协议有效", hours=rng.uniform(72, 240))
        return [screen, accept, start, agree, apply] + ([ruled, close] if path == "court_done" else [])
    if path == "fail":
        return [screen, accept, start, Step(mediator, "fail", {"reason": "no_consensus", "routes": "已告知可向法院起诉"},
                                            "分歧过大，调解不成", hours=rng.uniform(48, 200))]
    if path == "refer":
        return [screen, Step(staff, "refer", {"referred_to": "澄湖派出所"}, "涉及治安问题，移交派出所",
                             hours=rng.uniform(2, 24))]
    raise ValueError(path)


def _proxy_steps(rng, worker: str, staff: str, path: str) -> list[Step]:
    accept = Step(worker, "accept", hours=rng.uniform(1, 8))
    ready = Step(worker, "result_ready", comment="证件已办好，已电话通知领取", hours=rng.uniform(24, 120))
    deliver = Step(worker, "deliver", comment="已送达申请人", hours=rng.uniform(4, 48))
    if path.startswith("full:"):
        return [accept, ready, deliver][:int(path.split(":")[1])]
    if path == "materials":
        return [Step(worker, "request_materials", {"reply": "请补充户口簿复印件"}, "缺户口簿复印件", hours=rng.uniform(1, 8))]
    if path == "on_spot":
        return [Step(staff, "finish_on_spot", comment="材料齐全，当场办结", hours=rng.uniform(0.2, 2))]
    if path == "refuse":
        return [Step(staff, "refuse", comment="不符合申请条件，已解释政策", hours=rng.uniform(2, 24))]
    raise ValueError(path)


def _whistle_steps(rng, staff: str, path: str) -> list[Step]:
    units = rng.sample(DEPARTMENTS, 2)
    approve = Step(STREET_LEADER, "approve", {"units": [code for code, _ in units]}, hours=rng.uniform(0.5, 3))
    checkins = [Step(user, "report_in", comment="已到场", hours=rng.uniform(0.2, 1.5)) for _, user in units]
    joint = Step(staff, "begin_joint", hours=rng.uniform(0.5, 3))
    complete = Step(staff, "complete", comment="联合处置完毕，问题已解决", hours=rng.uniform(24, 120))
    ratings = [Step(staff, "rate_unit", {"unit": code, "rating": rng.choice(["满意", "满意", "基本满意"])}, hours=0.5)
               for code, _ in units]
    archive = Step(staff, "archive", hours=0.5)
    if path == "cancel":
        return [Step(staff, "cancel", comment="问题已由物业自行解决，撤销吹哨", hours=rng.uniform(1, 6))]
    full = [approve, *checkins, joint, complete, *ratings, archive]
    return full[:int(path.split(":")[1])]


# How many cases take each path; the rest of the mix is drawn by ``_draw``.
INCIDENT_PATHS = {"dispatch:0": 5, "dispatch:1": 4, "dispatch:2": 6, "dispatch:3": 7, "dispatch:4": 4,
                  "dispatch:5": 44, "self": 16, "start:2": 5, "start:3": 2, "start:4": 13, "reject": 4,
                  "rework": 6, "send_back": 6, "park": 4, "park_asked": 2, "park_done": 2, "reopen": 3,
                  "reopen_done": 3}
REQUEST_PATHS = {"full:0": 3, "full:1": 3, "full:2": 4, "full:4": 3, "full:5": 3, "full:6": 44, "answer": 8,
                 "withdraw": 3, "materials": 3, "redo": 4, "unreached": 2, "send_back": 3}
DISPUTE_PATHS = {"full:0": 2, "full:1": 2, "full:2": 2, "full:3": 4, "full:5": 2, "full:6": 2, "full:7": 9,
                 "fail": 4, "refer": 2, "court": 2, "court_done": 2}
PROXY_PATHS = {"full:0": 3, "full:1": 4, "full:2": 2, "full:3": 13, "materials": 3, "on_spot": 3, "refuse": 2}
WHISTLE_PATHS = {"full:0": 2, "full:1": 2, "full:2": 1, "full:4": 2, "full:5": 2, "full:8": 5, "cancel": 1}


def _age(rng: random.Random, open_path: bool) -> float:
    """Days before now: open cases are recent; finished ones spread over the year, most in the
    last months (three in four from an exponential with a 60-day mean, the rest even)."""
    if open_path:
        return rng.uniform(0.3, 6)
    if rng.random() < 0.25:
        return rng.uniform(2, 360)
    return min(360.0, 2 + rng.expovariate(1 / 60))


def _plans(rng: random.Random, now: datetime) -> list[Plan]:
    plans: list[Plan] = []

    def add(form, data, submitter, org, steps, open_path, age=None, overdue=False):
        created = now - timedelta(days=age if age is not None else _age(rng, open_path))
        plans.append(Plan(form, data, submitter, org, steps, created, overdue))

    def place(first: bool = False):
        return PLACES[0] if first else rng.choices(PLACES, PLACE_WEIGHTS)[0]  # every state in the showcase

    for path, count in INCIDENT_PATHS.items():
        for i in range(count):
            p = place(i == 0)
            dept = PROPERTY if p[2] == "339901001001" and rng.random() < 0.3 else None
            steps = _incident_steps(rng, p, path, dept)
            add("grid-incident", _incident(rng), p[1], p[0], steps, not _closes(steps))
    # due soon (urgent: 24 hours, reported a few hours ago) and overdue (long past their deadline)
    showcase = PLACES[0]
    for n in range(6):
        steps = _incident_steps(rng, showcase, f"dispatch:{(0, 3, 1, 3, 2, 3)[n]}", DEPARTMENTS[0], "urgent")
        add("grid-incident", _incident(rng, "urgent"), showcase[1], showcase[0], steps, True,
            age=rng.uniform(0.2, 0.4))
    for n in range(14):
        p = showcase if n < 8 else place()
        steps = _incident_steps(rng, p, f"dispatch:{(0, 1, 3, 3, 2)[n % 5]}", DEPARTMENTS[0] if n % 2 else None,
                                "normal")
        add("grid-incident", _incident(rng, "normal"), p[1], p[0], steps, True, age=rng.uniform(8, 40), overdue=True)

    for n in range(3):  # past a 24-hour deadline that fell this month (本月's 超期台账)
        steps = _incident_steps(rng, showcase, f"dispatch:{(1, 3, 2)[n]}", DEPARTMENTS[n], "urgent")
        add("grid-incident", _incident(rng, "urgent"), showcase[1], showcase[0], steps, True,
            age=1 + rng.uniform(0.3, 0.7) * _month_room(now), overdue=True)

    for path, count in REQUEST_PATHS.items():
        for i in range(count):
            p = place(i == 0)
            steps = _request_steps(rng, p[2], p[3], path)
            add("livelihood-request", _request(rng), CENTRE, None, steps, path.startswith("full:")
                and path != "full:6" or path in ("materials", "unreached", "send_back"))
    # 重复投诉: the same caller, unit, type and category again within 30 days of the first closing
    for _ in range(4):
        p = PLACES[0]
        data = _request(rng)
        first = now - timedelta(days=rng.uniform(6, 20))
        add("livelihood-request", data, CENTRE, None, _request_steps(rng, p[2], p[3], "answer"), False,
            age=(now - first).total_seconds() / 86400)
        again = {**_request(rng, data["caller_mobile"]), "request_type": data["request_type"]}
        add("livelihood-request", again, CENTRE, None, _request_steps(rng, p[2], p[3], "full:6"), False,
            age=min(rng.uniform(1, 4), rng.uniform(0.3, 0.9) * _month_room(now)))

    for path, count in DISPUTE_PATHS.items():
        for i in range(count):
            p = place(i == 0)
            steps = _dispute_steps(rng, p[2], p[3], path)
            add("dispute-registration", _dispute(rng), p[3], p[2], steps,
                path.startswith("full:") and path != "full:7" or path == "court")

    for path, count in PROXY_PATHS.items():
        for i in range(count):
            p = place(i == 0)
            add("proxy-service", _proxy(rng), p[1], p[0], _proxy_steps(rng, p[1], p[3], path),
                path.startswith("full:") and path != "full:3" or path == "materials")

    for path, count in WHISTLE_PATHS.items():
        for i in range(count):
            p = PLACES[0] if i == 0 else rng.choice(PLACES[:4])  # 澄湖街道's communities: its leader approves
            add("whistle-request", _whistle(rng), p[3], p[2], _whistle_steps(rng, p[3], path),
                path not in ("full:8", "cancel"))
    _this_month(rng, plans, now)
    plans.sort(key=lambda plan: plan.created)
    return plans


def _this_month(rng: random.Random, plans: list[Plan], now: datetime) -> None:
    """The dashboard opens on 本月: make sure its first days hold finished, rated, dispatched,
    self-handled, mediated and followed-up cases as well (shrunk to fit on the 1st)."""
    month = now - timedelta(days=_month_room(now))
    room = _month_room(now)
    wanted = {"self_handle": 8, "verify_pass": 18, "follow_up": 14, "answer": 3, "agree": 2, "fail": 1,
              "deliver": 4, "send_back": 1, "verify_fail": 1, "archive": 1}
    for plan in sorted(plans, key=lambda p: p.created, reverse=True):  # the latest before the month
        if plan.created >= month or plan.overdue:
            continue
        actions = {s.action for s in plan.steps}
        hit = next((a for a in wanted if wanted[a] > 0 and a in actions), None)
        if hit is None:
            continue
        wanted[hit] -= 1
        plan.created = now - timedelta(days=rng.uniform(0.3, 0.9) * room)


def _month_room(now: datetime) -> float:
    """Days from the start of this local month to now (a little less; at least a few minutes)."""
    local = now.astimezone(LOCAL_TZ)
    month = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return max((local - month).total_seconds() / 86400 - 0.02, 0.01)


# ---- replaying -------------------------------------------------------------------------


def _users() -> dict[str, User]:
    return {u.username: u for u in db.scalars(sa.select(User))}


def _times(plan: Plan, now: datetime) -> list[datetime]:
    """Each step's moment: its gaps after the submission, squeezed to end before now."""
    gaps = [timedelta(hours=s.hours) for s in plan.steps]
    span = sum(gaps, timedelta())
    room = now - timedelta(minutes=5) - plan.created
    scale = min(1.0, room / span) if span else 1.0
    out, at = [], plan.created
    for gap in gaps:
        at += gap * max(scale, 0.0)
        out.append(at)
    return out


def _fill(step: Step, case_id: int, users: dict[str, User], at: datetime, rng: random.Random) -> dict:
    """Values only known when the step is taken: photos, dates."""
    from fengqiao.cases.engine import upload_photo

    fields = dict(step.fields or {})
    if step.action == "self_handle":
        case = db.get(Case, case_id)
        user = users[step.actor]
        photos = [upload_photo(case, user, FileStorage(BytesIO(_png(rng)), f"photo{i}.png", content_type="image/png"))
                  for i in range(2)]
        fields = {"before_photos": [photos[0].id], "after_photos": [photos[1].id]}
    if fields.get("review_on") == "?":
        fields["review_on"] = (at.astimezone(LOCAL_TZ) + timedelta(days=rng.randint(14, 28))).date().isoformat()
    for name in ("applied_on", "ruled_on"):  # the day the step is taken
        if fields.get(name) == "?":
            fields[name] = at.astimezone(LOCAL_TZ).date().isoformat()
    return fields


def _replay(plan: Plan, users: dict[str, User], now: list[datetime], rng: random.Random, real_now: datetime) -> None:
    from fengqiao.cases import engine, tracking
    from fengqiao.cases.jobs import sla_sweep
    from fengqiao.forms.store import get_version
    from fengqiao.forms.submit import submit

    now[0] = plan.created
    submitter = users.get(plan.submitter) if plan.submitter else None
    version = get_version(plan.form)
    result = submit(version, plan.data, submitter, channel="web", org_code=plan.org)
    number = result.case_number
    case_version = 1
    for step, at in zip(plan.steps, _times(plan, real_now), strict=True):
        now[0] = at
        fields = _fill(step, result.case_id, users, at, rng)
        case_version = engine.perform(number, step.action, users[step.actor], {
            "version": case_version, "comment": step.comment, "fields": fields}).version
    case = db.get(Case, result.case_id)
    if case.closed_at is not None and case.type == "grid_incident" and case.state == "closed":
        rated = case.closed_at + timedelta(hours=rng.uniform(1, 48))
        if rated < real_now and rng.random() < 0.6:
            now[0] = rated
            tracking.rate(case, rng.choices(["satisfied", "basically_satisfied", "dissatisfied"], (70, 22, 8))[0])
    if plan.overdue and case.deadline is not None and case.deadline < real_now:
        now[0] = min(case.deadline + timedelta(hours=rng.uniform(1, 30)), real_now - timedelta(minutes=2))
        sla_sweep()  # 超期 and the first 上报 when they would have happened


def _escalate_some(users: dict[str, User], now: list[datetime], real_now: datetime) -> None:
    """上报 by hand in the showcase community, within the last hours: one case climbs to the
    county (the county's 下级上报), one to the street, two to the community; the county's
    supervisor then takes on the first."""
    from fengqiao.cases import engine

    grids = [p[0] for p in PLACES[:2]]
    candidates = list(db.scalars(sa.select(Case).where(
        Case.type == "grid_incident", Case.closed_at.is_(None), Case.escalation_level == 0,
        Case.deadline > real_now, Case.state.in_(("accepted", "in_progress"))).order_by(Case.id)))
    candidates = [c for c in candidates if c.org.code in grids][:4]
    for n, case in enumerate(candidates):
        place = next(p for p in PLACES if p[0] == case.org.code)
        climbers = [place[1], place[3], place[4]][:(3, 2, 1, 1)[n]]  # grid worker, community, street
        at = max(case.created_at + timedelta(minutes=30), real_now - timedelta(hours=7 - n))
        for level, username in enumerate(climbers):
            now[0] = at + timedelta(hours=1.5 * level)
            current = db.get(Case, case.id)
            db.refresh(current)
            engine.perform(current.number, "escalate", users[username],
                           {"version": current.version, "comment": "涉及多个单位，需上级协调"})
        db.commit()
    top = db.scalar(sa.select(Case).where(Case.escalation_level >= 3, Case.closed_at.is_(None),
                                          Case.assignee_id.is_(None)).order_by(Case.id))
    if top is not None:
        now[0] = real_now - timedelta(minutes=20)
        engine.perform(top.number, "claim", users["ducha"], {"version": top.version})
        db.commit()


def load_living_demo(now: datetime | None = None) -> dict[str, int]:
    """Add the living demo's cases unless the database holds core cases already; returns what was
    added (``{"cases": 0}`` when nothing was). Commits case by case."""
    if db.scalar(sa.select(Case.id).where(Case.type.in_(CORE_TYPES)).limit(1)) is not None:
        return {"cases": 0}
    real_now = (now or db_module.utcnow()).astimezone(UTC)
    rng = random.Random(SEED)
    plans = _plans(rng, real_now)
    _at_standard_addresses(plans)
    users = _users()
    app = current_app._get_current_object()
    dispatcher = app.extensions["fengqiao.dispatcher"]
    if hasattr(dispatcher, "flush"):  # nothing else may run while the clock is turned back
        dispatcher.flush(timeout=30)
    first_job = db.scalar(sa.select(sa.func.max(JobRecord.id))) or 0
    app.extensions["fengqiao.dispatcher"] = _Collector()
    try:
        with _clock(real_now) as clock:
            for n, plan in enumerate(plans, 1):
                _replay(plan, users, clock, rng, real_now)
                if n % BATCH == 0 or n == len(plans):
                    db.commit()  # a few commits, not one per case: each costs its signals' round
            _escalate_some(users, clock, real_now)
    finally:
        app.extensions["fengqiao.dispatcher"] = dispatcher
    _settle_jobs(first_job, real_now)
    from fengqiao.cases.jobs import sla_sweep

    sla_sweep()  # 临期 as of now
    db.commit()
    dispatcher = current_app.extensions["fengqiao.dispatcher"]
    if hasattr(dispatcher, "flush"):  # their notifications are written before the demo's banner
        dispatcher.flush(timeout=30)
    return {"cases": len(plans)}


def _closes(steps: list[Step]) -> bool:
    """Whether an incident's steps end it (verified, handled on the spot, rejected, written off)."""
    return bool(steps) and steps[-1].action in ("verify_pass", "self_handle", "reject", "write_off")


def _at_standard_addresses(plans: list[Plan], rooms: int = 4, each: int = 2) -> None:
    """Where a plugin keeps the standard addresses (``fengqiao.addresses``), the showcase grid's
    first open incidents name ``rooms`` of its rooms, ``each`` incidents a room: their case pages
    then show the address with its other open cases. No random draw is added, so the rest of the demo is
    the same with or without an address book."""
    from fengqiao.addresses import search_addresses

    grid = PLACES[0][0]
    hits = [h for h in search_addresses(SHOWCASE_ROOMS) if h.org_code == grid][:rooms]
    incidents = [p for p in plans if p.form == "grid-incident" and p.org == grid and not _closes(p.steps)]
    for n, plan in enumerate(incidents[:len(hits) * each]):
        label, before = hits[n // each].label, plan.data["location"]["address"]
        plan.data["location"]["address"] = label
        plan.data["summary"] = (label + plan.data["summary"].removeprefix(before))[:100]
        plan.data["description"] = plan.data["description"].replace(before, label, 1)[:2000]


def _settle_jobs(after_id: int, now: datetime) -> None:
    """The history's jobs: older ones are written off (their news is stale), the last hours' run."""
    stale = sa.and_(JobRecord.id > after_id, JobRecord.status == "pending", JobRecord.created_at < now - RECENT_JOBS)
    db.execute(sa.update(JobRecord).where(stale).values(status="done", finished_at=now, progress=100,
                                                         result={"skipped": "演示数据的历史通知"}))
    recent = db.execute(sa.select(JobRecord.id, JobRecord.queue).where(
        JobRecord.id > after_id, JobRecord.status == "pending").order_by(JobRecord.id)).all()
    db.commit()
    if recent:
        current_app.extensions["fengqiao.dispatcher"].dispatch([(r.id, r.queue) for r in recent])

