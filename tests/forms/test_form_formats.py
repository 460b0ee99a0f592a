"""Custom formats: the predicates, their registration, and the Chinese messages they produce."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from fengqiao.errors import ValidationFailed
from fengqiao.forms import formats
from fengqiao.forms.formats import (
    FORMAT_CHECKER,
    id_card_problem,
    is_attachment,
    is_cn_id_card,
    is_cn_mobile,
    is_cn_postcode,
    is_cn_uscc,
)
from fengqiao.validation import validate

VALID_ID_CARDS = [
    "339901195203140111",
    "339901197809050240",
    "339901198605210331",
    "33990119581103091X",
    "339901201006180622",
]


def gb11643(first17: str) -> str:
    """An independent copy of the GB 11643 checksum, to build test numbers."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights, strict=True)) % 11]


def id_card(born: str, sequence: str = "011") -> str:
    first17 = "339901" + born + sequence
    return first17 + gb11643(first17)


def one_message(schema_format: str, value: object) -> str:
    with pytest.raises(ValidationFailed) as info:
        validate({"type": "object", "properties": {"v": {"type": "string", "format": schema_format}}},
                 {"v": value})
    assert [p for p, _, _ in info.value.problems] == ["/v"]
    return info.value.for_field("/v")[0]


@pytest.mark.parametrize("name", ["cn-id-card", "cn-mobile", "cn-uscc", "cn-postcode", "attachment"])
def test_formats_are_registered_on_the_shared_checker(name):
    assert name in FORMAT_CHECKER.checkers
    assert FORMAT_CHECKER.conforms(12345, name)  # non-strings are the type keyword's business
    assert not FORMAT_CHECKER.conforms("not-valid-for-any", name)


# --- cn-id-card ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", VALID_ID_CARDS)
def test_valid_id_cards(value):
    assert is_cn_id_card(value)
    assert id_card_problem(value) is None
    assert FORMAT_CHECKER.conforms(value, "cn-id-card")


def test_test_helper_agrees_with_the_published_examples():
    assert [id_card(v[6:14], v[14:17]) for v in VALID_ID_CARDS] == VALID_ID_CARDS


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("339901195203140112", "身份证号码校验位不正确"),
        ("339901195203140110", "身份证号码校验位不正确"),
        ("33990119581103091" + "0", "身份证号码校验位不正确"),
        ("33990119520314011", "身份证号码应为 18 位"),
        ("3399011952031401110", "身份证号码应为 18 位"),
        ("", "身份证号码应为 18 位"),
        ("33990119520314011A", "身份证号码应为 18 位"),
        ("3399011952O3140111", "身份证号码应为 18 位"),
        ("33990119581103091x", "身份证号码应为 18 位"),  # upper-casing happens before validation
        ("３３９９０１１９５２０３１４０１１１", "身份证号码应为 18 位"),  # full-width digits
        ("339901195203140111\n", "身份证号码应为 18 位"),
        (id_card("19520230"), "身份证号码中的出生日期无效"),
        (id_card("19521301"), "身份证号码中的出生日期无效"),
        (id_card("19520000"), "身份证号码中的出生日期无效"),
        (id_card("18991231"), "身份证号码中的出生日期无效"),
        (id_card("20990101"), "身份证号码中的出生日期无效"),
        ("339901195202300110", "身份证号码中的出生日期无效"),  # the date is judged before the checksum
    ],
)
def test_invalid_id_cards_name_the_first_thing_to_fix(value, message):
    assert not is_cn_id_card(value)
    assert id_card_problem(value) == message
    assert one_message("cn-id-card", value) == message


def test_birth_date_bounds_are_inclusive_and_use_china_time():
    assert is_cn_id_card(id_card("19000101"))
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    tomorrow = today + timedelta(days=1)
    assert is_cn_id_card(id_card(today.strftime("%Y%m%d")))
    assert not is_cn_id_card(id_card(tomorrow.strftime("%Y%m%d")))
    assert is_cn_id_card(id_card("20000229"))
    assert id_card_problem(id_card("19000229")) == "身份证号码中的出生日期无效"  # not a leap year


def test_id_card_problem_ignores_non_strings():
    assert id_card_problem(None) is None
    assert id_card_problem(339901195203140111) is None
    assert is_cn_id_card(339901195203140111)


def test_id_card_general_message_is_the_fallback():
    from fengqiao.forms.formats import FORMAT_DETAIL, FORMAT_MESSAGES

    assert FORMAT_MESSAGES["cn-id-card"] == "身份证号码格式不正确"
    assert FORMAT_DETAIL["cn-id-card"] is id_card_problem


