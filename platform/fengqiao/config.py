"""Settings from ``FENGQIAO_*`` environment variables, validated once at start.

Every bad value is reported together (one line each) so an admin fixes the environment in
one pass instead of discovering problems one restart at a time.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fengqiao.params import parse_int

ENV_PREFIX = "FENGQIAO_"
DEFAULT_THEME = "default"
LOG_FORMATS = ("text", "json")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class ConfigError(Exception):
    """Raised when the environment cannot run Fengqiao; ``problems`` lists each bad value."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("配置错误 (configuration error):\n" + "\n".join(f"- {p}" for p in problems))


@dataclass(frozen=True)
class Settings:
    """The validated configuration the app factory works from."""

    instance_path: Path
    database_url: str
    secret_key: str
    redis_url: str | None = None
    plugins: tuple[str, ...] | None = None  # None means every installed plugin ("*")
    theme: str = DEFAULT_THEME
    mode: str = "production"  # production | demo | testing
    max_content_length: int = 2 * 1024 * 1024
    log_format: str = "text"  # text | json (one JSON object per line, for log collectors)
    session_idle_minutes: int = 30  # a signed-in browser session ends after this long unused
    session_max_hours: int = 12  # ...and this long after sign-in, however busy (absolute lifetime)
    # PostgreSQL cancels a statement running longer (web processes: below the worker timeout,
    # so a request gunicorn gives up on does not leave its query running); None: no limit
    statement_timeout_seconds: int | None = None
    # hosts, addresses or networks on private/loopback addresses that webhooks, robots and
    # gateways may call anyway (fengqiao/outbound.py); testing and demo allow this machine
    webhook_allow_hosts: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.mode == "production"

    @property
    def jobs_backend(self) -> str:
        return "redis" if self.redis_url else "inline"


# Values copied from examples and docs: a key anyone can read signs anyone's session.
_PLACEHOLDER_MARKERS = ("change-me", "changeme", "change_me", "replace-me", "example", "your-secret",
                        "xxxxxxxx", "placeholder")
MIN_SECRET_LENGTH = 32
MIN_SECRET_DISTINCT = 12


def secret_key_problems(secret_key: str) -> list[str]:
    """Why ``secret_key`` must not sign production sessions (empty list when it may)."""
    lowered = secret_key.lower()
    if len(secret_key) < MIN_SECRET_LENGTH:
        return [f"FENGQIAO_SECRET_KEY: 密钥太短，至少 {MIN_SECRET_LENGTH} 个字符"]
    if any(marker in lowered for marker in _PLACEHOLDER_MARKERS):
        return ["FENGQIAO_SECRET_KEY: 仍是示例/默认密钥，请换成随机生成的值 "
                "(`python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"]
    if len(set(secret_key)) < MIN_SECRET_DISTINCT:
        return [f"FENGQIAO_SECRET_KEY: 密钥过于简单（不同字符少于 {MIN_SECRET_DISTINCT} 个），请使用随机生成的值"]
    return []


def _parse_plugins(raw: str, problems: list[str]) -> tuple[str, ...] | None:
    raw = raw.strip()
    if raw == "*" or raw == "":
        return None if raw == "*" else ()
    names = tuple(n.strip() for n in raw.split(",") if n.strip())
    for name in names:
        if not _NAME.match(name):
            problems.append(
                f"FENGQIAO_PLUGINS: 插件名 {name!r} 无效 (use lowercase letters, digits and _)"
            )
    return names


def _int_setting(overrides: dict[str, Any], env: dict[str, str], name: str, default: int,
                 minimum: int, maximum: int, message: str, problems: list[str]) -> int:
    """An integer setting from the overrides or ``FENGQIAO_<NAME>``, within bounds; out of
    bounds or not ASCII digits adds ``message`` to ``problems``."""
    raw = overrides.pop(name, None) or env.get(ENV_PREFIX + name.upper())
    if raw is None:
        return default
    text = str(raw).strip() if not isinstance(raw, bool) else ""
    value = parse_int(text, None, minimum=minimum, maximum=maximum)
    if value is None:
        problems.append(message)
        return default
    return value


