"""Core test configuration; the fixtures come from ``fengqiao.testing`` (pytest11)."""
