"""Load driver (asyncio + httpx, loopback only): a busy morning against a running stack.

Phases of ``FENGQIAO_LOAD_SECONDS`` (default 30) each, closed loop, no think time:

1. **trivial** — ``USERS`` virtual users POST JSON to ``bench/trivial_app.py`` served by the
   same gunicorn configuration: what HTTP + Flask + the driver cost on this machine;
1b. **floor** (when ``bench_load.py`` runs it) — the same app's ``/floor``: validate and one
   INSERT + commit in PostgreSQL, the least a durable submission costs;
2. **submissions** — the same number of users submit ``livelihood-request`` through the API;
3. **mixed** — residents submitting, community staff paging ``/api/v1/cases`` and ``/queues``
   by cursor, opening cases, claiming fresh ones and commenting, supervisors opening
   ``/metrics`` and ``GET /api/v1/metrics``.

Submissions carry a grid worker's bearer token (zhangmin, who files for residents): anonymous
submissions are rate-limited per client address, and every virtual user here shares one
address. Staff claim only cases this run submitted, each case once (a shared queue), so a
409 would be a real error. Any unexpected status or transport error counts as an error.

Throughput per core: requests per CPU-second spent by the server side (gunicorn workers, RQ
workers and the jobs they fork, the PostgreSQL backends of the load database) when the
caller can name those processes (``bench_load.py`` does), otherwise per core of the machine.

Standalone against a stack someone else started (demo data loaded)::

    python bench/load.py --app http://127.0.0.1:8000 --trivial http://127.0.0.1:8001
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

SECONDS = float(os.environ.get("FENGQIAO_LOAD_SECONDS", "30"))
USERS = int(os.environ.get("FENGQIAO_LOAD_USERS", "8"))  # trivial and submission phases
MIX = {"resident": 4, "staff": 3, "supervisor": 1}  # the mixed phase's users by role
ACCOUNTS = {"resident": "zhangmin", "staff": "shenli", "supervisor": "ducha"}
PASSWORD = "Fengqiao2026"
FORM = "livelihood-request"
PAGE_LIMIT = 50
DEEPEST_PAGE = 20  # staff page this far, then start again from the first page
SUBMIT_RATIO_TARGET = 0.70
DASHBOARD_P95_TARGET_MS = 300.0
SUBMIT_OPS = ("POST submission",)
FLOOR_PHASE = "floor: validate + one INSERT (same gunicorn)"
DASHBOARD_OPS = ("GET /metrics", "GET /api/v1/metrics")
QUEUE_OPS = ("GET /queues (cursor)",)
QUEUE_P50_TARGET_MS = 100.0
_CURSOR_LINK = re.compile(r'href="[^"]*[?&]cursor=([^"&]+)')
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

TYPES = ("consult", "help", "complaint", "suggestion", "report")
TOPICS = ("小区路灯坏了一个多月没人修", "菜市场门口占道经营堵车", "楼上漏水物业不处理",
          "公交站台雨棚破损", "夜间施工噪音扰民", "低保申请材料咨询", "河道漂浮垃圾较多")


def percentile(samples: list[float], q: int) -> float:
    if not samples:
        return float("nan")
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU of each process, including its reaped children (RQ work horses)."""
    seconds = {}
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)"; fields[11] is utime
        seconds[pid] = sum(int(v) for v in fields[11:15]) / _CLOCK_TICKS
    return seconds


