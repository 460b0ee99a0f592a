"""Typed SQLAlchemy models, one module per aggregate. Importing this registers them all."""

from fengqiao.db import Base
from fengqiao.models.accounts import ApiToken, Membership, User
from fengqiao.models.audit import AuditEntry, CaseAnonymisation
from fengqiao.models.caches import CacheVersion
from fengqiao.models.calendar_days import CalendarChange, CalendarDay, CalendarYear
from fengqiao.models.case_events import CaseEvent, CaseParticipant
from fengqiao.models.case_types import CaseTypeDraft, CaseTypeVersion
from fengqiao.models.cases import Case
from fengqiao.models.delivery import (
    Delivery,
    ExternalOrder,
    UnitNotificationSettings,
    UserNotificationPrefs,
    WebhookEndpoint,
)
from fengqiao.models.forms import (
    Attachment,
    CaseCounter,
    Form,
    FormDraftData,
    FormVersion,
    Submission,
)
from fengqiao.models.idempotency import IdempotencyKey
from fengqiao.models.jobs import JobRecord
from fengqiao.models.notifications import Notification
from fengqiao.models.orgs import OrgLevel, OrgUnit
from fengqiao.models.plugins import PluginState
from fengqiao.models.queue_filters import SavedQueueFilter
from fengqiao.models.sessions import UserSession

__all__ = [
    "Base", "ApiToken", "Attachment", "AuditEntry", "CacheVersion", "CaseAnonymisation", "CalendarChange", "CalendarDay", "CalendarYear",
    "Case", "CaseCounter", "CaseEvent", "CaseParticipant", "CaseTypeDraft", "CaseTypeVersion", "Delivery", "ExternalOrder", "Form",
    "FormDraftData", "FormVersion", "IdempotencyKey", "JobRecord", "Membership", "Notification", "OrgLevel", "OrgUnit", "PluginState", "SavedQueueFilter", "Submission", "UnitNotificationSettings", "User",
    "UserNotificationPrefs", "UserSession", "WebhookEndpoint",
]
