"""``fengqiao demo`` (what ``make demo`` runs) prints one short banner: the URL, the demo
accounts by role with their shared password, and how to stop; nothing of pip or Werkzeug."""

from __future__ import annotations

import re
import socket

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from werkzeug.serving import BaseWSGIServer

from fengqiao.accounts import passwords
from fengqiao.accounts.roles import ROLE_LABELS
from fengqiao.cli import DEMO_DB, demo_banner
from fengqiao.demo_data import DEMO_PASSWORD, STAFF
from fengqiao.testing.cli import run_cli


def _accounts_by_role(banner: str) -> dict[str, list[str]]:
    """Label → usernames in STAFF order (the account to try first leads its line, with what
    to try in brackets)."""
    order = [username for username, *_ in STAFF]
    listed = {}
    for line in banner.splitlines():
        label, sep, names = line.strip().partition("：")
        if sep and label in ROLE_LABELS.values():
            listed[label] = sorted(re.sub(r"（[^）]+）", " ", names).split(), key=order.index)
    return listed


def test_each_role_line_leads_with_the_account_to_try_and_what_to_try():
    from fengqiao.demo_data import TRY_FIRST

    banner = demo_banner("http://127.0.0.1:5123/")
    for role, (username, hint) in TRY_FIRST.items():
        assert f"{ROLE_LABELS[role]}：{username}（{hint}）" in banner


def test_banner_lists_every_demo_account_under_its_role():
    banner = demo_banner("http://127.0.0.1:5123/")
    assert "http://127.0.0.1:5123/login" in banner and "http://127.0.0.1:5123/forms" in banner
    assert DEMO_PASSWORD in banner and "Ctrl+C" in banner
    assert len(banner.strip().splitlines()) <= 15  # a banner, not a roster
    expected: dict[str, list[str]] = {}
    for username, _name, role, _org, _duty in STAFF:
        expected.setdefault(ROLE_LABELS[role], []).append(username)
    assert _accounts_by_role(banner) == expected


def _demo_env(tmp_path) -> dict[str, str]:
    return {"FENGQIAO_INSTANCE_PATH": str(tmp_path / "instance")}


def test_a_busy_port_stops_the_demo_before_any_set_up(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(["demo", "--port", str(port)], env=_demo_env(tmp_path))
    assert result.returncode == 1 and result.stdout == ""
    assert f"Port {port} is in use" in result.stderr  # Werkzeug's own message
    assert not (tmp_path / "instance" / DEMO_DB).exists()  # failed before migrating anything


@pytest.mark.slow
def test_demo_sets_up_then_prints_only_the_banner(tmp_path, monkeypatch):
    """Migrate and load into a fresh SQLite file, print the banner, serve until Ctrl+C."""
    served = []

    def interrupted(server, *args, **kwargs):  # Werkzeug's serve_forever returns on Ctrl+C
        served.append(server.server_address)
        server.server_close()

    monkeypatch.setattr(BaseWSGIServer, "serve_forever", interrupted)
    # cheap hashes, as in testing mode: 25 production argon2 hashes cost seconds
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.setattr("fengqiao.jobs.sweep.start_inline_ticker", lambda app: None)  # no thread left behind
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    result = run_cli(["demo", "--port", str(port)], env=_demo_env(tmp_path))

    assert result.returncode == 0, result.stderr
    assert served == [("127.0.0.1", port)]
    assert result.stdout == demo_banner(f"http://127.0.0.1:{port}/") + "\n" + "演示已停止。\n"
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'instance' / DEMO_DB}")
    try:
        with engine.connect() as conn:
            usernames = set(conn.scalars(sa.text("SELECT username FROM users")))
    finally:
        engine.dispose()
    assert {username for username, *_ in STAFF} <= usernames
