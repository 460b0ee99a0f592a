"""``/api/v1/inbound/orders``: an external 12345 platform pushes orders and pulls their status
(the push back is outbound webhooks, ``fengqiao.webhooks``)."""

from __future__ import annotations

from flask_login import current_user

from fengqiao.access import requires
from fengqiao.api.blueprint import api_bp
from fengqiao.api.openapi import document
from fengqiao.inbound.orders import ORDER_BODY, PERMISSION, receive, status
from fengqiao.jsonbody import json_body


@api_bp.post("/inbound/orders")
@requires(PERMISSION)
def receive_inbound_order():
    received = receive(current_user._get_current_object(), json_body(ORDER_BODY))
    return received.to_json(), 201 if received.created else 200


document("/inbound/orders", "post",
         "接收 12345 平台推送的工单并生成民生诉求事项（按来源 + 工单号幂等：重复推送返回已生成的事项）",
         body=ORDER_BODY,
         responses={201: "{created: true, source, order_number, case_number, tracking_code, state, state_title, "
                         "org, deadline}",
                    200: "该工单已接收过：同样的内容，created 为 false",
                    400: "JSON 格式错误", 401: "未登录或令牌无效", 403: "账户无接收外部工单权限（cases.inbound）",
                    404: "表单不存在或未发布", 409: "该工单号已由其他单位接收", 410: "表单已停用", 415: "非 JSON",
                    422: "字段校验失败（逐字段说明），或派往单位不存在、不在本账户辖区内"})


@api_bp.get("/inbound/orders/<source>/<number>")
@requires(PERMISSION)
def inbound_order_status(source: str, number: str):
    return status(current_user._get_current_object(), source, number)


document("/inbound/orders/{source}/{number}", "get",
         "查询已推送工单的办理情况：状态、公开办理过程（不含工作人员姓名与内部意见）、最新答复、办结时间",
         responses={200: "{source, order_number, case_number, state, state_title, closed, closed_at, deadline, "
                         "reply_by, reply, replies, history}",
                    401: "未登录或令牌无效", 403: "账户无接收外部工单权限（cases.inbound）",
                    404: "工单不存在或不在本账户辖区内"})
