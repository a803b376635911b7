"""Search and the application detail page: finding an application by Vorgangsnummer and by name, a
filtered deep link, the timeline, and the actions a state allows (handover at the counter to a proxy,
cancelling with a reason, a new PIN, releasing and assigning a compartment, moving to the counter,
clearing "contact required", changing contact data). Every application is created here through the
API, so the tests do not depend on the demo data or on other tests."""

import secrets
import uuid

from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from support import button, check_page, console_errors, field, fill, heading, link, login, text_appears, wait

# Document numbers: nine characters, the first a letter (as DocumentNumber in the Domain).
DOC_ALPHABET = "0123456789CFGHJKLMNPRTVWXYZ"


def icao_check_digit(text):
    """The ICAO 9303 check digit (part 3, §4.9): 0–9 as such, A=10 … Z=35, '<'=0; weights 7, 3, 1."""
    total = 0
    for i, ch in enumerate(text):
        value = int(ch) if ch.isdigit() else 0 if ch == "<" else ord(ch) - ord("A") + 10
        total += value * (7, 3, 1)[i % 3]
    return str(total % 10)


def document_number():
    """A fresh document number with its check digit, as in the machine-readable zone (10 characters)."""
    number = "L" + "".join(secrets.choice(DOC_ALPHABET) for _ in range(8))
    return number + icao_check_digit(number)


def grouped(vorgangsnummer):
    """A generated Vorgangsnummer as people read it: K7M-4XQ-9TR-C."""
    v = vorgangsnummer
    return f"{v[0:3]}-{v[3:6]}-{v[6:9]}-{v[9:]}"


def mobile():
    """A fictitious German mobile number, different for every application (E.164)."""
    return "+49151" + "".join(secrets.choice("0123456789") for _ in range(8))


class Setup:
    """Applications in the states the tests need, made through the API of the demo authority."""

    def __init__(self, server):
        self.server = server
        self.session = server.login_api("sachbearbeitung")
        status, sites, _ = server.api("GET", "/api/v1/sites", session=self.session)
        assert status == 200 and sites, sites
        # The demo site holds the demo box; other tests' sites are named differently.
        self.site_id = next((s["id"] for s in sites if s["name"] == "Bürgeramt Mitte"), sites[0]["id"])

    def register(self, **fields):
        body = {"siteId": self.site_id, "documentType": "eat", "issuance": "first", "familyName": f"Probe{secrets.token_hex(4)}",
                "givenNames": "Paula Maria", "dateOfBirth": "00.00.1985", "pickupMethod": "box", "mobileNumber": mobile(), "feeSettled": True}
        body.update(fields)
        status, app, _ = self.server.api("POST", "/api/v1/applications", body, session=self.session)
        assert status == 201, app
        return app

    def deliver(self, app):
        # Sanity check of the helper: ICAO 9303 part 3's specimen L898902C3 has check digit 6.
        assert icao_check_digit("L898902C3") == "6"
        document = document_number()
        status, delivery, _ = self.server.api("POST", "/api/v1/deliveries", {
            "deliveryNoteNumber": f"LS-SUCHE-{uuid.uuid4().hex[:12]}",
            "items": [{"documentNumber": document, "vorgangsnummer": app["vorgangsnummer"]}]}, session=self.session)
        assert status == 201 and delivery["items"][0]["result"] == "matched", delivery
        return document

    def load_into_box(self, document):
        """The demo box's service mode: scan the document, close the door → ready_in_box with a PIN SMS."""
        assert self.server.box_token, "the demo server printed no box token"
        auth = {"Authorization": f"Bearer {self.server.box_token}"}
        status, instruction, _ = self.server.api("POST", "/api/v1/box/loading", {"documentNumber": document}, headers=auth)
        assert status == 200, instruction
        status, result, _ = self.server.api("POST", "/api/v1/box/events", {
            "eventId": str(uuid.uuid4()), "kind": "loaded", "compartmentNumber": instruction["compartmentNumber"],
            "assignmentId": instruction["assignmentId"]}, headers=auth)
        assert status == 200 and result["state"] == "ready_in_box", result

    def get(self, app):
        status, current, _ = self.server.api("GET", f"/api/v1/applications/{app['id']}", session=self.session)
        assert status == 200, current
        return current


