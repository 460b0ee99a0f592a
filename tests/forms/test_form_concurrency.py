"""Case numbers stay unique and gap-free when many submissions arrive at once."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from test_form_api import GOOD_REQUEST


def test_concurrent_submissions_get_distinct_consecutive_numbers(demo):
    def submit_one(_):
        client = demo.test_client()
        response = client.post("/api/v1/forms/livelihood-request/submissions", json=GOOD_REQUEST,
                               environ_base={"REMOTE_ADDR": f"127.0.0.{_ + 2}"})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["case_number"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        numbers = list(pool.map(submit_one, range(24)))
    assert len(set(numbers)) == 24
    sequence = sorted(int(re.search(r"-(\d{6})$", n).group(1)) for n in numbers)
    assert sequence == list(range(1, 25))
