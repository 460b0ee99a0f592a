"""Standard addresses for the forms' address picker: a public, bounded look-up.

Answers only what the address provider (a plugin: ``ctx.provide_addresses``) knows about
addresses — code, label and the unit answering for it — never who lives there. Without a
provider, or with its plugin off, the answer is an empty list.
"""

from __future__ import annotations

from flask import request

from fengqiao.access import public
from fengqiao.addresses import MAX_HITS, search_addresses
from fengqiao.api.blueprint import api_bp
from fengqiao.api.openapi import document, query
from fengqiao.errors import APIError
from fengqiao.ratelimit import rate_limited

MIN_QUERY, MAX_QUERY = 2, 40


@api_bp.get("/addresses/search")
@public
@rate_limited("public_read", methods=("GET",))
def address_search():
    """At most ten standard addresses whose label holds every word of ``q`` (the picker asks
    as the resident types; one bounded query, so no pages)."""
    q = " ".join(request.args.get("q", "").split())
    if not MIN_QUERY <= len(q) <= MAX_QUERY:
        raise APIError(422, [("/q", f"请输入 {MIN_QUERY}–{MAX_QUERY} 个字的小区、楼栋或门牌", "length")])
    hits = search_addresses(q, MAX_HITS)
    return {"items": [{"code": h.code, "label": h.label, "org": {"code": h.org_code, "name": h.org_name}}
                      for h in hits]}


document("/addresses/search", "get", "按小区、楼栋、门牌搜索标准地址（表单地址选择，最多 10 条）", secured=False,
         params=[{**query("q", f"地址文字，{MIN_QUERY}–{MAX_QUERY} 个字；空格分隔的每个词都须出现在地址中"),
                  "required": True}],
         responses={200: "{items: [{code, label, org: {code, name}}]}（未启用标准地址时为空列表）",
                    422: "q 为空、过短或过长", 429: "请求过于频繁"})