def sign_in(browser, server):
    login(browser, server, "sachbearbeitung")
    # Whatever the dashboard logged is the dashboard's business; the checks below are about these pages.
    console_errors(browser)


def open_detail(browser, server, app):
    browser.get(f"{server.url}/#/applications/{app['id']}")
    heading(browser, f"Antrag {grouped(app['vorgangsnummer'])}")


def section_text(browser, title):
    return browser.find_element(By.XPATH, f"//section[h2[normalize-space()='{title}']]").text


def state_badge(browser):
    """The state shown under the heading (None while the page is being redrawn)."""
    try:
        return browser.find_element(By.CSS_SELECTOR, ".detail-subtitle .badge").text
    except (NoSuchElementException, StaleElementReferenceException):
        return None


def field_error(browser, label):
    """The error text shown at the field with this label ('' when there is none)."""
    el = field(browser, label)
    wrap = el.find_element(By.XPATH, "./ancestor::div[contains(concat(' ', @class, ' '), ' field ')][1]")
    errors = [e.text for e in wrap.find_elements(By.CSS_SELECTOR, ".field-error") if e.is_displayed()]
    return " ".join(errors)


def test_anApplication_isFound_byVorgangsnummerAndByName_andItsDetailShowsTheRegistration(server, browser):
    setup = Setup(server)
    family = f"Suchprobe{secrets.token_hex(3)}"
    app = setup.register(familyName=family, givenNames="Lena")
    sign_in(browser, server)
    link(browser, "Suche").click()
    heading(browser, "Anträge suchen")

    fill(browser, "Vorgangsnummer", app["vorgangsnummer"].lower())
    button(browser, "Suchen").click()
    text_appears(browser, "Treffer 1–1 von 1")
    assert f"vorgangsnummer={app['vorgangsnummer'].lower()}" in browser.current_url
    link(browser, grouped(app["vorgangsnummer"]))
    text_appears(browser, f"{family}, Lena")

    fill(browser, "Vorgangsnummer", "")
    fill(browser, "Familienname", family.lower()[:-1])
    button(browser, "Suchen").click()
    text_appears(browser, "Treffer 1–1 von 1")
    row = browser.find_element(By.XPATH, f"//tbody/tr[td[contains(., '{family}')]]")
    assert "Erfasst" in row.text and "Abholbox" in row.text and "Elektronischer Aufenthaltstitel (eAT)" in row.text
    check_page(browser, "search")

    # The back button returns to the search by number, its field filled from the address.
    browser.back()
    text_appears(browser, "Treffer 1–1 von 1")
    wait(browser, lambda d: field(d, "Vorgangsnummer").get_attribute("value") == app["vorgangsnummer"].lower())

    link(browser, grouped(app["vorgangsnummer"])).click()
    heading(browser, f"Antrag {grouped(app['vorgangsnummer'])}")
    text_appears(browser, "00.00.1985")
    assert state_badge(browser) == "Erfasst"
    timeline = section_text(browser, "Verlauf")
    assert "Antrag erfasst" in timeline and "Beschäftigte" in timeline and "Abholung: Abholbox" in timeline
    data = section_text(browser, "Antragsdaten")
    # The number grouped for reading it back (when the server groups it).
    assert app.get("mobileNumberDisplay", app["mobileNumber"]) in data and "Bürgeramt Mitte" in data and "Deutsch" in data


def test_aSearchWithNoMatch_saysSo_andAWrongDateRangeIsShownAtTheField(server, browser):
    sign_in(browser, server)
    browser.get(f"{server.url}/#/search?name=Niemand{secrets.token_hex(4)}")
    text_appears(browser, "Keine Anträge gefunden.")
    assert not browser.find_elements(By.CSS_SELECTOR, "table.search-table")
    # "until" before "from": refused before asking the server, at the field and in the summary.
    browser.get(f"{server.url}/#/search?createdFrom=2026-03-10&createdTo=2026-03-01")
    text_appears(browser, "„Erfasst bis“ darf nicht vor „Erfasst ab“ liegen.")
    assert "nicht vor" in field_error(browser, "Erfasst bis")
    assert not console_errors(browser)


