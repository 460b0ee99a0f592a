"""Importing this registers the core's jobs (each lives beside the code it serves)."""

import fengqiao.cases.jobs  # noqa: F401
import fengqiao.cases.ledgers  # noqa: F401
import fengqiao.forms.abandoned  # noqa: F401
import fengqiao.jobs.maintenance  # noqa: F401
import fengqiao.notifications.resident_updates  # noqa: F401
import fengqiao.notifications.sending  # noqa: F401
import fengqiao.webhooks.events  # noqa: F401  (also connects the webhook receivers)
