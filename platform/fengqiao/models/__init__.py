"""Typed SQLAlchemy models, one module per aggregate. Importing this registers them all."""

from fengqiao.db import Base
from fengqiao.models.accounts import ApiToken, Membership, User
from fengqiao.models.cases import Case
from fengqiao.models.forms import (
    Attachment,
    CaseCounter,
    Form,
    FormDraftData,
    FormVersion,
    Submission,
)
from fengqiao.models.orgs import OrgLevel, OrgUnit

__all__ = [
    "Base", "ApiToken", "Attachment", "Case", "CaseCounter", "Form", "FormDraftData",
    "FormVersion", "Membership", "OrgLevel", "OrgUnit", "Submission", "User",
]
