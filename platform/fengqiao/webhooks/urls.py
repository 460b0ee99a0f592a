"""Which URLs may receive webhooks: checked when an admin saves one (resolving the host) and
again at each send (``fengqiao.outbound`` resolves it once more before the request).

On top of ``fengqiao.outbound.url_problem`` (http(s), a host, no credentials, no private or
loopback address unless listed in ``FENGQIAO_WEBHOOK_ALLOW_HOSTS``): no ``#fragment``, no
control characters, at most 500 characters (the column's size).
"""

from __future__ import annotations

from fengqiao import outbound

MAX_URL = 500


def url_problem(url: str, *, resolve: bool = True) -> str | None:
    """Why ``url`` cannot receive webhooks (Chinese), or None."""
    if not url:
        return "请填写接收地址"
    if len(url) > MAX_URL:
        return f"地址最多 {MAX_URL} 个字符"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return "地址不能包含空格或控制字符"
    if "#" in url:
        return "地址不能包含 # 片段"
    if "@" in url.split("?", 1)[0].partition("://")[2].split("/", 1)[0]:
        return "地址中不能包含用户名或密码，请改用签名密钥鉴别"
    return outbound.url_problem(url, resolve=resolve)
