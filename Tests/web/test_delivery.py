"""Delivery: scanning a delivery note pair by pair (matched, unknown, scanned twice) with the focus
kept in the scan input and a sound per result, a refused delivery note number corrected without
rescanning, the compartment of a delivered application shown as to be loaded, and the CSV import."""

import random
import re
import tempfile
import time
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from support import button, check_page, field, fill, heading, link, login, text_appears, wait

VN_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXY"
DOC_FIRST = "CFGHJKLMNPRTVWXYZ"
DOC_ALPHABET = "0123456789CFGHJKLMNPRTVWXYZ"


def valid_looking_vn():
    """A generated-style Vorgangsnummer with a correct check symbol (Σ i·vᵢ ≡ 0 mod 29) that no application has."""
    values = [random.randrange(29) for _ in range(9)]
    s = sum((i + 1) * v for i, v in enumerate(values))
    values.append((-s * 3) % 29)  # 3 is the inverse of 10 mod 29
    return "".join(VN_ALPHABET[v] for v in values)


def document_number():
    return random.choice(DOC_FIRST) + "".join(random.choice(DOC_ALPHABET) for _ in range(8))


def note_number():
    return f"LS-WEB-{int(time.time() * 1000) % 10**10}-{random.randrange(1000)}"


def register_box_pickups(server, session, count):
    status, sites, _ = server.api("GET", "/api/v1/sites", session=session)
    assert status == 200
    apps = []
    for i in range(count):
        status, app, _ = server.api("POST", "/api/v1/applications", {
            "siteId": next((s["id"] for s in sites if s["name"] == "Bürgeramt Mitte"), sites[0]["id"]), "documentType": "eat", "issuance": "first",
            "familyName": f"Lieferung{i}", "givenNames": "Test", "dateOfBirth": "15.05.1985",
            "pickupMethod": "box", "mobileNumber": "0151 2345 6789", "feeSettled": True,
        }, session=session)
        assert status == 201, app
        apps.append(app)
    return apps


def scan(browser, text):
    """Types into the focused element like a scanner: the code, then Enter."""
    browser.switch_to.active_element.send_keys(text + Keys.ENTER)


def scan_input(browser):
    return field(browser, "Barcode scannen")


def last_result(browser):
    return browser.find_element(By.CSS_SELECTOR, ".last-result").text


def wait_last(browser, text, timeout=15):
    wait(browser, lambda d: text in last_result(d), timeout, f"{text!r} not shown as the last result")


def spy_on_sound(browser):
    """Records the pitch of every tone the page plays (WebAudio oscillators)."""
    browser.execute_script("""
        window.__tones = [];
        const create = AudioContext.prototype.createOscillator;
        AudioContext.prototype.createOscillator = function () {
          const osc = create.call(this);
          setTimeout(() => window.__tones.push(osc.frequency.value), 0);
          return osc;
        };""")


def tones(browser):
    return browser.execute_script("return window.__tones.slice()")


def open_delivery(browser, server):
    login(browser, server, "sachbearbeitung")
    browser.get_log("browser")  # what the dashboard logged is the dashboard's business
    browser.get(server.url + "/#/delivery")
    heading(browser, "Lieferung erfassen")


def test_readingAScan_tellsDocumentNumbersVorgangsnummernStatusLinksAndCombinedCodesApart(server, browser):
    browser.get(server.url + "/")
    heading(browser, "Anmelden")
    vn = valid_looking_vn()
    wrong_check = vn[:9] + VN_ALPHABET[(VN_ALPHABET.index(vn[9]) + 1) % 29]
    grouped = f"{vn[:3]}-{vn[3:6]}-{vn[6:9]}-{vn[9:]}".lower()
    cases = [
        "L01X00T47", vn, grouped, f"{server.url}/status?vn={vn}&lang=de", wrong_check,
        f"L01X00T47\t{vn}", f"{vn};L01X00T47", f"L01X00T47, {vn}", "AZ-2026/0815",
    ]
    results = browser.execute_async_script("""
        const [cases, done] = [arguments[0], arguments[arguments.length - 1]];
        const base = document.querySelector('script[type=module]').src;
        import(new URL('pages/delivery.js', base).href).then((m) => done(cases.map((c) => m.readScan(c))), (e) => done(String(e)));""", cases)
    assert results[0] == {"documentNumber": "L01X00T47", "documentLike": True}
    assert results[1] == {"vorgangsnummer": vn}
    assert results[2] == {"vorgangsnummer": vn}, "grouped and lower case is the same number"
    assert results[3] == {"vorgangsnummer": vn}, "a scanned status link counts as its number"
    assert "vorgangsnummer" not in results[4], "a wrong check symbol is no Vorgangsnummer"
    for r in results[5:8]:
        assert r == {"pair": {"documentNumber": "L01X00T47", "vorgangsnummer": vn}}
    assert results[8] == {"documentNumber": "AZ-2026/0815", "documentLike": False}


