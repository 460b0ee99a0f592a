"""The app-wide CSRF protection (Flask-WTF): every POST from a browser carries a token.

Views that validate the token through their own FlaskForm (and so can re-show the posted
input on failure) are exempted from the global check with ``@csrf.exempt``.

JSON APIs (the core's ``/api/v1`` and every plugin's ``/api/v1/p/<name>/``) are exempt from
the form check and run :func:`protect_cookie_writes` instead: one rule for all of them.
"""

from flask import request, session
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def protect_cookie_writes() -> None:
    """Before-request hook of the JSON API blueprints: a write authenticated by the session
    cookie needs the ``X-CSRFToken`` header (a browser sends the cookie to any site's form or
    fetch; only our own pages know the token). Bearer-token calls carry no cookie authority."""
    if request.method in SAFE_METHODS or request.headers.get("Authorization", "").startswith("Bearer "):
        return
    if "_user_id" not in session:
        return  # anonymous: nothing to forge (public routes have their own limits)
    csrf.protect()  # raises CSRFError: answered as 400 with code "csrf"
