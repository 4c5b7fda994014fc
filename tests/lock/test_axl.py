"""The CUCM AXL backend against the AXL stand-in: a real HTTP(S) server on 127.0.0.1."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from callacct.lock.axl_soap import (
    AxlFault,
    envelope,
    fault_envelope,
    parse_response,
    soap_action,
    update_line_css_request,
)
from callacct.lock.standin import AxlStandIn
from callacct.web.runner import ServerThread
from tests.lock.conftest import PASSWORD, axl_settings, service

Standin = tuple[AxlStandIn, ServerThread]


def states(store, extension: str) -> list[tuple[object, ...]]:
    return store.con.execute(
        "SELECT state, saved, applied FROM locks WHERE extension = ?", [extension]
    ).fetchall()


def test_lock_then_unlock_gives_the_line_back_its_css_exactly(people_store, standin) -> None:
    state, server = standin
    original = "CSS_Sales & <Intl> 'day'"
    state.lines[("2001", "PT_Internal")].css = original
    state.css_names = None
    locks = service(people_store, axl_settings(server.url), "alice")

    report = locks.lock(extensions=["2001"])

    assert report.ok, report.to_dict()
    assert state.css_of("2001", "PT_Internal") == "CSS_Locked"
    assert states(people_store, "2001") == [("locked", original, "CSS_Locked")]
    event = locks.history()[0]
    assert (event.css_before, event.css_after, event.result) == (original, "CSS_Locked", "changed")

    report = locks.unlock(extensions=["2001"])

    assert report.ok, report.to_dict()
    assert state.css_of("2001", "PT_Internal") == original
    assert states(people_store, "2001") == [("unlocked", None, None)]
    assert [e.action for e in locks.history()] == ["unlock", "lock"]
    # Each change read the line first, then wrote it, with CUCM's SOAPAction.
    operations = [(op, action) for op, action, _ in state.requests]
    assert operations == [
        ("getLine", '"CUCM:DB ver=14.0 getLine"'),
        ("updateLine", '"CUCM:DB ver=14.0 updateLine"'),
        ("getLine", '"CUCM:DB ver=14.0 getLine"'),
        ("updateLine", '"CUCM:DB ver=14.0 updateLine"'),
    ]


def test_throttled_writes_are_retried_with_back_off(people_store, standin) -> None:
    state, server = standin
    state.fail_writes = 2
    report = service(people_store, axl_settings(server.url)).lock(extensions=["2001"])
    assert report.ok, report.to_dict()
    assert state.throttled == 2
    assert [status for op, _, status in state.requests if op == "updateLine"] == [503, 503, 200]
    assert state.css_of("2001", "PT_Internal") == "CSS_Locked"


def test_throttling_that_lasts_fails_and_changes_nothing(people_store, standin) -> None:
    state, server = standin
    state.fail_writes = 10
    locks = service(people_store, axl_settings(server.url, retries=2))
    report = locks.lock(extensions=["2001"])
    outcome = report.outcomes[0]
    assert (outcome.result, outcome.state_after) == ("failed", "unlocked")
    assert "kept throttling AXL writes after 3 attempts" in outcome.message
    assert states(people_store, "2001") == []
    assert state.css_of("2001", "PT_Internal") == "CSS_Normal"
    event = locks.history()[0]
    assert (event.result, event.state_after) == ("failed", "unlocked")


def test_a_fault_is_a_clear_error_and_never_a_success(people_store, standin) -> None:
    _, server = standin
    locks = service(people_store, axl_settings(server.url))
    report = locks.lock(extensions=["2098"])  # not in CUCM
    outcome = report.outcomes[0]
    assert not report.ok
    assert outcome.result == "failed"
    assert outcome.message == (
        "line 2098 in partition PT_Internal is not in CUCM (AXL 5007: Item not valid: The "
        "specified Line was not found); check the extension and lock.axl.partition"
    )
    assert states(people_store, "2098") == []
    assert [(e.result, e.state_after) for e in locks.history()] == [("failed", "unlocked")]
    assert locks.status(logins=[])[0].state == "unlocked"


def test_a_refused_password_stops_the_batch(people_store, standin) -> None:
    _, server = standin
    locks = service(people_store, axl_settings(server.url, concurrency=1))
    locks._env = {"CALLACCT_AXL_PASSWORD": "wrong"}
    locks._backends = None  # type: ignore[assignment]
    from callacct.lock.backends import make_backend

    settings = axl_settings(server.url, concurrency=1)
    locks._backends = lambda name: make_backend(
        name, settings, env={"CALLACCT_AXL_PASSWORD": "wrong"}
    )
    report = locks.lock(extensions=["2001", "2002"])
    results = [(o.extension, o.result) for o in report.outcomes]
    assert results == [("2001", "failed"), ("2002", "skipped")]
    assert "CUCM refused the AXL user 'axladmin' (HTTP 401)" in report.outcomes[0].message
    assert "wrong" not in str(report.to_dict())
    assert [e.extension for e in locks.history()] == ["2001"]


def test_tls_is_verified_by_default(people_store, tls_standin) -> None:
    state, server, ca_file = tls_standin
    url = server.url
    refused = service(people_store, axl_settings(url)).lock(extensions=["2001"])
    assert refused.outcomes[0].result == "failed"
    assert "is not trusted; set lock.axl.ca_file" in refused.outcomes[0].message
    assert state.requests == []  # no request (and no password) went out

    trusted = service(people_store, axl_settings(url, ca_file=str(ca_file)))
    assert trusted.lock(extensions=["2001"]).ok
    assert state.css_of("2001", "PT_Internal") == "CSS_Locked"


def test_a_line_already_on_the_locked_css_cannot_be_unlocked_blindly(people_store, standin) -> None:
    state, server = standin
    state.lines[("2001", "PT_Internal")].css = "CSS_Locked"
    locks = service(people_store, axl_settings(server.url))
    assert locks.lock(extensions=["2001"]).ok
    assert [op for op, _, _ in state.requests] == ["getLine"]  # not written again
    report = locks.unlock(extensions=["2001"])
    assert report.outcomes[0].result == "failed"
    assert "is not known (it was already locked when callacct locked it)" in (
        report.outcomes[0].message
    )
    assert state.css_of("2001", "PT_Internal") == "CSS_Locked"


def test_names_with_xml_characters_are_escaped(people_store) -> None:
    state = AxlStandIn(user="axladmin", password=PASSWORD)
    state.add_lines(["2001"], partition='PT_R&D <"x">', css="CSS_Normal")
    with ServerThread(state.app()) as server:
        settings = axl_settings(server.url, partition='PT_R&D <"x">', locked_css="CSS_<L&K>")
        assert service(people_store, settings).lock(extensions=["2001"]).ok
    assert state.css_of("2001", 'PT_R&D <"x">') == "CSS_<L&K>"


def test_sync_reports_lines_that_drifted(people_store, standin) -> None:
    state, server = standin
    locks = service(people_store, axl_settings(server.url))
    assert locks.lock(extensions=["2001"]).ok
    state.lines[("2001", "PT_Internal")].css = "CSS_Normal"  # someone unlocked it in CUCM
    state.lines[("2004", "PT_Internal")].css = "CSS_Locked"  # and locked another one
    state.lines[("2005", "PT_Internal")].css = "CSS_Other"
    state.lines.pop(("2003", "PT_Internal"))
    report = locks.sync()
    drift = {item.extension: item.message for item in report.drift}
    assert drift["2001"] == "locked in callacct, open in the phone system"
    assert drift["2004"] == "open in callacct, locked in the phone system"
    assert drift["2005"] == "on a CSS that is not one of lock.axl.normal_css"
    assert "is not in CUCM (AXL 5007" in drift["2003"]
    assert set(drift) == {"2001", "2003", "2004", "2005"}
    assert not any(op == "updateLine" for op, _, _ in state.requests[2:])  # sync only reads


def _post(url: str, body: bytes, **headers: str) -> tuple[int, bytes]:
    import base64

    auth = base64.b64encode(f"axladmin:{PASSWORD}".encode()).decode()
    request = urllib.request.Request(
        url + "/axl/",
        data=body,
        method="POST",
        headers={
            "Content-Type": "text/xml; charset=utf-8",
            "Authorization": f"Basic {auth}",
            **headers,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


@pytest.mark.parametrize(
    ("body", "action", "expected"),
    [
        (
            envelope(
                "14.0",
                "updateLine",
                "<pattern>2001</pattern><callingSearchSpaceName>CSS_X</callingSearchSpaceName>",
            ),
            soap_action("14.0", "updateLine"),
            "Invalid content was found starting with element 'callingSearchSpaceName'",
        ),
        (
            envelope("14.0", "updateLine", update_line_css_request("CSS_X", pattern="2001")),
            soap_action("12.5", "updateLine"),
            "does not match the request",
        ),
        (
            envelope("9.1", "getLine", "<pattern>2001</pattern>"),
            soap_action("9.1", "getLine"),
            "AXL version 9.1 is not supported",
        ),
        (b"<soapenv:Envelope><broken", soap_action("14.0", "getLine"), "not well-formed XML"),
        (
            envelope("14.0", "dropDatabase", ""),
            soap_action("14.0", "dropDatabase"),
            "unexpected element dropDatabase",
        ),
        (
            envelope(
                "14.0",
                "updateLine",
                "<shareLineAppearanceCssName>X</shareLineAppearanceCssName><pattern>2001</pattern>",
            ),
            soap_action("14.0", "updateLine"),
            "out of order",
        ),
    ],
)
def test_the_standin_rejects_a_malformed_request_as_cucm_does(
    standin: Standin, body: bytes, action: str, expected: str
) -> None:
    state, server = standin
    status, answer = _post(server.url, body, SOAPAction=action)
    assert status == 500
    with pytest.raises(AxlFault) as fault:
        parse_response(answer, status, "14.0", "updateLine")
    assert fault.value.faultcode == "soapenv:Client"
    assert expected in str(fault.value)
    assert state.css_of("2001", "PT_Internal") == "CSS_Normal"


def test_the_standin_refuses_a_wrong_password_and_a_wrong_content_type(standin: Standin) -> None:
    _, server = standin
    body = envelope("14.0", "getLine", "<pattern>2001</pattern>")
    request = urllib.request.Request(
        server.url + "/axl/",
        data=body,
        method="POST",
        headers={"Content-Type": "text/xml", "SOAPAction": soap_action("14.0", "getLine")},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 401
    caught.value.close()
    assert (
        _post(
            server.url,
            body,
            SOAPAction=soap_action("14.0", "getLine"),
            **{"Content-Type": "application/json"},
        )[0]
        == 415
    )


def test_fault_envelopes_read_back() -> None:
    data = fault_envelope("soapenv:Server", "Item not valid: <x>", code=5007, request="getLine")
    with pytest.raises(AxlFault) as caught:
        parse_response(data, 500, "14.0", "getLine")
    assert str(caught.value) == "AXL 5007: Item not valid: <x>"
