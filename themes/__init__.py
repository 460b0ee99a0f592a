"""Themes shipped with Fengqiao; installed as the data-only package ``fengqiao.bundled.themes``."""
