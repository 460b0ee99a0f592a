"""A signed-in user's own account pages: change password, set up or turn off TOTP.

Forms live here (not in web/forms.py) because only these pages use them.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, session, url_for
from flask_login import current_user, login_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from fengqiao.access import login_required
from fengqiao.accounts import security
from fengqiao.accounts.passwords import RULES_TEXT
from fengqiao.documents import qr_data_uri
from fengqiao.exceptions import Invalid
from fengqiao.web.blueprint import web_bp
from fengqiao.web.validation import apply_problems

REQUIRED = "此项为必填项"
SETUP_SECRET = "_fq_totp_setup"


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField("当前密码", validators=[DataRequired(REQUIRED), Length(max=128)])
    new_password = PasswordField("新密码", validators=[DataRequired(REQUIRED), Length(max=128, message="密码最多 128 个字符")],
                                 description=RULES_TEXT)
    confirm_password = PasswordField("再次输入新密码", validators=[DataRequired(REQUIRED), Length(max=128)])


class TotpCodeForm(FlaskForm):
    code = StringField("动态验证码", validators=[DataRequired(REQUIRED), Length(max=10, message="验证码为 6 位数字")],
                       description="手机验证器应用中显示的 6 位数字",
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})


class TotpDisableForm(FlaskForm):
    password = PasswordField("当前密码", validators=[DataRequired(REQUIRED), Length(max=128)])


def _signed_in_again(user) -> None:
    """Rotate this browser's session onto the user's new epoch (others stay signed out)."""
    session.clear()
    login_user(user)


def _change_credentials(form: FlaskForm, user, change, message: str, category: str, target: str):
    """Apply a change to the user's credentials: on success rotate this session (the change
    bumped the epoch), flash and redirect to ``target`` (the request commits both); on a
    refusal show the problems on ``form`` (returns None: the caller renders the page again
    with 422, which rolls back)."""
    try:
        change()
    except Invalid as failed:
        apply_problems(form, failed)
        return None
    _signed_in_again(user)
    flash(message, category)
    return redirect(url_for(target))


@web_bp.route("/account/password", methods=["GET", "POST"])
@login_required
def account_password():
    form = PasswordChangeForm()
    user = current_user._get_current_object()
    if form.validate_on_submit():
        done = _change_credentials(
            form, user, lambda: security.change_password(user, form.current_password.data, form.new_password.data,
                                                         form.confirm_password.data),
            "密码已修改；其他设备上的登录已失效", "success", "web.dashboard")
        if done is not None:
            return done
    return render_template("account/password.html", form=form), 422 if form.errors else 200


@web_bp.route("/account/totp", methods=["GET", "POST"])
@login_required
def account_totp():
    user = current_user._get_current_object()
    if user.totp_enabled:
        return render_template("account/totp.html", enabled=True, form=TotpDisableForm(
            formdata=None)), 200
    form = TotpCodeForm()
    secret = session.get(SETUP_SECRET)
    if not isinstance(secret, str) or len(secret) != 32:
        secret = session[SETUP_SECRET] = security.new_totp_secret()
    if form.validate_on_submit():
        done = _change_credentials(form, user, lambda: security.enable_totp(user, secret, form.code.data),
                                   "两步验证已开启：今后登录需输入手机上的动态验证码", "success", "web.account_totp")
        if done is not None:
            return done
    uri = security.provisioning_uri(user, secret)
    return render_template("account/totp.html", enabled=False, form=form, qr=qr_data_uri(uri),
                           secret=secret), 422 if form.errors else 200


@web_bp.post("/account/totp/disable")
@login_required
def account_totp_disable():
    user = current_user._get_current_object()
    form = TotpDisableForm()
    if form.validate_on_submit():
        done = _change_credentials(form, user, lambda: security.disable_totp(user, form.password.data),
                                   "两步验证已关闭", "info", "web.account_totp")
        if done is not None:
            return done
    return render_template("account/totp.html", enabled=True, form=form), 422

