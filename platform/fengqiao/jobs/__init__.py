"""Background jobs: written to an outbox in the caller's transaction, run after it commits.

``enqueue`` adds a row to ``job_outbox`` in the current session; only when that session
commits are the new rows handed to RQ (``FENGQIAO_REDIS_URL`` set) or to the in-process
runner, so a job never runs for a change that rolled back. Jobs take IDs and plain values,
must be idempotent (RQ is at-least-once, and the sweep re-dispatches rows Redis lost), and
may report progress for the pages that watch them.
"""

from fengqiao.jobs.outbox import enqueue
from fengqiao.jobs.registry import job, periodic
from fengqiao.jobs.runner import current_job_id, files_dir, set_progress

__all__ = ["current_job_id", "enqueue", "files_dir", "job", "periodic", "set_progress"]