# --- cn-mobile -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["13800138000", "19912345678", "15000000000"])
def test_valid_mobiles(value):
    assert is_cn_mobile(value)


@pytest.mark.parametrize(
    "value",
    ["12800138000", "1380013800", "138001380000", "23800138000", "1380013800a", "+8613800138000",
     "138 0013 8000", "13800138000\n", "１３８００１３８０００", ""],
)
def test_invalid_mobiles(value):
    assert not is_cn_mobile(value)
    assert one_message("cn-mobile", value) == "请输入 11 位手机号码"


# --- cn-uscc -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["91350100M000100Y43", "91110000600037341L"])
def test_valid_credit_codes(value):
    assert is_cn_uscc(value)
    assert formats.uscc_check_char(value[:17]) == value[17]


@pytest.mark.parametrize(
    "value",
    [
        "91350100M000100Y44",  # wrong check character
        "91110000600037341K",
        "91350100m000100y43",  # lower case
        "91110000600037341l",
        "91350100I000100Y43",  # I, O, S, V, Z are not in the character set
        "91350100O000100Y43",
        "91350100M000100Y4",  # 17 characters
        "91350100M000100Y433",
        "91350100M000100Y43\n",
    ],
)
def test_invalid_credit_codes(value):
    assert not is_cn_uscc(value)
    assert one_message("cn-uscc", value) == "统一社会信用代码不正确"


def test_credit_code_check_char_maps_zero_remainder_to_zero():
    # (31 - 0) mod 31 == 0 → "0": all-zero first 17 characters give check "0".
    assert formats.uscc_check_char("0" * 17) == "0"
    assert is_cn_uscc("0" * 18)
    assert not is_cn_uscc("0" * 17 + "Y")


# --- cn-postcode, attachment --------------------------------------------------------------


def test_postcodes():
    assert is_cn_postcode("100000") and is_cn_postcode("350001")
    for bad in ["10000", "1000000", "10000a", "１０００００", "100000\n", " 100000"]:
        assert not is_cn_postcode(bad), bad
    assert one_message("cn-postcode", "1000") == "邮政编码应为 6 位数字"


def test_attachment_ids():
    assert is_attachment("att_" + "a" * 16)
    assert is_attachment("att_" + "Ab0_-" * 12 + "abcd")  # 64 characters
    assert is_attachment("att_AbCdEf0123456789-_")
    for bad in ["att_" + "a" * 15, "att_" + "a" * 65, "ATT_" + "a" * 16, "att_" + "a" * 15 + ".",
                "att_" + "a" * 15 + "/", "file_" + "a" * 16, "att_" + "a" * 16 + "\n"]:
        assert not is_attachment(bad), bad
    assert one_message("attachment", "att_x") == "附件无效，请重新上传"


def test_validate_reports_each_field_with_its_own_message():
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "string", "format": "cn-id-card"},
            "mobile": {"type": "string", "format": "cn-mobile"},
            "photos": {"type": "array", "items": {"type": "string", "format": "attachment"}},
        },
    }
    with pytest.raises(ValidationFailed) as info:
        validate(schema, {"id": "339901195203140112", "mobile": "123",
                          "photos": ["att_" + "a" * 16, "bad"]})
    assert sorted(info.value.problems) == [
        ("/id", "身份证号码校验位不正确", "format"),
        ("/mobile", "请输入 11 位手机号码", "format"),
        ("/photos/1", "附件无效，请重新上传", "format"),
    ]
    validate(schema, {"id": VALID_ID_CARDS[3], "mobile": "13800138000"})  # no exception


@pytest.mark.parametrize(
    "code",
    [
        # validation alone: importing it brings the checker with Fengqiao's formats.
        "from fengqiao.validation import validate\n"
        "from fengqiao.errors import ValidationFailed\n"
        "try:\n"
        "    validate({'properties': {'m': {'format': 'cn-mobile'}}}, {'m': '1'})\n"
        "    raise SystemExit('not validated')\n"
        "except ValidationFailed as e:\n"
        "    assert e.problems == [('/m', '请输入 11 位手机号码', 'format')], e.problems\n",
        # formats alone: the checker is complete without the validation module.
        "import sys\n"
        "from fengqiao.forms.formats import FORMAT_CHECKER\n"
        "assert 'cn-id-card' in FORMAT_CHECKER.checkers and 'time' in FORMAT_CHECKER.checkers\n"
        "assert 'fengqiao.validation' not in sys.modules\n",
    ],
)
def test_registration_in_a_fresh_interpreter(code):
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