def test_scanning_showsMatchedUnknownAndTwice_withSound_andTheFocusStaysInTheScanInput(server, browser):
    session = server.login_api("sachbearbeitung")
    first, second, _ = register_box_pickups(server, session, 3)
    doc1, doc2 = document_number(), document_number()
    open_delivery(browser, server)
    check_page(browser, "delivery-scan")
    spy_on_sound(browser)

    fill(browser, "Lieferscheinnummer", note_number())
    field(browser, "Lieferscheinnummer").send_keys(Keys.ENTER)
    assert browser.switch_to.active_element == scan_input(browser)

    # Two scans: the card's document number, then the Vorgangsnummer from the sheet.
    scan(browser, doc1)
    text_appears(browser, "Dokumentnummer erfasst – jetzt Vorgangsnummer scannen")
    assert browser.switch_to.active_element == scan_input(browser)
    scan(browser, first["vorgangsnummer"])
    wait_last(browser, "Zugeordnet – Fach ")
    number = int(re.search(r"Zugeordnet – Fach (\d+)", last_result(browser)).group(1))
    text_appears(browser, "Bereit: Dokumentnummer scannen.")
    assert browser.switch_to.active_element == scan_input(browser)
    status, app, _ = server.api("GET", f"/api/v1/applications/{first['id']}", session=session)
    assert app["state"] == "assigned"

    # One combined code with a Vorgangsnummer that looks right but belongs to nobody.
    scan(browser, f"{doc2};{valid_looking_vn()}")
    wait_last(browser, "Unbekannt")
    assert "Diese Vorgangsnummer gibt es bei uns nicht. Dokument beiseitelegen und klären." in last_result(browser)
    assert browser.switch_to.active_element == scan_input(browser)

    # The first card again, its partner scanned from the status link on the sheet.
    scan(browser, doc1)
    scan(browser, f"{server.url}/status?vn={second['vorgangsnummer']}")
    # … with another Vorgangsnummer than the first time: one of the two pairings is wrong, said in red.
    wait_last(browser, "Doppelt gescannt – andere Vorgangsnummer")
    vn1 = first["vorgangsnummer"]
    grouped1 = f"{vn1[:3]}-{vn1[3:6]}-{vn1[6:9]}-{vn1[9:]}"
    assert f"Diese Dokumentnummer ist schon mit Vorgangsnummer {grouped1} erfasst." in last_result(browser)
    assert "last-conflict" in browser.find_element(By.CSS_SELECTOR, ".last-result").get_attribute("class")
    assert browser.switch_to.active_element == scan_input(browser)

    # The same pair once more is only scanned twice: no warning about a wrong pairing.
    scan(browser, f"{doc1};{vn1}")
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".scan-table tbody tr")) == 4
         and "Wird geprüft" not in d.find_element(By.CSS_SELECTOR, ".scan-table tbody tr").text)
    wait_last(browser, "Dieses Dokument ist schon erfasst.")
    assert "andere Vorgangsnummer" not in last_result(browser)

    rows = browser.find_elements(By.CSS_SELECTOR, ".scan-table tbody tr")
    assert [r.find_elements(By.TAG_NAME, "td")[3].text.split(" –")[0] for r in rows] == ["Doppelt gescannt", "Doppelt gescannt", "Unbekannt", "Zugeordnet"]
    assert "eine Zuordnung ist falsch" in rows[1].text and "eine Zuordnung ist falsch" not in rows[0].text
    counts = browser.find_element(By.CSS_SELECTOR, "ul.counts").text
    assert "Zugeordnet 1" in counts and "Unbekannt 1" in counts and "Doppelt gescannt 2" in counts
    # A high tone for the match, low ones for the problems.
    played = tones(browser)
    assert played and played[0] > 1000 and all(f < 500 for f in played[1:]), played

    # A click beside the controls puts the focus back into the scan input (the till model).
    browser.find_element(By.XPATH, "//p[starts-with(normalize-space(), 'Erfassen Sie, was die Bundesdruckerei')]").click()
    assert browser.switch_to.active_element == scan_input(browser)
    check_page(browser, "delivery-scan-results")

    # The delivered application's compartment waits to be loaded.
    status, boxes, _ = server.api("GET", "/api/v1/boxes", session=session)
    box = next(b for b in boxes if b["name"] == "Ausgabebox Foyer")
    link(browser, "Boxen").click()
    link(browser, "Ausgabebox Foyer").click()
    cell = wait(browser, lambda d: next(iter(d.find_elements(By.XPATH, f"//*[@role='grid']//button[starts-with(@aria-label, 'Fach {number}:')]")), False), 20)
    assert "Zu beladen" in cell.get_attribute("aria-label")
    cell.click()
    panel = browser.find_element(By.CSS_SELECTOR, "section[aria-label='Angaben zum Fach']")
    wait(browser, lambda d: panel.find_element(By.TAG_NAME, "h2").text == f"Fach {number}")
    assert "Zu beladen" in panel.text
    vn = first["vorgangsnummer"]
    assert f"{vn[:3]}-{vn[3:6]}-{vn[6:9]}-{vn[9:]}" in panel.text
    assert box["id"] in browser.current_url


