"""Run the ``fengqiao`` command inside the test process (docs/testing.md, "The command").

A subprocess costs a Python start-up and the app's imports (about a second) per call; Click's
runner costs neither. ``run_cli`` takes what ``subprocess.run`` would (arguments, environment,
stdin, working folder) and returns what it would (``returncode``, ``stdout``, ``stderr``), so a
test reads the same either way. What a command changes in the process — ``FENGQIAO_*``
variables, the working folder, the root logger — is put back afterwards. A few tests still
start the real executable (entry point, signals), see tests/test_cli.py.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import traceback
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path


@contextlib.contextmanager
def _logging_kept() -> Iterator[None]:
    """Put the root logger back as it was (a non-testing app installs its own handler)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in ("fengqiao", "fengqiao.requests")}
    try:
        yield
    finally:
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(level)
        for name, old in levels.items():
            logging.getLogger(name).setLevel(old)


def run_cli(args: Sequence[str], env: Mapping[str, str] | None = None, input: str | None = None,
            cwd: str | Path | None = None) -> subprocess.CompletedProcess[str]:
    """``fengqiao ARGS`` in-process, with ``env`` on top of an environment without any
    ``FENGQIAO_*`` variable of the test run's (as the subprocess tests did)."""
    from click.testing import CliRunner

    from fengqiao.cli import main

    environ: dict[str, str | None] = {k: None for k in os.environ if k.startswith("FENGQIAO_")}
    environ.update(env or {})
    folder = contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext()
    with folder, _logging_kept():
        result = CliRunner().invoke(main, list(args), input=input, env=environ, prog_name="fengqiao")
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))  # as Python prints it
    return subprocess.CompletedProcess(["fengqiao", *args], result.exit_code, result.stdout, stderr)
