"""Work every test's app repeats, done once per test process (docs/testing.md, "The app").

Each test builds its own app, and Werkzeug compiles a URL builder (an AST turned into a code
object) for each of the app's 230-odd routes, twice: over half of ``create_app``. A builder
depends only on the rule's parsed parts, so the test process keeps the ones it compiled.
Installed by the pytest plugin only; a served app builds its routes once and is not touched.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable

from sqlalchemy.engine import Engine
from werkzeug.routing.rules import Rule


def memoise_url_builders() -> bool:
    """Keep Werkzeug's compiled URL builders per rule shape; False where this Werkzeug has
    no such step (another version: then nothing changes)."""
    compile_builder = getattr(Rule, "_compile_builder", None)
    if compile_builder is None:
        return False
    if getattr(compile_builder, "memoised", False):
        return True
    builders: dict[tuple, Callable] = {}

    @functools.wraps(compile_builder)
    def memoised(rule: Rule, append_unknown: bool = True) -> Callable:
        # What the builder's code is made of: the parsed parts (converters and defaults are
        # called through the rule it is bound to) and defaults folded in as constants.
        key = (rule.rule, tuple(rule._trace), repr(sorted((rule.defaults or {}).items())), append_unknown)
        if key not in builders:
            builders[key] = compile_builder(rule, append_unknown)
        return builders[key]

    memoised.memoised = True  # type: ignore[attr-defined]
    Rule._compile_builder = memoised  # type: ignore[method-assign]
    return True


def memoise_rule_parsing() -> bool:
    """Keep what Werkzeug's parser makes of each route string (the regular expressions of its
    parts, about half of what is left of ``create_app``): the parts, the trace and fresh
    copies of the converters, bound to the new app's URL map. The key holds the converter
    classes the map offers, so an app with other converters parses again. False where this
    Werkzeug parses otherwise (then nothing changes)."""
    parse = getattr(Rule, "_parse_rule", None)
    if parse is None:
        return False
    if getattr(parse, "memoised", False):
        return True
    parsed: dict[tuple, tuple] = {}

    @functools.wraps(parse)
    def memoised(rule: Rule, text: str) -> list:
        key = (text, frozenset(rule.map.converters.items()), type(rule).get_converter)
        if key not in parsed:
            trace, converters = len(rule._trace), dict(rule._converters)
            parts = list(parse(rule, text))
            added = {name: conv for name, conv in rule._converters.items() if converters.get(name) is not conv}
            parsed[key] = (parts, rule._trace[trace:], added)
            return parts
        parts, trace, added = parsed[key]
        rule._trace.extend(trace)
        for name, conv in added.items():
            fresh = copy.copy(conv)
            fresh.map = rule.map
            rule._converters[name] = fresh
            rule.arguments.add(name)
        return list(parts)

    memoised.memoised = True  # type: ignore[attr-defined]
    Rule._parse_rule = memoised  # type: ignore[method-assign]
    return True


_KEPT_ENGINES: dict[tuple[str, int | None], Engine] = {}
_SQLITE_MODEL: list[Engine] = []


def share_compiled_statements() -> bool:
    """Test apps share SQLAlchemy's compiled statements. SQLAlchemy caches them per engine,
    keyed by the engine's dialect, so each test's new engine compiled every statement it ran
    again: a fifth of a test's time. On PostgreSQL a test process has one database, so it keeps
    one engine per URL (each test still ends by emptying its pool, ``Database.dispose``, and
    :func:`drop_kept_connections` empties it again before the reset). SQLite test files differ
    per test: their engines are new but take the dialect (initialised: server version,
    features) and statement cache of one in-memory engine (one sqlite3 library, one dialect
    configuration: ``make_engine`` sets no dialect options)."""
    import fengqiao.app as app_module

    make = app_module.make_engine
    if getattr(make, "shared", False):
        return True

    @functools.wraps(make)
    def shared(url: str, statement_timeout_seconds: int | None = None) -> Engine:
        if url.startswith("sqlite"):
            if not _SQLITE_MODEL:  # an in-memory engine, connected once: that initialises its dialect
                model = make("sqlite://")
                with model.connect():
                    pass
                _SQLITE_MODEL.append(model)
            engine = make(url, statement_timeout_seconds)
            engine.dialect, engine._compiled_cache = _SQLITE_MODEL[0].dialect, _SQLITE_MODEL[0]._compiled_cache
            return engine
        key = (url, statement_timeout_seconds)
        if key not in _KEPT_ENGINES:
            _KEPT_ENGINES[key] = make(url, statement_timeout_seconds)
        return _KEPT_ENGINES[key]

    shared.shared = True  # type: ignore[attr-defined]
    app_module.make_engine = shared
    return True


def drop_kept_connections(url: str) -> None:
    """Close the pooled connections of the kept engines of ``url`` (a test that left an app
    undisposed would otherwise hand its connections, ended by the reset, to the next test)."""
    for (kept_url, _timeout), engine in _KEPT_ENGINES.items():
        if kept_url == url:
            engine.dispose()