def test_aDeliveryNoteRecordedBefore_isShownAtTheNoteField_andTheScanIsSentWithTheCorrectedNumber(server, browser):
    session = server.login_api("sachbearbeitung")
    (app,) = register_box_pickups(server, session, 1)
    used = note_number()
    status, _, _ = server.api("POST", "/api/v1/deliveries", {"deliveryNoteNumber": used, "items": [{"documentNumber": document_number(), "vorgangsnummer": valid_looking_vn()}]}, session=session)
    assert status == 201
    open_delivery(browser, server)
    fill(browser, "Lieferscheinnummer", used)
    field(browser, "Lieferscheinnummer").send_keys(Keys.ENTER)
    scan(browser, f"{document_number()}\t{app['vorgangsnummer']}")
    text_appears(browser, "Diese Lieferscheinnummer wurde schon erfasst.")
    note = field(browser, "Lieferscheinnummer")
    assert note.get_attribute("aria-invalid") == "true"
    assert browser.switch_to.active_element == note
    text_appears(browser, "Nicht gesendet")

    # Beginning a new delivery note would lose the unsent scan: the page asks first, in the page.
    button(browser, "Neuen Lieferschein beginnen").click()
    text_appears(browser, "1 Scans wurden nicht gesendet und gehen verloren.")
    button(browser, "Abbrechen").click()
    text_appears(browser, "Nicht gesendet")
    assert browser.switch_to.active_element == button(browser, "Neuen Lieferschein beginnen")

    note = field(browser, "Lieferscheinnummer")
    note.clear()
    note.send_keys(note_number() + Keys.ENTER)
    wait_last(browser, "Zugeordnet – Fach ")
    assert note.get_attribute("readonly") is not None
    assert browser.switch_to.active_element == scan_input(browser)
    status, fresh, _ = server.api("GET", f"/api/v1/applications/{app['id']}", session=session)
    assert fresh["state"] == "assigned"

    # A new delivery note ends the session: empty list, empty note number to type.
    button(browser, "Neuen Lieferschein beginnen").click()
    text_appears(browser, "abgeschlossen: 1 Dokument erfasst, davon 1 zugeordnet.")
    text_appears(browser, "Noch nichts gescannt.")
    assert field(browser, "Lieferscheinnummer").get_attribute("value") == ""
    assert browser.switch_to.active_element == field(browser, "Lieferscheinnummer")


