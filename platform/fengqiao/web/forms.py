"""WTForms forms for the core pages, with Chinese messages (CSRF via Flask-WTF)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.fields import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp

from fengqiao.accounts.passwords import RULES_TEXT
from fengqiao.accounts.roles import ROLE_LABELS
from fengqiao.models.orgs import KIND_LABELS, LEVEL_LABELS

REQUIRED = "此项为必填项"


def options(pairs) -> list[SelectChoice]:
    """``(value, label)`` pairs as WTForms select choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def option_values(field: SelectField) -> set[str]:
    return {choice.value for choice in field.choices}


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired(REQUIRED), Length(max=64, message="用户名最多 64 个字符")])
    password = PasswordField("密码", validators=[DataRequired(REQUIRED), Length(max=128, message="密码最多 128 个字符")])


class OrgUnitForm(FlaskForm):
    code = StringField(
        "代码",
        validators=[DataRequired(REQUIRED), Regexp(r"^[0-9A-Za-z][0-9A-Za-z\-]{1,31}$", message="代码须为 2–32 位字母、数字或 -")],
        description="统计用区划代码，如 339901001001；保存后不可修改",
    )
    name = StringField("名称", validators=[DataRequired(REQUIRED), Length(max=100, message="名称最多 100 个字符")])
    level = SelectField("层级", choices=options((k.value, v) for k, v in LEVEL_LABELS.items()))
    kind = SelectField("类型", choices=options(KIND_LABELS.items()))
    parent = SelectField("上级单位", choices=[], validate_choice=False)


class OrgEditForm(FlaskForm):
    name = StringField("名称", validators=[DataRequired(REQUIRED), Length(max=100, message="名称最多 100 个字符")])
    parent = SelectField("上级单位", choices=[], validate_choice=False)
    active = BooleanField("启用")


class UserForm(FlaskForm):
    username = StringField(
        "用户名",
        validators=[DataRequired(REQUIRED), Regexp(r"^[A-Za-z0-9_.\-]{3,64}$", message="用户名须为 3–64 位字母、数字或 _ . -")],
    )
    display_name = StringField("姓名", validators=[Length(max=64, message="姓名最多 64 个字符")])
    password = PasswordField("初始密码", validators=[DataRequired(REQUIRED), Length(max=128, message="密码最多 128 个字符")],
                             description=RULES_TEXT)
    role = SelectField("角色", choices=options(ROLE_LABELS.items()))
    org = SelectField("所属单位", choices=[], validate_choice=False)