@dataclass
class Phase:
    """One phase's figures: latencies per operation, errors, wall and server CPU time."""

    name: str
    seconds: float = 0.0
    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    cpu: float | None = None  # server-side CPU seconds, when the processes are known
    cpu_by_group: dict[str, float] = field(default_factory=dict)  # e.g. web / workers / database
    driver_cpu: float = 0.0  # this process's own CPU: near the wall time, the driver is the limit

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.samples.values())

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def rps(self, ops: tuple[str, ...] | None = None) -> float:
        n = sum(len(v) for k, v in self.samples.items() if ops is None or k in ops)
        return n / self.seconds if self.seconds else 0.0

    def per_core(self, ops: tuple[str, ...] | None = None) -> float:
        """Requests per server CPU-second (or per machine core-second without CPU figures)."""
        n = sum(len(v) for k, v in self.samples.items() if ops is None or k in ops)
        if self.cpu:
            return n / self.cpu
        return n / (self.seconds * (os.cpu_count() or 1)) if self.seconds else 0.0

    def p95(self, ops: tuple[str, ...]) -> float:
        return percentile([s for op in ops for s in self.samples.get(op, [])], 95)

    def p50(self, ops: tuple[str, ...]) -> float:
        return percentile([s for op in ops for s in self.samples.get(op, [])], 50)

    def fail(self, op: str, why: str) -> None:
        self.errors[op] += 1
        if len(self.examples) < 10:
            self.examples.append(f"{op}: {why}")

    async def call(self, client: httpx.AsyncClient, op: str, method: str, url: str,
                   ok: tuple[int, ...] = (200,), **kwargs) -> httpx.Response | None:
        began = time.perf_counter()
        try:
            response = await client.request(method, url, **kwargs)
        except httpx.HTTPError as err:
            self.samples[op].append((time.perf_counter() - began) * 1000)
            self.fail(op, f"{type(err).__name__}: {err}")
            return None
        self.samples[op].append((time.perf_counter() - began) * 1000)
        if response.status_code not in ok:
            self.fail(op, f"HTTP {response.status_code} {response.text[:160]!r}")
            return None
        return response

    def lines(self) -> list[str]:
        cpu = f", server CPU {self.cpu:.1f} s" if self.cpu is not None else ""
        if len(self.cpu_by_group) > 1:
            cpu += " (" + ", ".join(f"{k} {v:.1f}" for k, v in self.cpu_by_group.items()) + ")"
        cpu += f", driver CPU {self.driver_cpu:.1f} s"
        out = [f"-- {self.name}: {self.requests:,} requests in {self.seconds:.1f} s = "
               f"{self.rps():,.1f} req/s, {self.error_count} errors{cpu}",
               f"   {'operation':<34}{'count':>8}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"]
        for op in sorted(self.samples):
            s = self.samples[op]
            out.append(f"   {op:<34}{len(s):>8,}{len(s) / self.seconds:>9.1f}{percentile(s, 50):>9.1f}"
                       f"{percentile(s, 95):>9.1f}{percentile(s, 99):>9.1f}{self.errors[op]:>8}")
        out += [f"   error: {e}" for e in self.examples]
        return out


# ---- virtual users --------------------------------------------------------------------------

_serial = itertools.count(1)


def submission(rng: random.Random) -> dict:
    n = next(_serial)
    return {"request_type": rng.choice(TYPES), "summary": f"{rng.choice(TOPICS)}（压测 {n}）",
            "content": "居民反映情况属实，请尽快核实处理。" * rng.randint(1, 4),
            "caller_name": "压测居民", "caller_mobile": f"138{rng.randrange(10**8):08d}",
            "address": f"云澜县湖滨路 {rng.randint(1, 300)} 号"}


async def resident(phase: Phase, client: httpx.AsyncClient, deadline: float, token: str,
                   fresh: asyncio.Queue | None, rng: random.Random) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    while time.monotonic() < deadline:
        response = await phase.call(client, "POST submission", "POST",
                                    f"/api/v1/forms/{FORM}/submissions", ok=(201,),
                                    json=submission(rng), headers=headers)
        if response is not None and fresh is not None and not fresh.full():
            fresh.put_nowait(response.json()["case_number"])


async def trivial_user(phase: Phase, client: httpx.AsyncClient, deadline: float,
                       rng: random.Random, path: str = "/submit", op: str = "POST trivial") -> None:
    while time.monotonic() < deadline:
        await phase.call(client, op, "POST", path, ok=(201,), json=submission(rng))


async def staff(phase: Phase, client: httpx.AsyncClient, deadline: float, token: str,
                fresh: asyncio.Queue, rng: random.Random) -> None:
    """Pages the API list and the HTML queue by cursor, opens, claims and comments."""
    headers = {"Authorization": f"Bearer {token}"}
    api_cursor, api_depth, html_cursor, html_depth = None, 0, None, 0
    seen: list[str] = []
    while time.monotonic() < deadline:
        roll = rng.random()
        if roll < 0.40:
            params = {"limit": PAGE_LIMIT, **({"cursor": api_cursor} if api_cursor else {})}
            response = await phase.call(client, "GET /api/v1/cases (cursor)", "GET", "/api/v1/cases",
                                        params=params, headers=headers)
            body = response.json() if response is not None else {}
            seen = [c["number"] for c in body.get("items", [])] or seen
            api_depth += 1
            api_cursor = body.get("next_cursor") if api_depth < DEEPEST_PAGE else None
            api_depth = api_depth if api_cursor else 0
        elif roll < 0.60:
            params = {"cursor": html_cursor} if html_cursor else {}
            response = await phase.call(client, "GET /queues (cursor)", "GET", "/queues",
                                        params=params, headers=headers)
            found = _CURSOR_LINK.search(response.text) if response is not None else None
            html_depth += 1
            html_cursor = found.group(1).replace("&amp;", "&") if found and html_depth < DEEPEST_PAGE else None
            html_depth = html_depth if html_cursor else 0
        elif roll < 0.85 and not fresh.empty():
            number = fresh.get_nowait()  # each fresh case is claimed by one staff user only
            detail = await phase.call(client, "GET /api/v1/cases/{n}", "GET", f"/api/v1/cases/{number}",
                                      headers=headers)
            if detail is not None:
                await phase.call(client, "POST actions/claim", "POST",
                                 f"/api/v1/cases/{number}/actions/claim",
                                 json={"version": detail.json()["version"]}, headers=headers)
        elif seen:
            number = rng.choice(seen)
            await phase.call(client, "POST actions/comment", "POST",
                             f"/api/v1/cases/{number}/actions/comment",
                             json={"comment": "已电话联系反映人，正在核实。"}, headers=headers)
        else:
            await asyncio.sleep(0.01)