def test_anExpiredSession_keepsTheNoteNumberAndTheUnsentScan_andAReloadKeepsTheList(server, browser):
    session = server.login_api("sachbearbeitung")
    (app,) = register_box_pickups(server, session, 1)
    open_delivery(browser, server)
    note = note_number()
    fill(browser, "Lieferscheinnummer", note)
    field(browser, "Lieferscheinnummer").send_keys(Keys.ENTER)
    browser.delete_all_cookies()  # the session ends, as after a long break
    doc = document_number()
    scan(browser, f"{doc} {app['vorgangsnummer']}")
    heading(browser, "Anmelden", timeout=15)
    text_appears(browser, "Ihre Sitzung ist abgelaufen.")
    fill(browser, "Behörde (Kurzname)", "demo")
    fill(browser, "Benutzername", "sachbearbeitung")
    fill(browser, "Passwort", server.passwords["sachbearbeitung"])
    button(browser, "Anmelden").click()

    heading(browser, "Lieferung erfassen", timeout=15)
    assert field(browser, "Lieferscheinnummer").get_attribute("value") == note
    text_appears(browser, "Nicht gesendet")
    button(browser, "Nicht gesendete Scans erneut senden (1)").click()
    wait_last(browser, "Zugeordnet – Fach ")
    assert browser.switch_to.active_element == scan_input(browser)

    # A reload resumes the delivery note with its list.
    browser.refresh()
    heading(browser, "Lieferung erfassen")
    text_appears(browser, "Lieferung angelegt am")
    assert field(browser, "Lieferscheinnummer").get_attribute("value") == note
    row = wait(browser, lambda d: next(iter(d.find_elements(By.CSS_SELECTOR, ".scan-table tbody tr")), False))
    assert doc in row.text and "Zugeordnet – Fach" in row.text
    assert browser.switch_to.active_element == scan_input(browser)


def test_theCsvImport_showsTheResultOfEveryLine(server, browser):
    session = server.login_api("sachbearbeitung")
    (app,) = register_box_pickups(server, session, 1)
    open_delivery(browser, server)
    link(browser, "CSV-Datei importieren").click()
    heading(browser, "Lieferschein als CSV importieren")
    check_page(browser, "delivery-csv")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lieferschein.csv"
        doc1, doc2 = document_number(), document_number()
        path.write_text(f"Vorgangsnummer;document_number\r\n{app['vorgangsnummer']};{doc1}\r\n{valid_looking_vn()};{doc2}\r\n", encoding="utf-8")
        note = note_number()
        fill(browser, "Lieferscheinnummer", note)
        field(browser, "Lieferschein als CSV").send_keys(str(path))
        button(browser, "CSV importieren").click()
        text_appears(browser, f"Lieferschein {note} erfasst: 2 Dokumente.")
    rows = browser.find_elements(By.CSS_SELECTOR, ".csv-output tbody tr")
    cells = [[td.text for td in r.find_elements(By.TAG_NAME, "td")] for r in rows]
    assert cells[0][0] == "1" and cells[0][1] == doc1 and cells[0][3] == "Zugeordnet" and cells[0][4].startswith("Fach ")
    assert cells[1][0] == "2" and cells[1][1] == doc2 and cells[1][3].startswith("Unbekannt") and cells[1][4] == "—"
    assert "Zugeordnet 1" in browser.find_element(By.CSS_SELECTOR, ".csv-output ul.counts").text
    check_page(browser, "delivery-csv-result")
    status, fresh, _ = server.api("GET", f"/api/v1/applications/{app['id']}", session=session)
    assert fresh["state"] == "assigned"


def test_aFileThatIsNotTheDeliveryNoteCsv_isRefusedAtTheFileField(server, browser):
    open_delivery(browser, server)
    link(browser, "CSV-Datei importieren").click()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "falsch.csv"
        path.write_text("name;datum\r\nIrgendwas;2026-01-01\r\n", encoding="utf-8")
        fill(browser, "Lieferscheinnummer", note_number())
        field(browser, "Lieferschein als CSV").send_keys(str(path))
        button(browser, "CSV importieren").click()
        text_appears(browser, "Die Datei ist keine lesbare CSV-Datei.")
    assert field(browser, "Lieferschein als CSV").get_attribute("aria-invalid") == "true"
    text_appears(browser, "Bitte prüfen Sie Ihre Angaben")
