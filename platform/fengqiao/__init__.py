"""枫桥 Fengqiao: a plugin-based low-code forms and case-management platform."""

__version__ = "0.1.0"


def create_app(config=None):
    """Build the Flask app (see :mod:`fengqiao.app`)."""
    from fengqiao.app import create_app as _create_app

    return _create_app(config)
