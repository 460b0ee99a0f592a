"""``python -m fengqiao.stack up|down|status`` (``make stack-up`` / ``make stack-down``): the
production topology on one machine, for trying deployments and load tests.

One gunicorn master with N web workers (as in production: the master replaces a crashed
worker, the workers share one listening socket, and a load driver needs one URL) plus N
``fengqiao worker`` processes, on the local PostgreSQL (a database of its own) and Redis (a
db number of its own). Pid files and logs live in ``./instance/stack/``. ``down`` sends
SIGTERM, waits, then SIGKILLs what is left; it is safe to run twice.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import click

STACK_DIR = Path("instance/stack")
DEFAULT_DATABASE = "postgresql+psycopg://postgres@127.0.0.1:5432/fengqiao_stack"
DEFAULT_REDIS = "redis://127.0.0.1:6379/5"
STOP_WAIT_SECONDS = 20
READY_WAIT_SECONDS = 90


def _folder() -> Path:
    folder = STACK_DIR.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _alive(pid: int) -> bool:
    """Running, and one of ours (a pid file may outlive its process and the pid be reused)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except (OSError, IndexError):
        return False
    return stat[0] != "Z" and any(mark in cmdline for mark in (b"gunicorn", b"fengqiao", b"rq:"))


def descendants(pid: int) -> list[int]:
    """Processes below ``pid``; RQ puts each work horse in a session of its own."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            children.setdefault(int(stat.read_text().rsplit(")", 1)[1].split()[1]), []).append(
                int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _pid_files(folder: Path) -> list[Path]:
    """Workers first, the web server last: stop the consumers before the producer."""
    return sorted(folder.glob("*.pid"), key=lambda p: (p.stem == "web", p.stem))


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def _environment(folder: Path) -> dict[str, str]:
    key_file = folder / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    env = dict(os.environ)
    env.update({
        "FENGQIAO_MODE": "production",
        "FENGQIAO_DATABASE_URL": os.environ.get("FENGQIAO_STACK_DATABASE_URL", DEFAULT_DATABASE),
        "FENGQIAO_REDIS_URL": os.environ.get("FENGQIAO_STACK_REDIS_URL", DEFAULT_REDIS),
        "FENGQIAO_SECRET_KEY": key_file.read_text().strip(),
        "FENGQIAO_INSTANCE_PATH": str(folder / "instance"),
        "FENGQIAO_LOG_FORMAT": os.environ.get("FENGQIAO_LOG_FORMAT", "json"),
    })
    return env


def _create_database(url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = dict(host=parsed.host or "127.0.0.1", port=parsed.port or 5432,
                 user=parsed.username or "postgres", dbname="postgres", connect_timeout=5)
    if parsed.password:
        admin["password"] = parsed.password
    with psycopg.connect(**admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{parsed.database}"')
            click.echo(f"已创建数据库 {parsed.database}")


def _run_step(args: list[str], env: dict[str, str], log: Path) -> None:
    with open(log, "ab") as out:
        done = subprocess.run([sys.executable, "-m", "fengqiao.cli", *args], env=env, stdout=out,
                              stderr=subprocess.STDOUT, timeout=600)
    if done.returncode != 0:
        raise click.ClickException(f"`fengqiao {' '.join(args)}` 失败，见 {log}:\n{_tail(log)}")


def _spawn(name: str, args: list[str], env: dict[str, str], folder: Path) -> int:
    with open(folder / f"{name}.log", "ab") as out:
        process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    (folder / f"{name}.pid").write_text(f"{process.pid}\n")
    return process.pid


def _control_socket(folder: Path) -> list[str]:
    """gunicorn ≥ 27 opens a control socket, by default one per user: give the stack its own."""
    from gunicorn.config import KNOWN_SETTINGS

    if any(setting.name == "control_socket" for setting in KNOWN_SETTINGS):
        return ["--control-socket", str(folder / "gunicorn.ctl")]
    return []


def _tail(path: Path, lines: int = 15) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def running(folder: Path) -> dict[str, int | None]:
    """Each process of the stack by name, with its pid while it runs."""
    return {p.stem: pid if (pid := _read_pid(p)) and _alive(pid) else None for p in _pid_files(folder)}


def stop_process(pid: int, wait: float = STOP_WAIT_SECONDS) -> str:
    """SIGTERM (gunicorn finishes requests, RQ finishes the job), wait, then SIGKILL the tree."""
    if not _alive(pid):
        return "未运行"
    below = descendants(pid)
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.2)
    if not _alive(pid) and not any(_alive(p) for p in below):
        return "已停止"
    for target in [pid, *below]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(target, signal.SIGKILL)
    return "已强制停止 (SIGKILL)"


def stack_up(web_workers: int, workers: int, port: int) -> None:
    folder = _folder()
    already = {name: pid for name, pid in running(folder).items() if pid}
    if already:
        click.echo(f"本地集群已在运行：{already}（先 make stack-down 再启动）")
        return
    env = _environment(folder)
    _create_database(env["FENGQIAO_DATABASE_URL"])
    setup_log = folder / "setup.log"
    _run_step(["db", "upgrade"], env, setup_log)
    _run_step(["demo-data", "load"], env, setup_log)
    base = f"http://127.0.0.1:{port}"
    _spawn("web", [sys.executable, "-m", "gunicorn", "-c", "python:fengqiao.gunicorn_conf",
                   "-b", f"127.0.0.1:{port}", "-w", str(web_workers), *_control_socket(folder),
                   "fengqiao.wsgi:app"], env, folder)
    for n in range(1, workers + 1):
        _spawn(f"worker-{n}", [sys.executable, "-m", "fengqiao.cli", "worker"], env, folder)
    deadline = time.monotonic() + READY_WAIT_SECONDS
    while not _ready(f"{base}/readyz"):
        dead = [name for name, pid in running(folder).items() if pid is None]
        if dead or time.monotonic() > deadline:
            logs = "\n".join(f"--- {name}.log\n{_tail(folder / f'{name}.log')}" for name in dead or ["web"])
            stack_down()
            raise click.ClickException(f"本地集群未能就绪（{', '.join(dead) or '超时'}）:\n{logs}")
        time.sleep(0.5)
    from fengqiao.demo_data import DEMO_PASSWORD

    click.echo(f"本地集群已就绪 · stack ready: {base}/  （{web_workers} 个 Web 进程 + {workers} 个任务进程）")
    click.echo(f"  登录 {base}/login   演示账号 admin / shenli / zhangmin / zhoujian（领导）/ tangmin（调解员）…，密码 {DEMO_PASSWORD}")
    click.echo(f"  健康 {base}/healthz   就绪 {base}/readyz   接口 {base}/api/v1/openapi.json")
    click.echo(f"  日志与 pid 文件: {folder}/   停止: make stack-down")


def stack_down() -> None:
    folder = _folder()
    files = _pid_files(folder)
    if not files:
        click.echo("本地集群未运行 (nothing to stop)")
        return
    for path in files:
        pid = _read_pid(path)
        outcome = stop_process(pid) if pid else "pid 文件无效"
        click.echo(f"{path.stem}: {outcome}")
        path.unlink(missing_ok=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def stack() -> None:
    """A local 2 web + 2 worker stack on the local PostgreSQL and Redis."""


@stack.command("up")
@click.option("--web-workers", default=2, show_default=True, type=click.IntRange(1, 32))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 32))
@click.option("--port", default=8101, show_default=True, type=click.IntRange(1024, 65535))
def up(web_workers: int, workers: int, port: int) -> None:
    """Create the database if missing, migrate, load the demo county, start, wait for /readyz."""
    stack_up(web_workers, workers, port)


@stack.command("down")
def down() -> None:
    """SIGTERM every process of the stack, wait, SIGKILL what is left (idempotent)."""
    stack_down()


@stack.command("status")
def status() -> None:
    """Which processes run; exit 1 when any is down."""
    state = running(_folder())
    if not state:
        click.echo("本地集群未运行")
    for name, pid in state.items():
        click.echo(f"{name}: {'运行中 pid ' + str(pid) if pid else '未运行'}")
    if not state or not all(state.values()):
        sys.exit(1)


if __name__ == "__main__":
    stack()
