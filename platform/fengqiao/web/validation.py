"""Show service-layer validation problems next to the WTForms field they belong to."""

from __future__ import annotations

from flask_wtf import FlaskForm

from fengqiao.exceptions import Invalid


def apply_problems(form: FlaskForm, failed: Invalid) -> None:
    """Attach each ``(pointer, message, code)`` to the matching field, else to the form."""
    for pointer, message, _code in failed.problems:
        field = getattr(form, pointer.lstrip("/").split("/")[0], None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
        else:
            form.form_errors.append(message)