async def supervisor(phase: Phase, client: httpx.AsyncClient, deadline: float, token: str,
                     rng: random.Random) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    while time.monotonic() < deadline:
        if rng.random() < 0.5:
            await phase.call(client, "GET /metrics", "GET", "/metrics", headers=headers)
        else:
            await phase.call(client, "GET /api/v1/metrics", "GET", "/api/v1/metrics", headers=headers)


# ---- phases ---------------------------------------------------------------------------------


Pids = Callable[[], "list[int] | dict[str, list[int]]"]


def _grouped(pids: Pids) -> dict[str, dict[int, float]]:
    """CPU seconds per process, by group (a plain list of pids is one group, "server")."""
    found = pids()
    groups = found if isinstance(found, dict) else {"server": found}
    return {name: cpu_seconds(members) for name, members in groups.items()}


async def _run(phase: Phase, make_users: Callable[[float], list], seconds: float,
               pids: Pids | None) -> Phase:
    before = _grouped(pids) if pids else None
    began, driver = time.monotonic(), time.process_time()
    await asyncio.gather(*make_users(began + seconds))
    phase.seconds = time.monotonic() - began
    phase.driver_cpu = time.process_time() - driver
    if pids:
        after = _grouped(pids)
        phase.cpu_by_group = {name: sum(v - before.get(name, {}).get(pid, 0.0) for pid, v in used.items())
                              for name, used in after.items()}
        phase.cpu = sum(phase.cpu_by_group.values())
    return phase


