"""Four eyes in the web app (docs/ARCHITECTURE.md#four-eyes): after delivery a new mobile number is only asked for on the
detail page and waits for a supervisor who did not ask; the approvals page ("Freigaben") lists the
pending requests, never offers the requester their own, and says the outcome of a decision. An
approved number tells the old one by SMS (without the new number); a rejected one changes nothing;
a new PIN to a number changed within 24 hours waits for approval too."""

import re
import secrets

import pytest
from selenium.webdriver.common.by import By

from support import button, check_page, console_errors, field, fill, heading, login, text_appears, wait
from test_search_detail import Setup, grouped, mobile, open_detail, section_text

WAITS = "Die Änderung wartet auf die Freigabe durch eine zweite Person (Leitung)."
APPROVALS = "Freigaben (Vier-Augen-Prinzip)"


@pytest.fixture(scope="module")
def chef(server):
    return server.login_api("chef")


@pytest.fixture(scope="module")
def second_supervisor(server, chef):
    """A second supervisor of the demo authority (the demo has one), made through the API as chef."""
    tag = secrets.token_hex(3)
    username, password = f"leitung-{tag}", f"zweite-leitung-{secrets.token_hex(8)}"
    status, user, _ = server.api("POST", "/api/v1/users", {"username": username, "displayName": f"Lea Zweitleitung {tag}",
                                                           "role": "supervisor", "password": password}, session=chef)
    assert status == 201, user
    server.passwords[username] = password
    return {**user, "username": username}


def masked(number):
    """A number as the app shows it in histories: the country code and the last three digits."""
    return number[:3] + "•" * (len(number) - 6) + number[-3:]


def approvals_of(server, session, app, state=None):
    path = f"/api/v1/approvals?applicationId={app['id']}" + (f"&state={state}" if state else "")
    status, page, _ = server.api("GET", path, session=session)
    assert status == 200, page
    return page["items"]


def request_number_change(browser, server, app, number):
    """The contact form on the detail page, as whoever is logged in."""
    open_detail(browser, server, app)
    wait(browser, lambda d: "Antrag erfasst" in section_text(d, "Verlauf"))
    button(browser, "Kontaktdaten ändern").click()
    text_appears(browser, "Eine neue Nummer gilt erst, wenn eine zweite Person (Leitung) sie freigibt")
    fill(browser, "Mobilnummer", number)
    button(browser, "Änderungen speichern").click()
    text_appears(browser, WAITS)


def approvals_row(browser, app):
    """The row of the approvals page for this application's request (its first cell links to the application)."""
    vn = grouped(app["vorgangsnummer"])
    return wait(browser, lambda d: next((r for r in d.find_elements(By.XPATH, f"//table//tr[th//a[normalize-space()='{vn}']]") if r.is_displayed()), False),
                15, f"no row for {vn}")


def open_approvals(browser, server):
    """Through the main navigation, where supervisors find "Freigaben" with the number waiting."""
    nav = wait(browser, lambda d: next((a for a in d.find_elements(By.XPATH, "//nav[contains(@class,'main-nav')]//a[starts-with(normalize-space(), 'Freigaben')]")), False))
    nav.click()
    heading(browser, "Freigaben")
    heading(browser, "Offene Anfragen")


