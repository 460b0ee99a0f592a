"""The list import reads within limits and before writing (issue 17, finding 4).

A 5 KB workbook claiming ``A1:XFD200000`` kept this import busy for 110 s while the draft it
had already opened held SQLite's write lock (other writes got 503).
"""

from __future__ import annotations

import io
import time

import pytest
from fengqiao.sdk.testing import csrf_token
from fengqiao.testing.workbooks import empty_cells, forged_dimension

import fengqiao_certificates.excel as excel

pytestmark = [pytest.mark.plugins("certificates"), pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

BASE = "/p/certificates/admin/339901001001"
GOOD = [list(excel.HEADERS), ["可以出具", "好证明", "", "", 2, "", "", ""]]


def _post(client, data: bytes, name: str = "l.xlsx"):
    token = csrf_token(client, BASE)
    return client.post(f"{BASE}/import", data={"csrf_token": token, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_a_forged_sheet_size_is_refused_in_under_two_seconds(demo_lists, client, login_as):
    login_as("shenli")
    # CPU time of this process (the request runs in it): what the refusal cost, not how long
    # other test processes kept the CPU busy
    began = time.process_time()
    response = _post(client, forged_dimension(GOOD))
    assert time.process_time() - began < 2.0
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "A1:XFD200000" in page and "超过上限" in page
    with client.application.app_context():
        from fengqiao_certificates.lists import draft_of

        assert draft_of("339901001001") is None


def test_the_file_is_read_before_the_draft_is_opened(demo_lists, client, login_as, monkeypatch):
    """No write (and so no SQLite write lock) while a file is being parsed."""
    from fengqiao.sdk.models import db

    from fengqiao_certificates.lists import draft_of

    seen = []
    real = excel.read_table

    def watching(*args, **kwargs):
        seen.append((draft_of("339901001001"), bool(db.new or db.dirty)))
        return real(*args, **kwargs)

    monkeypatch.setattr(excel, "read_table", watching, raising=False)
    login_as("shenli")
    from fengqiao.testing.workbooks import workbook

    response = _post(client, workbook(GOOD))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert seen == [(None, False)]


@pytest.mark.parametrize("shape", [(3_900_000, 1), (19_000, 200)], ids=["one-row", "200-rows"])
def test_rows_of_empty_cells_are_refused_in_under_two_seconds(demo_lists, client, login_as, shape):
    """No dimension, one row of 3.9 million ``<c/>`` (20 KB): refused after 25 s before."""
    per_row, count = shape
    login_as("shenli")
    began = time.process_time()
    response = _post(client, empty_cells(GOOD, per_row=per_row, count=count))
    assert time.process_time() - began < 2.0
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "表格单元格过多" in page or "表格列数过多" in page
    with client.application.app_context():
        from fengqiao_certificates.lists import draft_of

        assert draft_of("339901001001") is None