def _client(base: str, users: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    return httpx.AsyncClient(base_url=base, limits=limits, timeout=httpx.Timeout(30.0))


async def run_all(app_url: str, trivial_url: str, tokens: dict[str, str], seconds: float = SECONDS,
                  app_pids: Pids | None = None, trivial_pids: Pids | None = None,
                  floor_pids: Pids | None = None) -> list[Phase]:
    """The phases in turn; each phase's users are spread over the roles' tokens. With
    ``floor_pids`` (the trivial app's processes and the database's), the trivial app's
    ``/floor`` — validate + one INSERT — runs as a phase of its own after ``/submit``."""
    rng = random.Random(2026)
    phases = []
    async with _client(trivial_url, USERS) as client:
        for _ in range(20):  # warm-up: imports, keep-alive connections
            await client.post("/submit", json={})
        phase = Phase("trivial endpoint (same gunicorn)")
        phases.append(await _run(phase, lambda end: [trivial_user(phase, client, end, rng)
                                                     for _ in range(USERS)], seconds, trivial_pids))
        if floor_pids is not None:
            for _ in range(20):
                await client.post("/floor", json=submission(rng))
            floor = Phase(FLOOR_PHASE)
            phases.append(await _run(floor, lambda end: [trivial_user(floor, client, end, rng, "/floor", "POST floor")
                                                         for _ in range(USERS)], seconds, floor_pids))
    users = max(USERS, sum(MIX.values()))
    async with _client(app_url, users) as client:
        warm = Phase("warm-up")
        spare: asyncio.Queue = asyncio.Queue()
        await _run(warm, lambda end: [resident(warm, client, end, tokens["resident"], spare, rng),
                                      staff(warm, client, end, tokens["staff"], spare, rng),
                                      supervisor(warm, client, end, tokens["supervisor"], rng)],
                   min(5.0, seconds), None)
        if warm.error_count:  # a broken stack: say why before measuring anything
            print("\n".join(warm.lines()))
        phase = Phase("submissions only")
        phases.append(await _run(phase, lambda end: [
            resident(phase, client, end, tokens["resident"], None, rng) for _ in range(USERS)],
            seconds, app_pids))
        fresh: asyncio.Queue = asyncio.Queue(maxsize=10_000)
        phase = Phase("mixed workload")

        def mixed(end: float) -> list:
            return ([resident(phase, client, end, tokens["resident"], fresh, rng) for _ in range(MIX["resident"])]
                    + [staff(phase, client, end, tokens["staff"], fresh, rng) for _ in range(MIX["staff"])]
                    + [supervisor(phase, client, end, tokens["supervisor"], rng)
                       for _ in range(MIX["supervisor"])])

        phases.append(await _run(phase, mixed, seconds, app_pids))
    return phases


@dataclass(frozen=True)
class Verdict:
    measurement: str
    value: float
    baseline: float | None
    ratio: float | None
    target: str
    met: bool
    unit: str = ""


def verdicts(phases: list[Phase]) -> list[Verdict]:
    trivial, submissions, mixed = phases[0], phases[-2], phases[-1]
    floor = next((p for p in phases if p.name == FLOOR_PHASE), None)
    per_core = submissions.per_core(SUBMIT_OPS) / trivial.per_core()
    raw = submissions.rps(SUBMIT_OPS) / trivial.rps()
    errors = sum(p.error_count for p in phases)
    dashboards = mixed.p95(DASHBOARD_OPS)
    queues = mixed.p50(QUEUE_OPS)
    basis = "server CPU-s" if submissions.cpu and trivial.cpu else "core-s"
    return [
        Verdict(f"submissions per {basis} vs trivial endpoint", submissions.per_core(SUBMIT_OPS),
                trivial.per_core(), per_core, f"≥ {SUBMIT_RATIO_TARGET:.0%}", per_core >= SUBMIT_RATIO_TARGET,
                " req"),
        Verdict("submissions req/s vs trivial (same cores)", submissions.rps(SUBMIT_OPS), trivial.rps(), raw,
                "(information)", True, " req/s"),
        *([Verdict(f"floor (validate + INSERT) per {basis} vs trivial", floor.per_core(), trivial.per_core(),
                   floor.per_core() / trivial.per_core(), "(information)", True, " req"),
           Verdict(f"submissions per {basis} vs the floor", submissions.per_core(SUBMIT_OPS), floor.per_core(),
                   submissions.per_core(SUBMIT_OPS) / floor.per_core(), "(information)", True, " req")]
          if floor is not None and floor.per_core() and trivial.per_core() else []),
        Verdict("dashboards p95 under mixed load", dashboards, None, None,
                f"< {DASHBOARD_P95_TARGET_MS:.0f} ms", dashboards < DASHBOARD_P95_TARGET_MS, " ms"),
        Verdict("staff /queues p50 under mixed load", queues, None, None,
                f"≤ {QUEUE_P50_TARGET_MS:.0f} ms", queues <= QUEUE_P50_TARGET_MS, " ms"),
        Verdict("errors (all phases)", errors, None, None, "0", errors == 0),
    ]


def print_results(phases: list[Phase]) -> list[Verdict]:
    for phase in phases:
        print("\n".join(phase.lines()))
    found = verdicts(phases)
    print(f"   {'measurement':<48}{'figure':>12}{'baseline':>12}{'ratio':>8}  {'target':<14}result")
    for v in found:
        info = v.target.startswith("(")
        ratio = f"{v.ratio:.1%}" if v.ratio is not None else ""
        baseline = f"{v.baseline:,.1f}" if v.baseline is not None else ""
        print(f"   {v.measurement:<48}{v.value:>12,.1f}{baseline:>12}{ratio:>8}  {v.target:<14}"
              f"{'' if info else ('PASS' if v.met else 'MISS')}")
    return found


# ---- standalone -----------------------------------------------------------------------------


def login_tokens(app_url: str) -> dict[str, str]:
    tokens = {}
    with httpx.Client(base_url=app_url, timeout=10) as client:
        for role, username in ACCOUNTS.items():
            response = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
            response.raise_for_status()
            tokens[role] = response.json()["token"]
    return tokens


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", required=True, help="Fengqiao base URL (loopback)")
    parser.add_argument("--trivial", required=True, help="trivial_app base URL (loopback)")
    parser.add_argument("--seconds", type=float, default=SECONDS)
    args = parser.parse_args(argv)
    for url in (args.app, args.trivial):
        if httpx.URL(url).host not in ("127.0.0.1", "localhost", "::1"):
            parser.error(f"{url}: loopback only")
    phases = asyncio.run(run_all(args.app, args.trivial, login_tokens(args.app), args.seconds))
    found = print_results(phases)
    return 0 if all(v.met for v in found) else 1


if __name__ == "__main__":
    sys.exit(main())