def test_aNumberChangeAfterDelivery_waitsForASupervisor_whoApprovesIt_andTheOldNumberIsTold(server, gateway, chef, browser):
    setup = Setup(server)
    app = setup.register()
    setup.deliver(app)
    old, new = app["mobileNumber"], mobile()
    assert setup.get(app)["state"] == "assigned"

    login(browser, server, "sachbearbeitung")
    console_errors(browser)
    # Caseworkers have no approvals page.
    assert not browser.find_elements(By.XPATH, "//nav[contains(@class,'main-nav')]//a[starts-with(normalize-space(), 'Freigaben')]")
    request_number_change(browser, server, app, new)
    # Nothing changed yet: the application keeps its number, the request waits.
    assert setup.get(app)["mobileNumber"] == old
    [request] = approvals_of(server, chef, app)
    assert request["state"] == "pending" and request["kind"] == "mobile_number_change" and request["mobileNumber"] == new
    requests = section_text(browser, APPROVALS)
    assert "Neue Mobilnummer" in requests and "Wartet auf Freigabe" in requests and "Sam Sachbearbeitung" in requests
    # The number asked for is masked like the SMS history; the data say a new one waits.
    assert masked(new) in requests and new not in requests
    assert f"Neue Nummer {masked(new)} beantragt – wartet auf Freigabe" in section_text(browser, "Antragsdaten")
    assert "Neue Mobilnummer beantragt (wartet auf Freigabe)" in section_text(browser, "Verlauf")
    check_page(browser, "detail-number-change-requested")

    # chef approves it on the approvals page.
    browser.delete_all_cookies()
    login(browser, server, "chef")
    console_errors(browser)
    open_approvals(browser, server)
    row = approvals_row(browser, app)
    assert "Neue Mobilnummer" in row.text and old in row.text and new in row.text and "Sam Sachbearbeitung" in row.text
    check_page(browser, "approvals")
    sent = len(gateway.messages)
    vn = grouped(app["vorgangsnummer"])
    row.find_element(By.XPATH, f".//button[normalize-space()='Freigeben ({vn})']").click()
    text_appears(browser, f"Neue Mobilnummer für {vn} freigeben?")
    # Cancelling the confirm step changes nothing and returns the focus to the button.
    button(browser, "Abbrechen").click()
    assert browser.switch_to.active_element.text.startswith("Freigeben")
    assert setup.get(app)["mobileNumber"] == old
    approvals_row(browser, app).find_element(By.XPATH, f".//button[normalize-space()='Freigeben ({vn})']").click()
    text_appears(browser, "Die bisherige Nummer")
    check_page(browser, "approvals-confirm")
    button(browser, "Ja, freigeben").click()
    outcome = wait(browser, lambda d: next((p for p in approvals_row(d, app).find_elements(By.CSS_SELECTOR, "[role=status]") if "Freigegeben" in p.text), False), 15)
    assert "die bisherige Nummer bekommt eine SMS" in outcome.text
    assert not approvals_row(browser, app).find_elements(By.XPATH, ".//button")
    check_page(browser, "approvals-decided")

    current = setup.get(app)
    assert current["mobileNumber"] == new and current.get("mobileNumberChangedAt")
    # The old number is told, without the new one.
    told = gateway.wait_for(lambda m: m["to"] == old and gateway.messages.index(m) >= sent)
    assert new not in told["text"] and new[3:] not in told["text"] and new[-7:] not in told["text"]

    open_detail(browser, server, app)
    wait(browser, lambda d: current.get("mobileNumberDisplay", new) in section_text(d, "Antragsdaten"))
    assert "Mobilnummer geändert am" in section_text(browser, "Antragsdaten")
    assert "Freigegeben" in section_text(browser, APPROVALS) and "Dana Vorgesetzt" in section_text(browser, APPROVALS)
    wait(browser, lambda d: "Mobilnummer geändert (an die bisherige Nummer)" in section_text(d, "SMS"), 20)
    assert "Neue Mobilnummer freigegeben" in section_text(browser, "Verlauf")


