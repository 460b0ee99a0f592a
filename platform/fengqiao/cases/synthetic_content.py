"""Plausible form data for synthetic cases, valid against the core forms' schemas.

Kept apart from the generator so the text pools do not hide the insertion logic. Every
builder takes a seeded ``random.Random`` and returns ``(title, data, phone)``; the data passes
the form's own validation (tests check it), so the case page and exports render it like a
real submission.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta

from fengqiao.forms.formats import id_card_check_char

PLACES = ["揽月花园", "湖滨路", "桥东新村", "锦绣苑", "石溪村", "竹坞村", "茶场", "澄湖公园", "县一中",
          "农贸市场", "文化礼堂", "人民路", "滨江大道", "老街", "工业园区"]
SPOTS = ["3幢楼下", "路口", "东门", "地下车库", "北侧绿化带", "公交站旁", "沿河步道", "停车场", "2单元门口"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志红梅林文斌辉波宇浩凯"
MOBILE_PREFIXES = ["130", "131", "133", "135", "136", "137", "138", "139", "150", "151", "152", "157",
                   "158", "159", "166", "177", "180", "181", "186", "187", "188", "189", "199"]

INCIDENTS = {
    "市容环境": ["垃圾堆放未清运", "乱搭乱建", "占道经营", "墙面乱涂乱画", "广告牌破损"],
    "安全隐患": ["窨井盖破损", "电动车楼道充电", "消防通道堵塞", "路灯不亮", "护栏松动"],
    "生态环境": ["河道漂浮物", "污水外溢", "油烟扰民", "焚烧秸秆", "噪声扰民"],
    "治安秩序": ["可疑人员出入", "车辆乱停放", "深夜聚集喧哗", "共享单车堆放"],
    "矛盾纠纷": ["邻里漏水纠纷", "停车位争执", "宠物扰民纠纷"],
    "民生服务": ["独居老人需上门探访", "小区电梯故障", "供水水压不足", "燃气表异常"],
    "其他": ["其他需协调事项"],
}
REQUESTS = ["供水中断何时恢复", "小区路灯长期不亮", "楼上噪音扰民", "社保卡补办咨询", "公交站点设置建议",
            "物业收费不透明", "道路积水", "学区划分咨询", "夜间施工扰民", "违规饲养家禽"]
DISPUTES = {"婚姻家庭": "赡养费分担", "邻里纠纷": "墙体渗水赔偿", "宅基地纠纷": "宅基地界址", "物业纠纷": "物业费拖欠",
            "劳动争议": "工资拖欠", "交通事故": "电动车碰擦赔偿", "医疗纠纷": "诊疗费用争议", "其他": "合同履行"}
SERVICES = ["高龄津贴申请", "医保参保登记", "居住证办理", "残疾人证办理", "低保申请", "社保卡补办", "其他"]


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))


def mobile(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def id_card(rng: random.Random) -> str:
    """A well-formed 18-digit number (GB 11643 check digit) born 1940–2005 in 云澜县."""
    born = date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 65))
    first17 = f"339901{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + id_card_check_char(first17)


def address(rng: random.Random) -> str:
    return rng.choice(PLACES) + rng.choice(SPOTS)


def grid_incident(rng: random.Random) -> tuple[str, dict, str]:
    category = rng.choice(list(INCIDENTS))
    where = address(rng)
    summary = f"{where}{rng.choice(INCIDENTS[category])}"[:100]
    phone = mobile(rng)
    data = {"summary": summary, "category": category,
            "urgency": rng.choices(("normal", "urgent", "complex", "difficult"), (80, 8, 9, 3))[0],
            "source": rng.choice(("网格巡查", "居民反映", "12345转办", "视频监控")),
            "description": f"网格巡查发现{summary}，已拍照记录，请相关单位处理。",
            "location": {"address": where}, "reporter_name": person(rng), "reporter_mobile": phone}
    return summary, data, phone


def livelihood_request(rng: random.Random) -> tuple[str, dict, str]:
    summary = f"{rng.choice(PLACES)}{rng.choice(REQUESTS)}"[:100]
    phone = mobile(rng)
    data = {"request_type": rng.choices(("consult", "help", "complaint", "report", "suggestion"),
                                        (30, 25, 30, 5, 10))[0],
            "summary": summary, "content": f"市民来电反映：{summary}，希望尽快处理并回复。",
            "address": address(rng), "caller_name": person(rng), "caller_mobile": phone}
    return summary, data, phone


def dispute_registration(rng: random.Random) -> tuple[str, dict, str]:
    kind = rng.choice(list(DISPUTES))
    a, b = person(rng), person(rng)
    summary = f"{a}与{b}{DISPUTES[kind]}纠纷"[:100]
    phone = mobile(rng)
    data = {"dispute_type": kind, "summary": summary, "facts": f"双方因{DISPUTES[kind]}产生争议，申请调解。",
            "source": rng.choice(("排查发现", "当事人申请", "12345转办")), "headcount": 2,
            "risk_level": rng.choices(("low", "medium", "high"), (70, 25, 5))[0],
            "parties": [{"name": a, "role": "申请人", "mobile": phone},
                        {"name": b, "role": "被申请人"}]}
    return summary, data, phone


def proxy_service(rng: random.Random) -> tuple[str, dict, str]:
    item = rng.choice(SERVICES)
    name, phone = person(rng), mobile(rng)
    data = {"service_item": item, "applicant_name": name, "applicant_id_card": id_card(rng),
            "applicant_mobile": phone, "address": address(rng), "is_proxy": False,
            "delivery": rng.choice(("pickup", "post", "home"))}
    return f"{name}{item}"[:200], data, phone


def generic(rng: random.Random) -> tuple[str, dict, str]:
    summary = f"{address(rng)}{rng.choice(REQUESTS)}"[:100]
    return summary, {"summary": summary}, ""


BUILDERS: dict[str, Callable[[random.Random], tuple[str, dict, str]]] = {
    "grid-incident": grid_incident,
    "livelihood-request": livelihood_request,
    "dispute-registration": dispute_registration,
    "proxy-service": proxy_service,
}
