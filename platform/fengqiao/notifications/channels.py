"""Which channels exist in this process: those plugins registered with
``ctx.register_channel``; a switched-off plugin's channels send nothing. (Webhooks are the
core's own deliveries, not a channel: ``fengqiao.webhooks``.)"""

from __future__ import annotations

from flask import current_app

from fengqiao.notifications.protocol import Channel


def register(app, plugin: str | None, channel: Channel) -> None:
    if not channel.name or channel.audience not in ("personal", "unit"):
        raise ValueError(f"channel {channel!r}: needs a name and audience 'personal' or 'unit'")
    if channel.audience == "personal" and channel.address_field not in ("email", "mobile"):
        raise ValueError(f"channel {channel.name}: a personal channel's address_field is 'email' or 'mobile'")
    registry = app.extensions.setdefault("fengqiao.channels", {})
    if channel.name in registry:
        raise ValueError(f"channel {channel.name} is registered twice")
    registry[channel.name] = (plugin, channel)


def active_channels() -> dict[str, Channel]:
    """Every channel that may send now, by name (plugins' only while they are on)."""
    from fengqiao.plugins.state import is_active

    return {name: channel for name, (plugin, channel) in current_app.extensions.get("fengqiao.channels", {}).items()
            if plugin is None or is_active(plugin)}


def channel_named(name: str) -> Channel | None:
    return active_channels().get(name)


def personal_channels() -> dict[str, Channel]:
    return {n: c for n, c in active_channels().items() if c.audience == "personal"}


def unit_channels() -> dict[str, Channel]:
    return {n: c for n, c in active_channels().items() if c.audience == "unit"}