def test_aDocumentAtTheCounter_isHandedOverToAProxy_onlyOnceTheIdentityIsChecked(server, browser):
    setup = Setup(server)
    app = setup.register(pickupMethod="counter", feeSettled=False)
    setup.deliver(app)
    assert setup.get(app)["state"] == "ready_at_counter"
    sign_in(browser, server)
    open_detail(browser, server, app)
    heading(browser, "Übergabe am Schalter")
    assert state_badge(browser) == "Abholbereit am Schalter"
    # Only a renewal collects the old document; the fee is open, so it is asked for.
    assert not browser.find_elements(By.XPATH, "//label[normalize-space()='Altes Dokument eingezogen']")
    check_page(browser, "detail")

    field(browser, "bevollmächtigte Person").click()
    fill(browser, "Name der bevollmächtigten Person", "Karl Vollmacht")
    field(browser, "Vollmacht geprüft").click()
    field(browser, "Gebühr bezahlt").click()
    button(browser, "Übergabe bestätigen").click()
    text_appears(browser, "Bitte prüfen Sie Ihre Angaben")
    assert "Identität der abholenden Person" in field_error(browser, "Identität geprüft")
    assert field(browser, "Identität geprüft").get_attribute("aria-invalid") == "true"
    assert setup.get(app)["state"] == "ready_at_counter"

    field(browser, "Identität geprüft").click()
    button(browser, "Übergabe bestätigen").click()
    text_appears(browser, "Das Dokument ist übergeben.")
    wait(browser, lambda d: state_badge(d) == "Abgeholt")
    timeline = section_text(browser, "Verlauf")
    assert "Am Schalter übergeben" in timeline and "an eine bevollmächtigte Person" in timeline
    assert "Gebühr bei der Übergabe bezahlt" in timeline
    assert "Bevollmächtigte Person: Karl Vollmacht" in section_text(browser, "Abholung")
    assert not browser.find_elements(By.XPATH, "//h2[normalize-space()='Übergabe am Schalter']")
    current = setup.get(app)
    assert current["state"] == "collected" and current["fee"]["settled"] is True
    assert current["handover"] == {"recipient": "proxy", "proxyName": "Karl Vollmacht"}
    assert not console_errors(browser)


def test_anApplication_isCancelled_onlyWithAReason(server, browser):
    setup = Setup(server)
    app = setup.register()
    sign_in(browser, server)
    open_detail(browser, server, app)
    button(browser, "Antrag stornieren").click()
    button(browser, "Stornierung bestätigen").click()
    text_appears(browser, "Bitte geben Sie den Grund der Stornierung ein.")
    assert setup.get(app)["state"] == "registered"

    fill(browser, "Grund der Stornierung", "Antrag zurückgenommen (Test)")
    button(browser, "Stornierung bestätigen").click()
    text_appears(browser, "Der Antrag ist storniert.")
    wait(browser, lambda d: state_badge(d) == "Storniert")
    assert "Antrag zurückgenommen (Test)" in section_text(browser, "Abholung")
    assert "Antrag storniert" in section_text(browser, "Verlauf")
    text_appears(browser, "Es sind keine Aktionen mehr möglich.")
    assert not browser.find_elements(By.XPATH, "//button[normalize-space()='Antrag stornieren']")
    current = setup.get(app)
    assert current["state"] == "cancelled" and current["cancelReason"] == "Antrag zurückgenommen (Test)"


