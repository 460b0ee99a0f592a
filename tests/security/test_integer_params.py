"""Integer parameters: digits other than ASCII ``0-9`` (``²`` passes ``str.isdigit()`` and then
fails ``int()``; ``٣`` and ``１２３`` are accepted by ``int()``), numbers too large for a database
column, and numbers longer than Python's 4,300-digit limit get a 4xx with a Chinese message
within 2 s on every route, never a 500.

The sweep does not rely on a hand-picked list: it calls every GET route of an app with every
installed plugin, records which query parameters each route reads (a recording ``args``
dictionary), and sends the bad values to each of them. Routes reading an integer parameter
must answer 4xx; ``test_every_integer_parameter_name_is_in_the_sweep`` checks the list of
integer names against the source, and ``test_integers_are_parsed_only_by_fengqiao_params``
keeps the source from growing a new ``isdigit()``/``int()`` parse.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from security_world import COMMUNITY_A
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import MapAdapter

from fengqiao.params import parse_int

ROOT = Path(__file__).resolve().parents[2]
BAD = ["²", "٣", "１２３", "⑦", "9" * 30, "9" * 5000]
# Query parameters that hold an integer (or a cursor / year-month made of one) somewhere.
INTEGER_NAMES = {"page", "limit", "version", "year", "cursor", "after", "left", "right",
                 "from_version", "to_version", "base_version", "fq_version", "from", "to", "quarter", "id",
                 "a", "b"}
SLOW = 2.0
READ: set[str] = set()


class _RecordingArgs(ImmutableMultiDict):
    """``request.args`` that remembers every name a view asks for."""

    def get(self, key, default=None, type=None):  # noqa: A002 (werkzeug's signature)
        READ.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):  # noqa: A002
        READ.add(key)
        return super().getlist(key, type)

    def __getitem__(self, key):
        READ.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        READ.add(key)
        return super().__contains__(key)


def _get_routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" in rule.methods and not rule.endpoint.endswith("static"):
            yield rule


def _path(rule, world) -> str:
    values = {}
    for name in sorted(rule.arguments - set(rule.defaults or {})):
        converter = rule._converters[name]
        kind = converter.__class__.__name__
        if kind == "IntegerConverter":
            values[name] = world.job if name == "job_id" else 1
        elif kind == "AnyConverter":
            values[name] = sorted(converter.items)[0]
        else:
            values[name] = _known(name, world)
    adapter: MapAdapter = rule.map.bind("localhost")
    return adapter.build(rule.endpoint, values, method="GET")


def _known(name: str, world) -> str:
    """A path value that exists in the world, so the view gets as far as its parameters."""
    return {"number": world.case_a, "key": "livelihood-request", "username": "shenli",
            "code": COMMUNITY_A, "name": "hello"}.get(name, "x")


def _reads(client, url: str) -> tuple[set[str], int]:
    """The query parameters the route at ``url`` reads, and its status without any."""
    READ.clear()
    status = client.get(url).status_code
    client.get(url + "?" + "&".join(f"{n}=1" for n in sorted(INTEGER_NAMES)))
    return set(READ), status


@pytest.fixture(scope="module")
def recording(world):
    app = world.app
    original = app.request_class
    app.request_class = type("RecordingRequest", (original,), {"parameter_storage_class": _RecordingArgs})
    yield world
    app.request_class = original


def test_unicode_digits_in_every_integer_query_parameter_of_every_route(recording):
    """Integer parameters: 4xx; every other parameter a route reads: anything but a 5xx."""
    world = recording
    failures, checked, forbidden = [], set(), set()
    for persona in ("admin", "shenli"):  # shenli: the routes of permissions admin lacks
        client = world.clients[persona]
        for rule in _get_routes(world.app):
            if persona == "shenli" and rule.endpoint not in forbidden:
                continue
            url = _path(rule, world)
            names, status = _reads(client, url)
            if status == 403:
                forbidden.add(rule.endpoint)
            for name in sorted(names):
                integer = name in INTEGER_NAMES
                for value in BAD if integer else BAD[:1]:
                    # CPU time of this process (the request runs in it): what the refusal cost, not how long
                    # other test processes kept the CPU busy
                    started = time.process_time()
                    response = client.get(f"{url}?{name}={quote(value)}")
                    took = time.process_time() - started
                    if integer:
                        checked.add((rule.endpoint, name))
                    if (response.status_code >= 500 or integer and response.status_code < 400) or took > SLOW:
                        failures.append(f"{persona} {rule.endpoint} ?{name}={value[:8]}: "
                                        f"{response.status_code} in {took:.2f}s")
    # the sweep must really reach the integer parameters of the core and the plugins
    assert {("api.list_cases", "limit"), ("api.list_cases", "cursor"), ("api.show_form", "version"),
            ("web.form_fill", "version")} <= checked, sorted(checked)
    assert {e.split(".")[0] for e, _ in checked} >= {"api", "web", "p_vanguard", "p_points", "p_volunteer",
                                                     "p_certificates"}, sorted(checked)
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("value", BAD)
def test_unicode_digits_in_integer_path_parameters(world, value):
    """``<int:…>`` accepts ASCII digits within a database integer only: anything else is 404."""
    client = world.clients["admin"]
    failures = []
    for rule in world.app.url_map.iter_rules():
        ints = [n for n in rule.arguments if type(rule._converters.get(n)).__name__ == "IntegerConverter"]
        if not ints or not rule.methods & {"GET", "POST"}:
            continue
        for name in ints:
            # swap the first path segment holding this parameter's value
            built = _path_with(rule, world, name, quote(value))
            method = "GET" if "GET" in rule.methods else "POST"
            started = time.process_time()
            response = client.open(built, method=method)
            took = time.process_time() - started
            if response.status_code != 404 or took > SLOW:
                failures.append(f"{method} {rule.rule} {name}={value[:8]}: {response.status_code} in {took:.2f}s")
    assert not failures, "\n".join(failures)


def _path_with(rule, world, name: str, raw: str) -> str:
    marker = 424242421
    values = {}
    for arg in sorted(rule.arguments - set(rule.defaults or {})):
        converter = rule._converters[arg]
        kind = converter.__class__.__name__
        if arg == name:
            values[arg] = marker
        elif kind == "IntegerConverter":
            values[arg] = 1
        elif kind == "AnyConverter":
            values[arg] = sorted(converter.items)[0]
        else:
            values[arg] = _known(arg, world)
    built = rule.map.bind("localhost").build(rule.endpoint, values, method=None)
    return built.replace(str(marker), raw)


@pytest.mark.parametrize(("path", "field", "value"), [
    ("/forms/livelihood-request", "fq_version", "²"),
    ("/cases/{case_a}", "version", "²"),
])
def test_unicode_digits_in_integer_form_fields(world, path, field, value):
    response = world.clients["shenli"].post(path.format(case_a=world.case_a), data={field: value, "action": "accept"})
    assert response.status_code < 500, response.status_code


def test_bulk_selection_and_reveal_pointer_with_unicode_digits(world):
    shenli = world.clients["shenli"]
    bulk = shenli.post("/queues/bulk", data={"op": "transition", "transition": "accept",
                                                    "cases": [f"{world.case_a}:²", f"{world.case_a}:{'9' * 5000}"]})
    assert bulk.status_code < 500
    reveal = world.bare.post(f"/api/v1/cases/{world.case_a}/reveal", json={"field": "/photos/²", "reason": "核实"},
                             headers=world.api_headers("shenli"))
    assert 400 <= reveal.status_code < 500, reveal.get_data(as_text=True)


@pytest.mark.parametrize(("raw", "expected"), [
    ("0", 0), ("42", 42), ("2147483647", 2147483647), ("2147483648", None), ("²", None), ("٣", None),
    ("１２３", None), ("+1", None), ("-1", None), (" 1", None), ("1_000", None), ("", None), (None, None),
    ("9" * 5000, None), ("007", 7),
])
def test_parse_int_accepts_ascii_digits_in_range_only(raw, expected):
    assert parse_int(raw) == expected


def test_parse_int_bounds_and_sign():
    assert parse_int("-5", minimum=-10) == -5
    assert parse_int("-5") is None  # unsigned unless a negative minimum is given
    assert parse_int("5", minimum=6) is None and parse_int("7", maximum=6) is None
    assert parse_int("x", default=3) == 3


# -- the source: one parser, and every integer name in the sweep ---------------------------------

SOURCES = sorted(
    p for p in [*(ROOT / "platform" / "fengqiao").rglob("*.py"), *(ROOT / "plugins").glob("*/fengqiao_*/**/*.py")]
    if "migrations" not in p.parts and "tests" not in p.parts
)
RAW_PARSE = re.compile(r"\.(isdigit|isnumeric|isdecimal)\(|type=int\b|\bint\(\s*request\.")
# Not integer parameters: a search text's shape, a 6-digit TOTP code compared as text, the
# pytest-xdist worker id, and click options (parsed by click, not from a request).
ALLOWED = {
    ("platform/fengqiao/cases/queries.py", "if q.isdigit():"),
    ("platform/fengqiao/accounts/security.py", "if not (code.isdigit() and len(code) == 6):"),
    ("platform/fengqiao/testing/plugin.py", "return int(worker[2:]) if worker[2:].isdigit() else 0"),
}


def test_integers_are_parsed_only_by_fengqiao_params():
    found = []
    for path in SOURCES:
        relative = path.relative_to(ROOT).as_posix()
        if relative == "platform/fengqiao/params.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            text = line.strip()
            allowed = any(relative == where and text.startswith(line) for where, line in ALLOWED)
            if RAW_PARSE.search(text) and not allowed and "click.option" not in text:
                found.append(f"{relative}:{number}: {text}")
    assert not found, "parse integers with fengqiao.params / fengqiao.sdk.parse_int:\n" + "\n".join(found)


NAME_READ = re.compile(r"""(?:int_arg|_int_query|_version_arg|year_arg)\(\s*(?:[\w.]+,\s*)?["'](\w+)["']""")


def test_every_integer_parameter_name_is_in_the_sweep():
    names = set()
    for path in SOURCES:
        names.update(NAME_READ.findall(path.read_text(encoding="utf-8")))
    assert {"limit", "version"} <= names, names
    assert names <= INTEGER_NAMES, f"add to INTEGER_NAMES: {sorted(names - INTEGER_NAMES)}"
