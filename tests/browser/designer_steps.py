"""Steps in the form designer shared by the browser tests (imported as ``from designer_steps
import add_field``: pytest's default import mode puts this folder on the path)."""

from __future__ import annotations


def add_field(page, title: str, name: str, kind: str, required: bool = False):
    """Add a field in the form designer through its 添加字段 card; returns the card."""
    page.get_by_role("button", name="＋ 添加字段").click()
    card = page.locator("details.designer-field[open]").last
    card.get_by_label("字段名称").fill(title)
    card.get_by_label("字段标识").fill(name)
    card.get_by_label("类型").select_option(label=kind)
    if required:
        card.get_by_label("必填").check()
    return card