def test_aDeepLinkToAState_listsOnlyThatState_andANewPinGoesOutBySms_untilTheServerSaysNo(server, gateway, browser):
    setup = Setup(server)
    app = setup.register()
    setup.load_into_box(setup.deliver(app))
    # The "ready" SMS with the first PIN.
    gateway.wait_for(lambda m: m["to"] == app["mobileNumber"])
    sign_in(browser, server)
    browser.get(f"{server.url}/#/search?state=ready_in_box")
    heading(browser, "Anträge suchen")
    text_appears(browser, "Treffer 1–")
    assert field(browser, "Status").get_attribute("value") == "ready_in_box"
    states = [b.text for b in browser.find_elements(By.CSS_SELECTOR, "table.search-table tbody .badge")]
    assert states and set(states) == {"Abholbereit in der Box"}, states
    link(browser, grouped(app["vorgangsnummer"])).click()

    heading(browser, f"Antrag {grouped(app['vorgangsnummer'])}")
    assert "Fach beladen" in section_text(browser, "Verlauf")
    sent_before = len([m for m in gateway.messages if m["to"] == app["mobileNumber"]])
    # The compartment is not locked: the button promises no unlocking.
    assert not browser.find_elements(By.XPATH, "//button[contains(., 'Fach wird entsperrt')]")
    button(browser, "Neue PIN senden").click()
    text_appears(browser, "Eine neue PIN ist per SMS unterwegs.")
    wait(browser, lambda d: len([m for m in gateway.messages if m["to"] == app["mobileNumber"]]) > sent_before, 20, "no second SMS")
    assert "Neue PIN verschickt, Fach entsperrt" in section_text(browser, "Verlauf")
    assert "Neue PIN" in section_text(browser, "SMS")
    # The SMS history never shows the whole number.
    assert app["mobileNumber"] not in section_text(browser, "SMS")
    # How many a day is the server's rule: once it says no (429), the page says so in its words.
    for _ in range(10):
        status, body, _ = server.api("POST", f"/api/v1/applications/{app['id']}/pin", session=setup.session)
        if status == 429:
            break
        assert status == 200, body
    assert status == 429, "the server never refused a new PIN"
    browser.refresh()
    heading(browser, f"Antrag {grouped(app['vorgangsnummer'])}")
    button(browser, "Neue PIN senden").click()
    text_appears(browser, "Für diesen Antrag gibt es heute keine weitere neue PIN.")
    assert not [e for e in console_errors(browser) if "429" not in e["message"]]


def test_aCompartment_isReleasedAndAssignedAgain_andTheApplicationMovesToTheCounter(server, browser):
    setup = Setup(server)
    app = setup.register()
    setup.deliver(app)
    assert setup.get(app)["state"] == "assigned"
    sign_in(browser, server)
    open_detail(browser, server, app)
    # Giving the compartment back asks first; "Abbrechen" keeps the assignment.
    button(browser, "Zuweisung aufheben").click()
    text_appears(browser, "Zuweisung von Fach ")
    button(browser, "Abbrechen").click()
    assert setup.get(app)["assignment"]["status"] == "assigned"
    assert browser.switch_to.active_element.text == "Zuweisung aufheben"
    button(browser, "Zuweisung aufheben").click()
    button(browser, "Ja, Zuweisung aufheben").click()
    text_appears(browser, "Die Zuweisung ist aufgehoben.")
    wait(browser, lambda d: state_badge(d) == "Geliefert")
    assert setup.get(app).get("assignment") is None
    assert "Zuweisung aufgehoben" in section_text(browser, "Verlauf")

    button(browser, "Fach zuweisen").click()
    text_appears(browser, "Zugewiesen: Ausgabebox Foyer, Fach")
    wait(browser, lambda d: state_badge(d) == "Fach zugewiesen")
    assert setup.get(app)["assignment"]["status"] == "assigned"

    button(browser, "Zuweisung aufheben").click()
    button(browser, "Ja, Zuweisung aufheben").click()
    wait(browser, lambda d: state_badge(d) == "Geliefert")
    button(browser, "Auf Abholung am Schalter umstellen").click()
    text_appears(browser, "Der Antrag wird jetzt am Schalter abgeholt.")
    wait(browser, lambda d: state_badge(d) == "Abholbereit am Schalter")
    heading(browser, "Übergabe am Schalter")
    assert setup.get(app)["pickupMethod"] == "counter"
    assert not console_errors(browser)


def test_contactRequired_isCleared_andContactDataAreChanged(server, browser):
    setup = Setup(server)
    app = setup.register(feeSettled=False)
    status, body, _ = server.api("PATCH", f"/api/v1/applications/{app['id']}", {"contactRequired": True}, session=setup.session)
    assert status == 200, body
    sign_in(browser, server)
    open_detail(browser, server, app)
    text_appears(browser, "Kontakt nötig: Die SMS an die antragstellende Person ist fehlgeschlagen.")
    button(browser, "Kontakt ist erfolgt – Hinweis entfernen").click()
    text_appears(browser, "Der Hinweis „Kontakt nötig“ ist entfernt.")
    assert setup.get(app)["contactRequired"] is False
    assert not browser.find_elements(By.CSS_SELECTOR, ".detail-contact")

    # Cancelling the panel returns the focus to the button that opened it.
    button(browser, "Kontaktdaten ändern").click()
    button(browser, "Abbrechen").click()
    assert browser.switch_to.active_element == button(browser, "Kontaktdaten ändern")
    button(browser, "Kontaktdaten ändern").click()
    fill(browser, "Mobilnummer", "0171 5550123")
    # The same languages as at the registration, named in German and in their own language.
    Select(field(browser, "SMS-Sprache")).select_by_visible_text("Englisch (English)")
    field(browser, "Gebühr bezahlt").click()
    button(browser, "Änderungen speichern").click()
    text_appears(browser, "Die Änderungen sind gespeichert.")
    current = setup.get(app)
    assert current["mobileNumber"] == "+491715550123" and current["smsLanguage"] == "en" and current["fee"]["settled"] is True
    assert current.get("mobileNumberDisplay", "+491715550123") in section_text(browser, "Antragsdaten")
    assert "Geändert: Mobilnummer, SMS-Sprache, Gebühr bezahlt" in section_text(browser, "Verlauf")
    assert not console_errors(browser)


