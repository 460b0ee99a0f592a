"""Signed outbound webhooks for integrators (issue 21, part 5).

An admin registers an endpoint (a URL of an integrator's system) for a unit and the events it
wants; cases in that unit's subtree then reach it as signed JSON POSTs. The pieces:

- :mod:`fengqiao.webhooks.events`: receivers of the core's signals (and of plugins' signals)
  that enqueue ``webhooks.fan_out``; the job finds the endpoints and queues one ``Delivery``
  per endpoint (channel ``webhook``, target ``endpoint:<id>``) through
  ``fengqiao.notifications.fanout.queue``, so retries and the dead-letter list are shared
  with the other channels;
- :mod:`fengqiao.webhooks.payload`: the JSON body, masked unless the endpoint is granted
  personal data;
- :mod:`fengqiao.webhooks.signing`: the HMAC headers and the receiver's reference check;
- :mod:`fengqiao.webhooks.sender`: one attempt (``notifications.send`` calls it);
- :mod:`fengqiao.webhooks.service`: endpoints' validation, writes and audit rows.
"""

CHANNEL = "webhook"
PLUGIN_PREFIX = "plugin."
ALL_PLUGIN_EVENTS = "plugin.*"  # an endpoint subscribed to every plugin event

EVENT_LABELS = {
    "case.created": "事项创建",
    "case.changed": "事项变更（流转、签收、指派、升级、重办、评价）",
    "case.closed": "事项办结",
    "submission.received": "收到表单提交",
    ALL_PLUGIN_EVENTS: "插件事件（全部）",
}
PING = "ping"  # the test event an admin sends from the endpoint's page


def subscribed(events: list | None, event: str) -> bool:
    """Whether an endpoint listing ``events`` wants ``event`` (ping always reaches it)."""
    events = events or []
    return event == PING or event in events or (event.startswith(PLUGIN_PREFIX) and ALL_PLUGIN_EVENTS in events)
