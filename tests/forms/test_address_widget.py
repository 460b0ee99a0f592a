"""The ``address`` widget and the address look-up without the grid plugin: the definition check,
a plain text field and an empty search when nobody provides addresses, and a provider that fails
or is registered twice. (With the grid plugin: plugins/fengqiao-grid/tests/test_grid_lookup.py.)"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from fengqiao.addresses import AddressHit, register, resolve_address, search_addresses
from fengqiao.db import db
from fengqiao.forms.definition import check_definition
from fengqiao.forms.diff import diff_definitions

FORMS = Path(__file__).resolve().parents[2] / "form_definitions"
SEARCH = "/api/v1/addresses/search"


def _livelihood() -> dict:
    return json.loads((FORMS / "livelihood-request.json").read_text(encoding="utf-8"))


def test_the_public_forms_use_the_picker_and_that_is_no_breaking_change():
    for name in ("livelihood-request", "proxy-service"):
        new = json.loads((FORMS / f"{name}.json").read_text(encoding="utf-8"))
        assert new["ui"]["widgets"]["address"] == "address"
        assert check_definition(new) == []
        old = copy.deepcopy(new)
        del old["ui"]["widgets"]["address"]
        changes = diff_definitions(old, new)
        assert changes.changes and not changes.breaking  # published versions keep their data valid


@pytest.mark.parametrize("field", ["urgency", "photos", "caller_mobile", "anonymous_to_handler"])
def test_the_address_widget_is_for_free_text_only(field):
    definition = _livelihood()
    definition["ui"]["widgets"][field] = "address"
    problems = check_definition(definition)
    assert [p.pointer for p in problems] == [f"/ui/widgets/{field}"]
    assert "地址选择控件" in problems[0].message


def test_without_a_provider_the_search_is_empty_and_the_field_plain(client, demo):
    answer = client.get(SEARCH, query_string={"q": "幸福小区"})
    assert answer.status_code == 200 and answer.get_json() == {"items": []}
    assert client.get(SEARCH).status_code == 422
    page = client.get("/forms/livelihood-request").get_data(as_text=True)
    assert 'name="address"' in page and "data-address-search" not in page


class Book:
    """A provider answering from a dict, or failing on demand."""

    def __init__(self, fail: bool = False):
        self.fail = fail

    def search(self, text: str, limit: int) -> list[AddressHit]:
        if self.fail:
            db.execute(sa.text("SELECT * FROM no_such_table"))  # a broken plugin query
        return [AddressHit(f"A-{i}", f"{text}{i}", "339901001001001", "网格") for i in range(limit + 5)]

    def resolve(self, text: str) -> AddressHit | None:
        if self.fail:
            raise RuntimeError("boom")
        return AddressHit("A-1", text, "339901001001001", "网格") if text == "甲小区1幢" else None


def test_a_core_provider_is_capped_and_one_at_most(app, demo):
    register(app, None, Book())
    with app.app_context():
        assert len(search_addresses("甲小区", 50)) == 10
        assert resolve_address(" 甲小区1幢 ").org_code == "339901001001001"
        assert resolve_address("乙") is None and resolve_address(None) is None
    with pytest.raises(ValueError, match="already provided"):
        register(app, None, Book())
    with pytest.raises(ValueError, match="search"):
        register(app, "other", object())


def test_a_failing_provider_answers_nothing_and_leaves_the_transaction_usable(app, client, demo):
    register(app, None, Book(fail=True))
    with app.app_context():
        assert search_addresses("甲小区") == [] and resolve_address("甲小区1幢") is None
        assert db.scalar(sa.text("SELECT 1")) == 1  # PostgreSQL: not an aborted transaction
    assert client.get(SEARCH, query_string={"q": "甲小区"}).get_json() == {"items": []}
