"""Which job names exist and what runs them: core jobs by decorator, plugin jobs by context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask

DEFAULT_QUEUE = "fengqiao"
QUEUES = ("fengqiao-high", DEFAULT_QUEUE, "fengqiao-low")


@dataclass(frozen=True)
class JobSpec:
    name: str
    func: Callable[..., Any]
    queue: str = DEFAULT_QUEUE


@dataclass(frozen=True)
class Periodic:
    name: str  # a registered job, run with no arguments
    every: int  # seconds


CORE_JOBS: dict[str, JobSpec] = {}
PERIODIC: dict[str, Periodic] = {}


def job(name: str, queue: str = DEFAULT_QUEUE) -> Callable:
    """Register a core job under ``name`` (plugins use ``ctx.register_job`` instead)."""
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue}")

    def register(func: Callable) -> Callable:
        CORE_JOBS[name] = JobSpec(name, func, queue)
        return func

    return register


def periodic(name: str, every: int) -> None:
    """Run the job ``name`` every ``every`` seconds (one run per slot across all workers)."""
    PERIODIC[name] = Periodic(name, every)


def spec_for(app: Flask, name: str) -> JobSpec | None:
    found = app.extensions["fengqiao.jobs"].get(name)
    if found is None or isinstance(found, JobSpec):
        return found
    return JobSpec(name, found)  # a plugin's plain function
