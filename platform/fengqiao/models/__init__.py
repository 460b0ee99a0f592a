"""Typed SQLAlchemy models, one module per aggregate. Importing this registers them all."""

from fengqiao.db import Base
from fengqiao.models.accounts import ApiToken, Membership, User
from fengqiao.models.cases import Case
from fengqiao.models.orgs import OrgLevel, OrgUnit

__all__ = ["Base", "ApiToken", "Case", "Membership", "OrgLevel", "OrgUnit", "User"]
