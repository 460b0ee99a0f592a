"""Cases accepted from an external system (a 12345 platform) under its own order number.

``fengqiao.inbound.orders`` opens the case through the normal submission path and keeps
the ``ExternalOrder`` link; ``fengqiao.api.inbound`` serves it as ``/api/v1/inbound/orders``.
"""
