"""Data protection in the web app (PRIVACY.md): supervisors read the receipts of the erasure passes and
the audit log with its filters and chain head ("Datenschutz"), export everything held about one
application as a JSON file (Art. 15 GDPR), and an application whose personal data the pass erased says
so on its page instead of showing empty fields. Caseworkers are offered none of it.

The module runs its own demo server with a retention of one day after closing and two days at most,
and makes a real pass with `pickupbox erase` against that server's database: the demo's closed and
older applications are erased then, without touching the data other test modules share."""

import json
import os
import re
import subprocess
import time

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from support import BIN, Server, assert_no_console_errors, button, check_page, console_errors, field, heading, link, login, text_appears, wait
from test_search_detail import Setup, field_error, grouped, section_text

RETENTION = {"RETENTION_DAYS_AFTER_CLOSE": "1", "RETENTION_DAYS_MAX": "2"}
EXPORT = "Auskunft exportieren (Art. 15 DSGVO)"


@pytest.fixture(scope="module")
def privacy_server(gateway):
    """A demo server of its own, after one erasure pass (its receipt is there when the fixture returns)."""
    server = Server("privacy", gateway, extra_env=RETENTION)
    try:
        env = {**os.environ, "PICKUPBOX_DATA_DIR": str(server.data), **RETENTION}
        done = subprocess.run([str(BIN), "erase"], env=env, cwd="/", capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        chef = server.login_api("chef")
        # The server's own scheduler may have run the pass instead (it checks every minute): either way
        # a finished pass erased the demo's closed applications.
        deadline = time.time() + 90
        while True:
            status, page, _ = server.api("GET", "/api/v1/privacy/erasures", session=chef)
            assert status == 200, page
            if any(r["status"] == "finished" and r["applications"] > 0 for r in page["items"]):
                break
            assert time.time() < deadline, f"no erasure pass erased anything: {page}\n{done.stdout}"
            time.sleep(1)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def chef(privacy_server):
    return privacy_server.login_api("chef")


def receipt_with_erasures(server, chef):
    status, page, _ = server.api("GET", "/api/v1/privacy/erasures", session=chef)
    assert status == 200, page
    return next(r for r in page["items"] if r["applications"] > 0)


def erased_application(server, chef, state):
    """An application of the demo in `state` whose personal data the pass erased."""
    status, page, _ = server.api("GET", f"/api/v1/applications?state={state}&limit=100", session=chef)
    assert status == 200, page
    erased = [a for a in page["items"] if a.get("personalDataErasedAt")]
    assert erased, f"the pass erased no application in state {state}"
    return erased[0]


def open_privacy(browser):
    """Through the main navigation, as a supervisor finds it."""
    nav = wait(browser, lambda d: next((a for a in d.find_elements(By.XPATH, "//nav[contains(@class,'main-nav')]//a[normalize-space()='Datenschutz']")), False))
    nav.click()
    heading(browser, "Datenschutz")
    heading(browser, "Löschläufe")


def audit_rows(browser):
    return browser.find_elements(By.CSS_SELECTOR, "table.privacy-audit tbody tr")


def test_theSupervisor_readsTheReceiptOfAnErasurePass_withItsRulesCountsAndPlaceInTheLog(privacy_server, chef, browser):
    receipt = receipt_with_erasures(privacy_server, chef)
    login(browser, privacy_server, "chef")
    open_privacy(browser)
    text_appears(browser, "Löschläufe, die neuesten zuerst")
    # The rules in force, in words, with German numbers.
    text_appears(browser, "Frist nach Abholung oder Stornierung")
    rules = browser.find_element(By.CSS_SELECTOR, "dl.privacy-policy").text
    assert "1 Tag" in rules and "2 Tage" in rules and "90 Tage" in rules, rules
    # The pass's row: finished, how many applications, rows per table, its place in the audit log.
    row = wait(browser, lambda d: next((r for r in d.find_elements(By.CSS_SELECTOR, "table.privacy-erasures tbody tr")
                                        if f"Beleg Nr. {receipt['receiptEventId']} im Protokoll" in r.text), False), 15, "no row for the receipt")
    cells = row.find_elements(By.CSS_SELECTOR, "td")
    assert cells[0].text == "abgeschlossen"
    assert cells[1].text == str(receipt["applications"])
    tables = [" ".join(li.text.split()) for li in cells[2].find_elements(By.TAG_NAME, "li")]
    words = {"application": "Anträge (Personendaten)", "document": "Dokumentnummern", "delivery_item": "Lieferpositionen", "sms_message": "SMS (Nummer, Text)"}
    assert tables == [f"{n} {words.get(table, table)}" for table, n in sorted(receipt["rows"].items(), key=lambda r: -r[1])], tables
    first, last = receipt["auditEvents"]["firstId"], receipt["auditEvents"]["lastId"]
    assert f"Löschungen: Nr. {first} bis {last}" in cells[4].text
    # The table has a caption and header cells with their scope.
    table = browser.find_element(By.CSS_SELECTOR, "table.privacy-erasures")
    assert table.find_element(By.TAG_NAME, "caption").text.startswith("Löschläufe")
    assert {th.get_attribute("scope") for th in table.find_elements(By.CSS_SELECTOR, "thead th")} == {"col"}
    check_page(browser, "privacy")
    # The receipt's link opens the log at that entry: the receipt, then the erasures it wrote.
    link(browser, f"Beleg Nr. {receipt['receiptEventId']} im Protokoll").click()
    text_appears(browser, f"Einträge ab Nr. {receipt['receiptEventId']} abwärts")
    wait(browser, lambda d: audit_rows(d) and audit_rows(d)[0].find_element(By.TAG_NAME, "th").text.startswith(str(receipt["receiptEventId"])))
    assert "Beleg eines Löschlaufs" in audit_rows(browser)[0].text
    assert "Personenbezogene Daten gelöscht" in audit_rows(browser)[1].text
    # Paging: back to the newest entries, then one page older (the pass alone wrote more than a page).
    link(browser, "Zu den neuesten Einträgen").click()
    text_appears(browser, "Protokolleinträge, die neuesten zuerst")
    newest = wait(browser, lambda d: [int(r.find_element(By.TAG_NAME, "th").text.split()[0]) for r in audit_rows(d)] or False)
    assert newest == sorted(newest, reverse=True) and len(newest) == 50, newest
    link(browser, "Ältere Einträge").click()
    text_appears(browser, f"Einträge ab Nr. {newest[-1] - 1} abwärts")
    older = wait(browser, lambda d: [int(r.find_element(By.TAG_NAME, "th").text.split()[0]) for r in audit_rows(d)] or False)
    assert older and max(older) < min(newest), (newest, older)
    # In English too.
    button(browser, "English").click()
    heading(browser, "Erasure passes")
    text_appears(browser, f"Receipt no. {receipt['receiptEventId']} in the log")


def test_theAuditLog_filteredByAnActionTheSupervisorCaused_showsIt_withTheChainHead(privacy_server, chef, browser):
    app = Setup(privacy_server).register()
    browser.execute_cdp_cmd("Browser.grantPermissions", {"origin": privacy_server.url, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    login(browser, privacy_server, "chef")
    console_errors(browser)
    # Looking at the application is an audited read by this supervisor.
    browser.get(f"{privacy_server.url}/#/applications/{app['id']}")
    heading(browser, f"Antrag {grouped(app['vorgangsnummer'])}")
    open_privacy(browser)
    Select(field(browser, "Aktion")).select_by_visible_text("Antrag angesehen (application.read)")
    Select(field(browser, "Wer")).select_by_visible_text("Dana Vorgesetzt (chef)")
    button(browser, "Protokoll filtern").click()
    text_appears(browser, "Protokolleinträge mit den gewählten Filtern, die neuesten zuerst")
    assert "action=application.read" in browser.current_url
    short = app["id"].lower()[:8]
    text_appears(browser, f"Antrag {short}")
    rows = audit_rows(browser)
    assert rows and all("Antrag angesehen" in r.text and "Dana Vorgesetzt" in r.text for r in rows), [r.text for r in rows]
    # The entry links to the application.
    link(browser, f"Antrag {short}")
    # The chain head: shortened, the whole hash on request, and how to check the chain.
    text_appears(browser, "Versiegelt bis Eintrag")
    text_appears(browser, "pickupbox audit verify")
    browser.find_element(By.XPATH, "//summary[normalize-space()='Ganzen Hash zeigen']").click()
    full = wait(browser, lambda d: next((c.text for c in d.find_elements(By.CSS_SELECTOR, "code.privacy-hash") if c.is_displayed()), False))
    assert re.fullmatch(r"[0-9a-f]{64}", full), full
    shown = browser.find_element(By.CSS_SELECTOR, ".privacy-head code").text
    assert shown == f"{full[:12]}…{full[-8:]}"
    button(browser, "Hash kopieren").click()
    text_appears(browser, "Der Kopf-Hash ist in der Zwischenablage.")
    copied = browser.execute_async_script("const done = arguments[arguments.length - 1]; navigator.clipboard.readText().then(done, (e) => done(String(e)));")
    assert copied == full
    assert_no_console_errors(browser, "privacy-filtered")
    # An id that is not one is said at the field, before anything is asked of the server.
    field(browser, "ID des Objekts").send_keys("nicht-eine-id")
    button(browser, "Protokoll filtern").click()
    heading(browser, "Bitte prüfen Sie Ihre Angaben")
    assert field_error(browser, "ID des Objekts").startswith("Bitte geben Sie eine vollständige ID ein")
    assert "entityId" not in browser.current_url
    assert_no_console_errors(browser, "privacy-invalid-filter")


def test_theExport_downloadsAJsonFile_withTheVorgangsnummerAndItsAuditEvents(privacy_server, chef, browser, tmp_path):
    app = Setup(privacy_server).register()
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    login(browser, privacy_server, "chef")
    console_errors(browser)
    browser.get(f"{privacy_server.url}/#/applications/{app['id']}")
    heading(browser, f"Antrag {grouped(app['vorgangsnummer'])}")
    text_appears(browser, "Der Export wird im Protokoll vermerkt.")
    button(browser, EXPORT).click()
    name = f"auskunft-{app['vorgangsnummer']}.json"
    text_appears(browser, f"Die Auskunft ist heruntergeladen: {name}")
    path = tmp_path / name
    wait(browser, lambda d: path.exists() and path.stat().st_size > 0, 20, f"{name} was not downloaded: {list(tmp_path.iterdir())}")
    export = json.loads(path.read_text(encoding="utf-8"))
    assert export["application"]["vorgangsnummer"] == app["vorgangsnummer"]
    assert export["application"]["familyName"] == app["familyName"]
    actions = [e["action"] for e in export["auditEvents"]]
    assert "application.registered" in actions and actions[-1] == "application.exported", actions
    assert all(e["entityId"].lower() == app["id"].lower() for e in export["auditEvents"])
    assert_no_console_errors(browser, "detail-export")
    # The export is in the log, for this application.
    link(browser, "Protokoll zu diesem Antrag").click()
    text_appears(browser, "Protokolleinträge mit den gewählten Filtern, die neuesten zuerst")
    text_appears(browser, "Auskunft exportiert (Art. 15 DSGVO)")


def test_aCaseworker_isNotOfferedThePrivacyPages_andGetsTheNotFoundPage(privacy_server, browser):
    app = Setup(privacy_server).register()
    login(browser, privacy_server, "sachbearbeitung")
    console_errors(browser)  # what the dashboard logged is the dashboard's business
    nav = browser.find_element(By.CSS_SELECTOR, "nav.main-nav").text
    assert "Datenschutz" not in nav and "Übersicht" in nav
    browser.get(f"{privacy_server.url}/#/privacy")
    heading(browser, "Diese Seite gibt es nicht.")
    browser.get(f"{privacy_server.url}/#/applications/{app['id']}")
    heading(browser, f"Antrag {grouped(app['vorgangsnummer'])}")
    text_appears(browser, "Antrag erfasst")
    assert not browser.find_elements(By.XPATH, f"//button[normalize-space()='{EXPORT}']")
    assert not browser.find_elements(By.XPATH, "//a[normalize-space()='Protokoll zu diesem Antrag']")
    # Nothing the caseworker saw asked for what the server refuses them.
    assert_no_console_errors(browser, "caseworker")
    session = privacy_server.login_api("sachbearbeitung")
    for path in ("/api/v1/privacy/erasures", "/api/v1/audit", f"/api/v1/applications/{app['id']}/export"):
        assert privacy_server.api("GET", path, session=session)[0] == 403, path


def test_anApplicationErasedByThePass_saysSoOnItsPage_insteadOfEmptyFields(privacy_server, chef, browser):
    app = erased_application(privacy_server, chef, "cancelled")
    login(browser, privacy_server, "sachbearbeitung")
    browser.get(f"{privacy_server.url}/#/applications/{app['id']}")
    heading(browser, f"Antrag {grouped(app['vorgangsnummer'])}")
    text_appears(browser, "Personenbezogene Daten gelöscht am")
    subtitle = browser.find_element(By.CSS_SELECTOR, ".detail-subtitle").text
    assert subtitle.startswith("Personenbezogene Daten gelöscht am "), subtitle
    data = section_text(browser, "Antragsdaten")
    assert "Personenbezogene Daten" in data and "Familienname" not in data and "Geburtsdatum" not in data and "Mobilnummer" not in data, data
    assert "Grund der Stornierung\ngelöscht" in section_text(browser, "Abholung")
    wait(browser, lambda d: "Personenbezogene Daten gelöscht" in section_text(d, "Verlauf"))
    check_page(browser, "detail-erased")


def test_anOpenApplicationErasedAtTheMaximumAge_offersNoActionThatNeedsTheErasedData(privacy_server, chef, browser):
    app = erased_application(privacy_server, chef, "ready_in_box")
    login(browser, privacy_server, "sachbearbeitung")
    browser.get(f"{privacy_server.url}/#/applications/{app['id']}")
    heading(browser, f"Antrag {grouped(app['vorgangsnummer'])}")
    text_appears(browser, "Brief, SMS und eine neue PIN sind nicht mehr möglich.")
    # Cancelling needs no personal data; a letter, a new PIN and new contact data would.
    button(browser, "Antrag stornieren")
    actions = section_text(browser, "Aktionen")
    for gone in ("Neue PIN senden und Fach entsperren", "Kontaktdaten ändern", "Brief an die antragstellende Person drucken"):
        assert gone not in actions, actions
    wait(browser, lambda d: "Höchstfrist ab Erfassung abgelaufen" in section_text(d, "Verlauf"))
    check_page(browser, "detail-erased-open")


def test_theLetterOfAnErasedApplication_typedInDirectly_saysThereIsNoneAnyMore(privacy_server, chef, browser):
    app = erased_application(privacy_server, chef, "cancelled")
    login(browser, privacy_server, "sachbearbeitung")
    browser.get(f"{privacy_server.url}/#/applications/{app['id']}/letter")
    heading(browser, "Brief für die antragstellende Person")
    text_appears(browser, "Einen Brief gibt es dafür nicht mehr.")
    # No sheet greeting nobody, and no print button for it.
    assert not browser.find_elements(By.CSS_SELECTOR, ".letter-sheet")
    assert not browser.find_elements(By.XPATH, "//button[normalize-space()='Drucken']")
    # The notice itself is checked (axe, console, screenshot): the server's refusal of the letter is the
    # only thing in the console.
    check_page(browser, "letter-erased", allow_console=("/letter - Failed to load resource: the server responded with a status of 409",))
    browser.find_element(By.LINK_TEXT, "Zum Antrag").click()
    heading(browser, f"Antrag {grouped(app['vorgangsnummer'])}")