def test_theRequester_cannotApproveTheirOwnRequest_andARejectionChangesNothing(server, chef, second_supervisor, browser):
    setup = Setup(server)
    app = setup.register()
    setup.deliver(app)
    old, new = app["mobileNumber"], mobile()

    # The second supervisor asks for the new number …
    login(browser, server, second_supervisor["username"])
    console_errors(browser)
    request_number_change(browser, server, app, new[:3] + " " + new[3:])
    [request] = approvals_of(server, chef, app, "pending")
    # … and is not offered to decide it: the row says why.
    open_approvals(browser, server)
    row = approvals_row(browser, app)
    assert "Ihre eigene Anfrage: Eine andere Person der Leitung muss sie entscheiden." in row.text
    assert not row.find_elements(By.XPATH, ".//button")
    check_page(browser, "approvals-own-request")
    # The server refuses it too.
    own = server.login_api(second_supervisor["username"])
    status, body, _ = server.api("POST", f"/api/v1/approvals/{request['id']}/approve", session=own)
    assert status == 403 and body["error"] == "second_staff_member_required", body
    assert setup.get(app)["mobileNumber"] == old

    # chef rejects it: nothing changes.
    browser.delete_all_cookies()
    login(browser, server, "chef")
    console_errors(browser)
    browser.get(f"{server.url}/#/approvals")
    heading(browser, "Freigaben")
    vn = grouped(app["vorgangsnummer"])
    approvals_row(browser, app).find_element(By.XPATH, f".//button[normalize-space()='Ablehnen ({vn})']").click()
    text_appears(browser, f"Anfrage für {vn} ablehnen?")
    button(browser, "Ja, ablehnen").click()
    wait(browser, lambda d: "Abgelehnt: Es ändert sich nichts." in approvals_row(d, app).text, 15)
    assert setup.get(app)["mobileNumber"] == old
    assert [a["state"] for a in approvals_of(server, chef, app)] == ["rejected"]
    # The decided ones of the last days are listed below the pending ones.
    browser.refresh()
    heading(browser, "Entschieden in den letzten 7 Tagen")
    decided = browser.find_element(By.XPATH, "//section[h2[normalize-space()='Entschieden in den letzten 7 Tagen']]").text
    assert vn in decided and "Abgelehnt" in decided
    # In English too.
    button(browser, "English").click()
    heading(browser, "Approvals")
    heading(browser, "Decided in the last 7 days")
    text_appears(browser, "Whoever made a request cannot decide it.")
    check_page(browser, "approvals-en")
    button(browser, "Deutsch").click()
    heading(browser, "Freigaben")
    open_detail(browser, server, app)
    wait(browser, lambda d: "Abgelehnt" in section_text(d, APPROVALS))
    assert app.get("mobileNumberDisplay", old) in section_text(browser, "Antragsdaten")
    assert "Neue Mobilnummer abgelehnt" in section_text(browser, "Verlauf")
    assert not console_errors(browser)


def test_aNewPinToANumberChangedToday_waitsForApproval_andGoesOutOnceApproved(server, gateway, chef, browser):
    setup = Setup(server)
    app = setup.register()
    setup.load_into_box(setup.deliver(app))
    new = mobile()
    status, request, _ = server.api("POST", f"/api/v1/applications/{app['id']}/mobile-number-changes", {"mobileNumber": new}, session=setup.session)
    assert status == 202, request
    status, body, _ = server.api("POST", f"/api/v1/approvals/{request['id']}/approve", session=chef)
    assert status == 200 and body["state"] == "approved", body
    assert setup.get(app)["mobileNumber"] == new

    login(browser, server, "sachbearbeitung")
    console_errors(browser)
    open_detail(browser, server, app)
    sent = len(gateway.messages)
    button(browser, "Neue PIN senden").click()
    text_appears(browser, "Die neue PIN wartet auf die Freigabe durch eine zweite Person (Leitung).")
    # Nothing is done yet: a warning, not a success, and no second request while this one waits.
    flash = browser.find_element(By.CSS_SELECTOR, ".detail-flash .notice")
    assert "notice-warning" in flash.get_attribute("class") and "notice-success" not in flash.get_attribute("class")
    [pin_request] = approvals_of(server, chef, app, "pending")
    assert pin_request["kind"] == "pin_reissue"
    assert "Wartet auf Freigabe: Neue PIN an eine geänderte Nummer" in browser.find_element(By.CSS_SELECTOR, ".detail-actions").text
    assert not browser.find_elements(By.XPATH, "//button[starts-with(normalize-space(), 'Neue PIN senden')]")
    check_page(browser, "detail-pin-requested")
    assert not [m for m in gateway.messages[sent:] if m["to"] == new]

    browser.delete_all_cookies()
    login(browser, server, "chef")
    console_errors(browser)
    open_approvals(browser, server)
    vn = grouped(app["vorgangsnummer"])
    row = approvals_row(browser, app)
    assert "Neue PIN an eine geänderte Nummer" in row.text
    row.find_element(By.XPATH, f".//button[normalize-space()='Freigeben ({vn})']").click()
    text_appears(browser, f"Neue PIN für {vn} freigeben?")
    button(browser, "Ja, freigeben").click()
    wait(browser, lambda d: "Freigegeben: Die neue PIN ist per SMS unterwegs." in approvals_row(d, app).text, 15)
    # The "new PIN" SMS goes to the new number ("Ihre neue PIN für die Ausgabebox: 123456." – further
    # from the word PIN than gateway.pin_for looks).
    gateway.wait_for(lambda m: m["to"] == new and gateway.messages.index(m) >= sent and re.search(r"\bPIN\b.*\b\d{6}\b", m["text"]))
