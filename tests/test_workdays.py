"""The working-day calendar (docs/domain.md, "Working-day calendar"): 放假/调休 as data,
deadlines, hours, CLI, admin page."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
import sqlalchemy as sa

from fengqiao import workcalendar
from fengqiao.cli import parse_start
from fengqiao.db import db
from fengqiao.errors import ValidationFailed
from fengqiao.models import CalendarChange, CalendarDay, CalendarYear
from fengqiao.signals import ALL, calendar_changed
from fengqiao.testing.cli import run_cli
from fengqiao.testing.plugin import csrf_token
from fengqiao.workcalendar import Deadline, WorkCalendar, arrangement, changes, overview, seeding

TZ = ZoneInfo("Asia/Shanghai")
SEEDED = range(2024, 2027)  # explicit, so a newer chinese_calendar cannot make 2027 complete
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

ARRANGEMENT_2027 = "日期,类型,名称\n2027-01-01,放假,元旦\n2027-01-04,放假,元旦\n"


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TZ)


@pytest.fixture
def seeded(app):
    with app.app_context():
        assert seeding.seed_from_chinese_calendar(SEEDED) == list(SEEDED)
        db.commit()  # seeding only flushes: the command that seeds commits
    return app


def _import(data: str | bytes, filename: str = "2027.csv", **kwargs):
    raw = data.encode() if isinstance(data, str) else data
    result = arrangement.import_arrangement(raw, filename, **kwargs)
    db.commit()
    workcalendar.announce_calendar_changed(result.years, kwargs.get("org_code"))
    return result


# ---- seeding -----------------------------------------------------------------------------


def test_seed_copies_chinese_calendar_once(app):
    with app.app_context():
        assert seeding.seed_from_chinese_calendar(SEEDED) == [2024, 2025, 2026]
        assert seeding.seed_from_chinese_calendar(SEEDED) == []  # idempotent
        rows = {r.day: r for r in db.scalars(sa.select(CalendarDay).where(
            CalendarDay.day >= date(2025, 1, 1), CalendarDay.day <= date(2025, 12, 31)))}
        library = {d for d in chinese_calendar.constants.holidays if d.year == 2025}
        library |= {d for d in chinese_calendar.constants.workdays if d.year == 2025}
        assert set(rows) == library
        assert rows[date(2025, 10, 1)].name == "国庆节" and rows[date(2025, 10, 1)].kind == "holiday"
        assert rows[date(2025, 10, 6)].name == "中秋节"
        assert rows[date(2025, 9, 28)].kind == "workday"
        assert {r.source for r in rows.values()} == {"chinese-calendar"}
        assert {r.org_code for r in rows.values()} == {None}
        assert overview.complete_years() == {2024, 2025, 2026}
        assert overview.missing_years(date(2026, 11, 26)) == [2027]
        # a removed seeded day stays removed: re-seeding never overrides people
        changes.remove_day(rows[date(2025, 10, 8)], "admin")
        db.commit()
        assert seeding.seed_from_chinese_calendar() != []  # the other years it knows
        assert db.scalar(sa.select(CalendarDay).where(CalendarDay.day == date(2025, 10, 8))) is None
        assert seeding.seed_from_chinese_calendar() == []


# ---- working days ------------------------------------------------------------------------


def test_library_agrees_on_national_day_2025():
    """The facts the deadline tests rely on, straight from chinese_calendar."""
    for day in range(1, 9):
        assert chinese_calendar.is_holiday(date(2025, 10, day)), day
    assert chinese_calendar.is_workday(date(2025, 9, 28))  # Sunday, 调休
    assert chinese_calendar.is_workday(date(2025, 10, 11))  # Saturday, 调休
    assert chinese_calendar.is_workday(date(2025, 9, 30))
    assert not chinese_calendar.is_workday(date(2025, 9, 27))


def test_three_working_days_from_the_eve_of_national_day(seeded):
    with seeded.app_context():
        deadline = workcalendar.add_working_days(at(2025, 9, 30, 10, 0), 3)
        # 10/1–10/8 off; 10/9 (Thu) is day 1, 10/10 (Fri) day 2, 10/11 (Sat, 调休) day 3
        assert deadline == Deadline(at(2025, 10, 11, 17, 30), provisional=False)
        assert deadline.at.isoformat() == "2025-10-11T17:30:00+08:00"
        # the time of day does not matter; naive datetimes are local; dates are midnight
        assert workcalendar.add_working_days(datetime(2025, 9, 30, 23, 59), 3) == deadline
        assert workcalendar.add_working_days(date(2025, 9, 30), 3) == deadline
        assert workcalendar.add_working_days(datetime(2025, 9, 30, 2, 0, tzinfo=ZoneInfo("UTC")), 3) == deadline
        assert workcalendar.add_working_days(at(2025, 9, 30, 10), 1).at == at(2025, 10, 9, 17, 30)


def test_a_tiaoxiu_weekend_day_counts(seeded):
    with seeded.app_context():
        assert workcalendar.is_working_day(date(2025, 9, 28))  # Sunday 调休上班
        assert workcalendar.is_working_day(date(2025, 10, 11))  # Saturday 调休上班
        assert not workcalendar.is_working_day(date(2025, 9, 27))  # an ordinary Saturday
        assert not workcalendar.is_working_day(date(2025, 10, 6))  # 中秋节, a Monday
        assert workcalendar.add_working_days(at(2025, 9, 26, 9), 1).at == at(2025, 9, 28, 17, 30)
        assert workcalendar.add_working_days(at(2025, 10, 10, 9), 1).at == at(2025, 10, 11, 17, 30)
        assert workcalendar.add_working_days(at(2025, 10, 11, 9), 1).at == at(2025, 10, 13, 17, 30)


def test_zero_days_is_the_same_working_day():
    cal = WorkCalendar({date(2025, 10, 1): "holiday"}, frozenset({2025}))
    assert cal.add_working_days(at(2025, 9, 30, 9), 0).at == at(2025, 9, 30, 17, 30)
    assert cal.add_working_days(at(2025, 9, 30, 18), 0).at == at(2025, 10, 2, 17, 30)
    with pytest.raises(ValueError):
        cal.add_working_days(at(2025, 9, 30, 9), -1)


def test_unentered_year_is_provisional_until_imported(seeded):
    with seeded.app_context():
        deadline = workcalendar.add_working_days(at(2026, 12, 24, 10), 15)
        # 2027 unknown: Mon–Fri minus 1/1 → 12/25, 12/28–31, 1/4–8, 1/11–15
        assert deadline == Deadline(at(2027, 1, 15, 17, 30), provisional=True)
        assert str(deadline) == "2027-01-15T17:30:00+08:00 (provisional)"
        assert not workcalendar.is_working_day(date(2027, 1, 1))  # the fixed-date fallback
        assert not workcalendar.is_working_day(date(2027, 10, 3))
        assert workcalendar.is_working_day(date(2027, 10, 4))  # Monday: no lunar guessing
        # a deadline that stays inside entered years is not provisional
        assert not workcalendar.add_working_days(at(2026, 12, 24, 10), 5).provisional

        received = []
        with calendar_changed.connected_to(lambda sender, **kw: received.append(kw), sender=seeded):
            result = _import(ARRANGEMENT_2027, actor="tester")
        assert received == [{"years": [2027], "org": None}]
        assert (result.year, result.added, result.holidays) == (2027, 2, 2)
        deadline = workcalendar.add_working_days(at(2026, 12, 24, 10), 15)
        assert deadline == Deadline(at(2027, 1, 18, 17, 30), provisional=False)
        assert workcalendar.is_working_day(date(2027, 10, 4))
        year = db.scalar(sa.select(CalendarYear).where(CalendarYear.year == 2027))
        assert year.complete and year.entered_by == "tester" and year.source == "import"
        assert set(db.scalars(sa.select(CalendarChange.action).where(CalendarChange.year == 2027))) == {
            "add", "import"}

        # re-importing a corrected file replaces the year: 1/4 dropped, kept in history
        _import("日期,类型,名称\n2027-01-01,放假,元旦\n", actor="tester")
        assert workcalendar.add_working_days(at(2026, 12, 24, 10), 15).at == at(2027, 1, 15, 17, 30)
        removed = db.scalar(sa.select(CalendarChange).where(CalendarChange.action == "remove"))
        assert (removed.day, removed.kind, removed.actor) == (date(2027, 1, 4), "holiday", "tester")


def test_import_checks_every_row_and_saves_nothing_on_error(app):
    with app.app_context():
        bad = ("日期,类型,名称\n"
               "2027-01-01,放假,元旦\n"
               "2027-01-05,上班,\n"          # a Tuesday cannot be a 调休上班日
               "2027-02-30,放假,春节\n"      # no such date
               "2027-01-01,放假,元旦\n"      # duplicate of row 2
               "2027-03-01,休假,\n"          # unknown type
               "2025-06-01,放假,\n")         # not in the 2027 arrangement
        with pytest.raises(arrangement.ArrangementInvalid) as err:
            arrangement.import_arrangement(bad.encode(), "bad.csv")
        lines = {p.line for p in err.value.problems}
        assert lines == {3, 4, 5, 6, 7}
        text = str(err.value)
        assert "第 3 行" in text and "星期二" in text
        assert "第 4 行" in text and "2027-02-30" in text
        assert "与第 2 行重复" in text and "休假" in text and "不属于 2027 年" in text
        db.rollback()
        assert db.scalar(sa.select(sa.func.count()).select_from(CalendarDay)) == 0
        assert db.scalar(sa.select(sa.func.count()).select_from(CalendarYear)) == 0
        for data, name, message in [(b"a,b\n1,2\n", "x.csv", "表头"), (b"x", "x.txt", ".csv"),
                                    (b"not a zip", "x.xlsx", "Excel"), ("日期,类型\n".encode(), "x.csv", "没有数据行")]:
            with pytest.raises(arrangement.ArrangementInvalid) as err:
                arrangement.import_arrangement(data, name)
            assert message in str(err.value)


def test_xlsx_gbk_csv_and_new_year_spillover(app):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["2028 年放假安排"])  # a title row above the header is fine
    ws.append(["日期", "类型", "名称"])
    ws.append([datetime(2027, 12, 31), "放假", "元旦"])  # announced with 2028's arrangement
    ws.append(["2028/1/1", "放假", "元旦"])
    ws.append(["2028年1月8日", "上班", "元旦"])  # a Saturday
    buf = io.BytesIO()
    wb.save(buf)
    with app.app_context():
        result = _import(buf.getvalue(), "2028.xlsx")
        assert (result.year, result.holidays, result.workdays, result.years) == (2028, 1, 1, (2027, 2028))
        cal = workcalendar.load_calendar()
        assert not cal.is_working_day(date(2027, 12, 31)) and cal.is_working_day(date(2028, 1, 8))
        assert cal.is_complete(2028) and not cal.is_complete(2027)
        gbk = "日期,类型,名称\n2029-01-01,放假,元旦\n".encode("gbk")
        assert _import(gbk, "2029.csv").year == 2029


def test_jurisdictions_inherit_national_plus_ancestors(demo):
    with demo.app_context():
        shixi = workcalendar.jurisdiction_of("339901100201001")  # a grid under 石溪镇
        assert shixi == ("339901", "339901100", "339901100201", "339901100201001")
        changes.add_day(date(2025, 10, 10), "holiday", "畲族节日", "339901100", "admin")
        db.commit()
        assert not workcalendar.is_working_day(date(2025, 10, 10), shixi)
        assert not workcalendar.is_working_day(date(2025, 10, 10), "/339901/339901100/")
        assert workcalendar.is_working_day(date(2025, 10, 10))  # national
        assert workcalendar.is_working_day(date(2025, 10, 10), "/339901/339901001/")  # another street
        assert not workcalendar.is_working_day(date(2025, 10, 8), shixi)  # national days inherited
        assert workcalendar.add_working_days(at(2025, 9, 30, 9), 2, shixi).at == at(2025, 10, 11, 17, 30)
        assert workcalendar.add_working_days(at(2025, 9, 30, 9), 2).at == at(2025, 10, 10, 17, 30)
        # a change committed elsewhere (another process) is seen without any explicit invalidation
        db.execute(sa.insert(CalendarDay).values(org_code="339901100201", day=date(2025, 10, 13),
                                                 kind="holiday", name="村节", source="admin"))
        db.execute(sa.insert(CalendarChange).values(action="add", year=2025))
        db.commit()
        assert not workcalendar.is_working_day(date(2025, 10, 13), shixi)
        assert workcalendar.is_working_day(date(2025, 10, 13), "/339901/339901100/")
        with pytest.raises(ValidationFailed) as err:
            changes.add_day(date(2025, 10, 11), "workday", "", "nope")
        assert "不存在" in str(err.value.problems)


# ---- office hours ------------------------------------------------------------------------


@SQLITE_ONLY
def test_working_hours_skip_lunch_nights_and_holidays(seeded):
    with seeded.app_context():
        hours = workcalendar.add_working_hours
        assert hours(at(2025, 9, 29, 11, 0), 2).at == at(2025, 9, 29, 15, 0)  # across lunch
        assert hours(at(2025, 9, 29, 16, 30), 2).at == at(2025, 9, 30, 9, 30)  # overnight
        assert hours(at(2025, 9, 30, 17, 0), 1).at == at(2025, 10, 9, 9, 0)  # across 国庆
        assert hours(at(2025, 9, 29, 7, 0), 1).at == at(2025, 9, 29, 9, 30)  # before opening
        assert hours(at(2025, 9, 29, 12, 30), 0.5).at == at(2025, 9, 29, 14, 30)  # at lunch
        assert hours(at(2025, 9, 29, 8, 30), 3.5).at == at(2025, 9, 29, 12, 0)  # exact morning
        assert hours(at(2025, 9, 29, 8, 30), 7).at == at(2025, 9, 29, 17, 30)  # one full day
        assert hours(at(2025, 10, 11, 10, 0), timedelta(minutes=90)).at == at(2025, 10, 11, 11, 30)
        assert hours(at(2025, 9, 26, 17, 0), 1).at == at(2025, 9, 28, 9, 0)  # Sunday 调休
        assert hours(at(2026, 12, 31, 17, 0), 1).provisional
        with pytest.raises(ValueError):
            hours(at(2025, 9, 29, 9), -1)


# ---- command line ------------------------------------------------------------------------


def _run(args, env_extra=None):
    return run_cli(args, env_extra)


def test_cli_due_import_and_years(database_url, tmp_path):
    env = {"FENGQIAO_DATABASE_URL": database_url, "FENGQIAO_MODE": "testing",
           "FENGQIAO_INSTANCE_PATH": str(tmp_path / "inst")}
    assert _run(["db", "upgrade"], env).returncode == 0  # seeds from chinese_calendar
    due = _run(["calendar", "due", "2025-09-30", "3"], env)
    assert (due.returncode, due.stdout) == (0, "2025-10-11T17:30:00+08:00\n"), due.stderr
    if 2027 not in seeding.chinese_calendar_years():
        due = _run(["calendar", "due", "2026-12-24", "15"], env)
        assert due.stdout == "2027-01-15T17:30:00+08:00 (provisional)\n", due.stderr

    bad = tmp_path / "bad.csv"
    bad.write_text("日期,类型,名称\n2027-01-01,放假,元旦\n2027-01-05,上班,\n", encoding="utf-8")
    result = _run(["calendar", "import", str(bad)], env)
    assert result.returncode == 1 and "第 3 行" in result.stderr and "星期二" in result.stderr
    good = tmp_path / "2027.csv"
    good.write_text(ARRANGEMENT_2027, encoding="utf-8")
    result = _run(["calendar", "import", str(good)], env)
    assert result.returncode == 0 and "2027 年已标记为已录入" in result.stdout, result.stderr
    due = _run(["calendar", "due", "2026-12-24", "15"], env)
    assert due.stdout == "2027-01-18T17:30:00+08:00\n", due.stderr
    years = _run(["calendar", "years"], env).stdout
    assert any(line.startswith("2027") and "已录入" in line for line in years.splitlines()), years


def test_cli_due_rejects_malformed_input(tmp_path):
    env = {"FENGQIAO_INSTANCE_PATH": str(tmp_path)}
    for args, name in [(["nonsense", "3"], "START"), (["2025-09-30", "x"], "N"),
                       (["2025-09-30", "-1"], "N")]:
        result = _run(["calendar", "due", *args], env)
        assert result.returncode == 1, (args, result.stderr)
        assert result.stderr.startswith(f"{name}「"), result.stderr
    assert _run(["calendar", "due", "2025-09-30"], env).returncode == 2
    assert _run(["calendar", "import", str(tmp_path / "missing.csv")], env).returncode == 2


def test_start_argument_parsing():
    assert parse_start("2025-09-30") == at(2025, 9, 30, 0, 0)
    assert parse_start("2025-09-30T20:15") == at(2025, 9, 30, 20, 15)
    assert parse_start("2025-09-30 12:00:00+00:00") == at(2025, 9, 30, 20, 0)
    for text in ("nonsense", "", "2025-13-01", "2025-09-30T25:00", "30/09/2025", "2025-9-30"):
        with pytest.raises(ValueError):
            parse_start(text)


# ---- admin page --------------------------------------------------------------------------


def test_admin_page_needs_orgs_manage(login_as, client):
    login_as("shenli")
    assert client.get("/admin/calendar").status_code == 403
    token = csrf_token(client, "/")  # the logout form's
    for path in ("/admin/calendar/days", "/admin/calendar/import", "/admin/calendar/days/1/delete"):
        assert client.post(path, data={"csrf_token": token, "day": "2027-01-04"}).status_code == 403
    page = client.get("/").get_data(as_text=True)
    assert "工作日历" not in page


def test_admin_page_lists_years_and_warns_about_next_year(login_as, client):
    login_as("admin")
    response = client.get("/admin/calendar")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'href="/admin/calendar"' in page and "工作日历" in page  # menu entry
    next_year = workcalendar.today_local().year + 1
    banner = f"尚未录入 {next_year} 年放假调休安排，相关期限按周一至周五暂估"
    assert (banner in page) == (next_year not in seeding.chinese_calendar_years())
    assert 'data-year="2025" data-org=""' in page and "已录入" in page


def test_admin_upload_bad_row_saves_nothing_then_good_file_and_single_days(login_as, client, demo):
    login_as("admin")
    token = csrf_token(client, "/admin/calendar")

    def upload(text: str):
        return client.post("/admin/calendar/import", data={
            "csrf_token": token, "year": "2027", "org": "",
            "arrangement_file": (io.BytesIO(text.encode()), "2027.csv")},
            content_type="multipart/form-data")

    with demo.app_context():
        before = db.scalar(sa.select(sa.func.count()).select_from(CalendarDay))
        years_before = overview.complete_years()
    bad = upload("日期,类型,名称\n2027-01-01,放假,元旦\n2027-01-05,上班,调休\n")
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert "未导入" in page and "第 3 行" in page and "星期二" in page
    with demo.app_context():
        assert db.scalar(sa.select(sa.func.count()).select_from(CalendarDay)) == before
        assert overview.complete_years() == years_before

    good = upload(ARRANGEMENT_2027)
    assert good.status_code == 302
    page = client.get(good.headers["Location"]).get_data(as_text=True)
    assert "已导入全国 2027 年放假调休安排" in page and 'data-day="2027-01-04"' in page
    assert "尚未录入 2027 年" not in page

    added = client.post("/admin/calendar/days", data={
        "csrf_token": token, "day": "2027-01-09", "kind": "workday", "name": "元旦调休", "org": ""})
    assert added.status_code == 302
    refused = client.post("/admin/calendar/days", data={
        "csrf_token": token, "day": "2027-01-05", "kind": "workday", "name": "", "org": ""})
    assert refused.status_code == 422 and "星期二" in refused.get_data(as_text=True)
    with demo.app_context():
        row = db.scalar(sa.select(CalendarDay).where(CalendarDay.day == date(2027, 1, 4)))
        assert (row.source, row.created_by) == ("import", "admin")
        assert workcalendar.is_working_day(date(2027, 1, 9))
        row_id = row.id
    removed = client.post(f"/admin/calendar/days/{row_id}/delete", data={"csrf_token": token})
    assert removed.status_code == 302
    with demo.app_context():
        assert workcalendar.is_working_day(date(2027, 1, 4))
        audit = db.scalar(sa.select(CalendarChange).where(CalendarChange.action == "remove"))
        assert (audit.day, audit.actor, audit.kind, audit.source) == (date(2027, 1, 4), "admin", "holiday", "import")
    assert client.post("/admin/calendar/days/999999/delete", data={"csrf_token": token}).status_code == 404


def test_calendar_changed_is_a_documented_signal():
    assert ALL["calendar_changed"] is calendar_changed
    assert "years" in calendar_changed.__doc__
