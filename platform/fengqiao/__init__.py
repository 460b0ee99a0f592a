"""枫桥 Fengqiao: a plugin-based low-code forms and case-management platform.

The application is built by :func:`fengqiao.app.create_app`; this package root imports
nothing, so any module may read :data:`__version__` without loading the app.
"""

__version__ = "0.1.0"