def test_theDashboardsDayFilters_listTheirApplications_andTheFormKeepsAndSendsThem(server, browser):
    setup = Setup(server)
    app = setup.register()
    setup.deliver(app)
    # "Today" is the server's (Europe/Berlin), as on the dashboard – not this machine's clock.
    status, dashboard, _ = server.api("GET", "/api/v1/dashboard", session=setup.session)
    assert status == 200, dashboard
    today = dashboard["today"]
    sign_in(browser, server)
    browser.get(f"{server.url}/#/search?deliveredOn={today}&locked=false")
    heading(browser, "Anträge suchen")
    text_appears(browser, "Treffer 1–")
    link(browser, grouped(app["vorgangsnummer"]))
    assert field(browser, "Geliefert am").get_attribute("value") == today
    assert Select(field(browser, "PIN gesperrt (nach Fehlversuchen)")).first_selected_option.text == "Nein"
    # Searching again sends what the fields hold.
    field(browser, "Familienname").send_keys(app["familyName"])
    button(browser, "Suchen").click()
    text_appears(browser, "Treffer 1–1 von 1")
    assert f"deliveredOn={today}" in browser.current_url and "locked=false" in browser.current_url
    check_page(browser, "search-filters")
    # Not delivered that day: not listed.
    browser.get(f"{server.url}/#/search?deliveredOn=2000-01-01&name={app['familyName']}")
    text_appears(browser, "Keine Anträge gefunden.")
    # A day that does not exist is refused at its field before asking.
    browser.get(f"{server.url}/#/search?loadedOn=2026-02-31")
    text_appears(browser, "Bitte geben Sie ein Datum ein")
    assert field(browser, "Beladen am").get_attribute("aria-invalid") == "true"


def test_aCompartment_isChosenByBoxAndNumber_andAnOccupiedOneIsRefusedAtTheField(server, browser):
    setup = Setup(server)
    app = setup.register()
    setup.deliver(app)
    current = setup.get(app)
    assert current["state"] == "assigned"
    box_id = current["assignment"]["boxId"]
    status, box, _ = server.api("GET", f"/api/v1/boxes/{box_id}", session=setup.session)
    assert status == 200
    occupied = current["assignment"]["compartmentNumber"]
    free = next(c["number"] for c in box["compartments"] if c["state"] == "available" and not c["accessible"])
    sign_in(browser, server)
    open_detail(browser, server, app)
    # The page draws its timeline and SMS history after the heading: wait for them before opening a panel.
    wait(browser, lambda d: "Antrag erfasst" in section_text(d, "Verlauf"))
    button(browser, "Bestimmtes Fach wählen").click()
    field(browser, "Fachnummer")
    assert field(browser, "Box").get_attribute("value").lower() == box_id.lower()
    # The application's own compartment is not free: refused at the number, nothing changes.
    fill(browser, "Fachnummer", str(next(c["number"] for c in box["compartments"] if c["state"] == "occupied" and c["number"] != occupied)))
    button(browser, "Dieses Fach zuweisen").click()
    wait(browser, lambda d: "nicht frei" in field_error(d, "Fachnummer"))
    assert setup.get(app)["assignment"]["compartmentNumber"] == occupied
    fill(browser, "Fachnummer", str(free))
    button(browser, "Dieses Fach zuweisen").click()
    text_appears(browser, f"Fach {free}")
    wait(browser, lambda d: setup.get(app)["assignment"]["compartmentNumber"] == free)
    # The refused choice above is the one expected failed request.
    check_page(browser, "detail-choose-compartment", allow_console=("status of 409",))
