"""Work every test's app repeats, done once per test process (docs/testing.md, "The app").

Each test builds its own app, and Werkzeug compiles a URL builder (an AST turned into a code
object) for each of the app's 230-odd routes, twice: over half of ``create_app``. A builder
depends only on the rule's parsed parts, so the test process keeps the ones it compiled.
Installed by the pytest plugin only; a served app builds its routes once and is not touched.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

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
