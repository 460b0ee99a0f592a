"""``--dist loadgroup`` for this pytest: the worker tells the controller its groups in a file.

pytest-xdist keeps the tests of an ``xdist_group`` on one worker by appending ``@group`` to
their node ids (``item._nodeid``); pytest 9 builds a node id from ``item._id`` instead, so the
suffix never reaches the controller and every group was spread over all workers (each built
its module-scoped fixture: the workspace's county twice, a security world up to three times).
Here each worker writes ``{node id: group}`` to a file the controller named for it
(``pytest_configure_node``), and the scheduler (``pytest_xdist_make_scheduler``) reads them;
node ids that do carry ``@group`` (an older pytest) are grouped by xdist's own rule."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

WORKER_KEY = "fengqiao_xdist_groups"
_FOLDER = pytest.StashKey[Path]()


def folder(config) -> Path:
    if _FOLDER not in config.stash:
        config.stash[_FOLDER] = Path(tempfile.mkdtemp(prefix="fengqiao-xdist-groups-"))
    return config.stash[_FOLDER]


def remove_folder(config) -> None:
    if _FOLDER in config.stash:
        shutil.rmtree(config.stash[_FOLDER], ignore_errors=True)


def group_of(item) -> str | None:
    """The group name xdist would give ``item`` (its ``xdist_group`` marks joined), or None."""
    names = {str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
             for mark in item.iter_markers("xdist_group")}
    return "_".join(sorted(names)) if names else None


def write(config, items) -> None:
    """(worker) Write this worker's groups where the controller asked, if it asked."""
    target = getattr(config, "workerinput", {}).get(WORKER_KEY)
    if target:
        groups = {item.nodeid: group for item in items if (group := group_of(item))}
        Path(target).write_text(json.dumps(groups), encoding="utf-8")


def read(config) -> dict[str, str]:
    """(controller) ``{node id: group}`` from every worker's file."""
    found: dict[str, str] = {}
    for path in sorted(folder(config).glob("*.json")):
        found.update(json.loads(path.read_text(encoding="utf-8")))
    return found


def scheduler(config, log):
    """(controller) xdist's LoadGroupScheduling, taking the groups from the workers' files."""
    from xdist.scheduler import LoadGroupScheduling

    class FileGroupScheduling(LoadGroupScheduling):
        groups: dict[str, str] | None = None

        def _split_scope(self, nodeid: str) -> str:
            if self.groups is None:  # all collections are in: each worker wrote its file first
                self.groups = read(config)
            return self.groups.get(nodeid) or super()._split_scope(nodeid)

    return FileGroupScheduling(config, log)