def load_settings(overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Build :class:`Settings` from the environment, with ``overrides`` taking precedence.

    ``overrides`` uses the lower-case field names (``database_url``, ``mode`` …) and is what
    ``create_app(config=...)`` passes through; tests and the demo use it.
    """
    env = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    problems: list[str] = []

    mode = overrides.pop("mode", None) or env.get(ENV_PREFIX + "MODE", "production")
    if mode not in ("production", "demo", "testing"):
        problems.append(f"FENGQIAO_MODE: {mode!r} 无效，应为 production、demo 或 testing")
        mode = "production"

    instance = overrides.pop("instance_path", None) or env.get(ENV_PREFIX + "INSTANCE_PATH") or "instance"
    instance_path = Path(instance).expanduser().resolve()

    database_url = overrides.pop("database_url", None) or env.get(ENV_PREFIX + "DATABASE_URL")
    if not database_url:
        database_url = f"sqlite:///{instance_path / 'fengqiao.db'}"
    elif not re.match(r"^(sqlite|postgresql)(\+\w+)?://", database_url):
        problems.append(
            "FENGQIAO_DATABASE_URL: 仅支持 sqlite:/// 或 postgresql+psycopg:// 地址，"
            f"收到 {database_url.split('://')[0]!r}"
        )
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]

    redis_url = overrides.pop("redis_url", None) or env.get(ENV_PREFIX + "REDIS_URL") or None
    if redis_url and not re.match(r"^(redis|rediss|unix)://", redis_url):
        problems.append("FENGQIAO_REDIS_URL: 应以 redis://、rediss:// 或 unix:// 开头")

    if "plugins" in overrides:
        plugins = overrides.pop("plugins")
        plugins = None if plugins in (None, "*") else tuple(plugins)
    else:
        plugins = _parse_plugins(env.get(ENV_PREFIX + "PLUGINS", "*"), problems)

    theme = overrides.pop("theme", None) or env.get(ENV_PREFIX + "THEME", DEFAULT_THEME)
    if not _NAME.match(theme):
        problems.append(f"FENGQIAO_THEME: 主题名 {theme!r} 无效")

    # Commands that serve no sessions (db upgrade, users create …) may run without a key.
    require_secret = overrides.pop("require_secret_key", True)
    secret_key = overrides.pop("secret_key", None) or env.get(ENV_PREFIX + "SECRET_KEY")
    if not secret_key:
        if mode == "production" and require_secret:
            problems.append(
                "FENGQIAO_SECRET_KEY: 生产环境必须设置会话密钥 (set a long random value, "
                "e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
            )
        secret_key = secrets.token_urlsafe(48)
    elif mode == "production" and require_secret:
        problems.extend(secret_key_problems(secret_key))

    max_content_length = _int_setting(overrides, env, "max_content_length", 2 * 1024 * 1024, 1, 2**62,
                                      "FENGQIAO_MAX_CONTENT_LENGTH: 应为正整数（字节数）", problems)

    log_format = str(overrides.pop("log_format", None) or env.get(ENV_PREFIX + "LOG_FORMAT") or "text").strip().lower()
    if log_format not in LOG_FORMATS:
        problems.append(f"FENGQIAO_LOG_FORMAT: {log_format!r} 无效，应为 text 或 json")

    session_idle_minutes = _int_setting(overrides, env, "session_idle_minutes", 30, 1, 24 * 60,
                                        "FENGQIAO_SESSION_IDLE_MINUTES: 应为 1–1440 之间的整数（分钟）", problems)
    session_max_hours = _int_setting(overrides, env, "session_max_hours", 12, 1, 7 * 24,
                                     "FENGQIAO_SESSION_MAX_HOURS: 应为 1–168 之间的整数（小时）", problems)

    statement_timeout_seconds = overrides.pop("statement_timeout_seconds", None)

    allow = overrides.pop("webhook_allow_hosts", None)
    if allow is None:
        raw = env.get(ENV_PREFIX + "WEBHOOK_ALLOW_HOSTS")
        allow = [h for h in (raw or "").replace("，", ",").split(",") if h.strip()] if raw is not None else \
            (["127.0.0.1", "::1", "localhost"] if mode in ("demo", "testing") else [])
    webhook_allow_hosts = tuple(h.strip() for h in allow)
    if any(len(h) > 255 or any(c.isspace() or c in "/?#@" for c in h.split("/")[0]) for h in webhook_allow_hosts):
        problems.append("FENGQIAO_WEBHOOK_ALLOW_HOSTS: 应为逗号分隔的主机名、IP 地址或网段（如 10.0.0.0/8）")
    if problems:
        raise ConfigError(problems)
    return Settings(
        instance_path=instance_path,
        database_url=database_url,
        secret_key=secret_key,
        redis_url=redis_url,
        plugins=plugins,
        theme=theme,
        mode=mode,
        max_content_length=max_content_length,
        log_format=log_format,
        session_idle_minutes=session_idle_minutes,
        session_max_hours=session_max_hours,
        statement_timeout_seconds=statement_timeout_seconds,
        webhook_allow_hosts=webhook_allow_hosts,
        extra=overrides,
    )


def public_base_url() -> str:
    """The site's address for links that leave it (QR codes, PDFs, messages) outside a
    request: ``FENGQIAO_PUBLIC_URL``, default ``http://127.0.0.1:5000`` (inside an app context)."""
    from flask import current_app

    return current_app.config.get("PUBLIC_URL") or os.environ.get("FENGQIAO_PUBLIC_URL") or "http://127.0.0.1:5000"
