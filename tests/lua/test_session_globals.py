"""The ``Session`` global: lifecycle, listing, and the run's current session."""

from __future__ import annotations

from pathlib import Path

import pytest
from state_testkit import file_host, ok

from llmspell import Host


@pytest.fixture
def host(tmp_path: Path) -> Host:
    return file_host(tmp_path / "sessions.db")


def test_lifecycle(host: Host) -> None:
    script = """
    local id = Session.create{name = "q3", description = "numbers", tags = {"finance", "q3"}}
    local created = Session.get(id)
    local statuses = {created.status}
    statuses[#statuses + 1] = Session.suspend(id).status
    statuses[#statuses + 1] = Session.resume(id).status
    statuses[#statuses + 1] = Session.complete(id).status
    local ok, err = pcall(Session.resume, id)
    local by_name = Session.get("q3")
    local deleted = Session.delete(id)
    return {
      id = id, name = created.name, description = created.description, tags = created.tags,
      statuses = statuses, resume_error = err, by_name = by_name.id, deleted = deleted,
      gone = Session.get(id) == nil, deleted_again = Session.delete(id),
    }
    """
    value = ok(host.run(script))
    assert value["id"].startswith("session_")
    assert value["name"] == "q3" and value["description"] == "numbers"
    assert value["tags"] == ["finance", "q3"]
    assert value["statuses"] == ["active", "suspended", "active", "completed"]
    assert value["resume_error"].startswith("StateError: Session.resume: cannot resume session")
    assert value["by_name"] == value["id"]
    assert value["deleted"] is True and value["gone"] is True
    assert value["deleted_again"] is False


def test_list_filters_by_tags_status_and_limit(host: Host) -> None:
    script = """
    local a = Session.create{name = "a", tags = {"x", "y"}}
    local b = Session.create{name = "b", tags = {"x"}}
    local c = Session.create("c")
    Session.complete(c)
    local function names(list)
      local out = {}
      for i, s in ipairs(list) do out[i] = s.name end
      table.sort(out)
      return out
    end
    return {
      all = names(Session.list()),
      x = names(Session.list{tags = {"x"}}),
      xy = names(Session.list{tags = {"x", "y"}}),
      completed = names(Session.list{status = "completed"}),
      limited = #Session.list{limit = 1},
    }
    """
    assert ok(host.run(script)) == {
        "all": ["a", "b", "c"],
        "x": ["a", "b"],
        "xy": ["a"],
        "completed": ["c"],
        "limited": 1,
    }


def test_current_session_is_nil_until_set(host: Host) -> None:
    script = """
    local before = Session.get_current()
    local id = Session.create{name = "work"}
    local set = Session.set_current("work")
    local after = Session.getCurrent()
    Session.setCurrent(nil)
    return {before == nil, set == id, after == id, Session.get_current() == nil}
    """
    assert ok(host.run(script)) == [True, True, True, True]


def test_current_session_comes_from_the_host_by_name_or_id(host: Host) -> None:
    first = ok(host.run("return Session.get_current()", session="chat"))
    assert isinstance(first, str) and first.startswith("session_")
    assert ok(host.run("return Session.get_current()", session="chat")) == first
    assert ok(host.run("return Session.get_current()", session=first)) == first
    assert ok(host.run("return Session.get(Session.get_current()).name", session="chat")) == "chat"
    other = ok(host.run("return Session.get_current()", session="other"))
    assert other != first
    assert ok(host.run("return Session.get_current()")) is None


def test_deleting_the_current_session_clears_it(host: Host) -> None:
    script = "Session.delete(Session.get_current()) return Session.get_current()"
    assert ok(host.run(script, session="doomed")) is None


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("Session.set_current('missing')", "NotFound: Session.set_current: session 'missing'"),
        ("Session.suspend('missing')", "NotFound: Session.suspend: session 'missing' not found"),
        ("Session.create{nme = 'x'}", "ValidationError: Session.create: unknown option 'nme'"),
        ("Session.create{tags = 5}", "ValidationError: Session.create: 'tags' must be a list"),
        ("Session.list{status = 'odd'}", "ValidationError: Session.list: session status 'odd'"),
        ("Session.get(5)", "ValidationError: Session.get: session id or name must be"),
    ],
)
def test_errors(host: Host, call: str, message: str) -> None:
    result = host.run(f"local ok, err = pcall(function() {call} end)\nreturn err")
    assert message in ok(result)
