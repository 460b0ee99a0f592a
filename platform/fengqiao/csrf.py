"""The app-wide CSRF protection (Flask-WTF): every POST from a browser carries a token.

Views that validate the token through their own FlaskForm (and so can re-show the posted
input on failure) are exempted from the global check with ``@csrf.exempt``.
"""

from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
