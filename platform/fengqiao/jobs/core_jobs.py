"""Importing this registers the core's jobs (each lives beside the code it serves)."""

import fengqiao.cases.jobs  # noqa: F401
import fengqiao.cases.ledgers  # noqa: F401
import fengqiao.forms.abandoned  # noqa: F401
import fengqiao.jobs.maintenance  # noqa: F401
import fengqiao.notifications.sending  # noqa: F401
