"""The dashboard (#/): today's figures and the things to do as links to exactly the applications
behind them, the demo box, the four charts as accessible SVG images with tables of their numbers, the
capacity forecast in words, figures that follow a delivery and a pickup, and the English version."""

import re
import secrets

import pytest
import string
import uuid

from selenium.webdriver.common.by import By

from support import button, check_page, field, heading, link, login, text_appears, wait, xpath_literal

DOC_ALPHABET = "0123456789CFGHJKLMNPRTVWXYZ"


def open_dashboard(browser, server, username="sachbearbeitung"):
    login(browser, server, username)
    heading(browser, "Übersicht")
    text_appears(browser, "Ausgabebox Foyer", 20)


def card(browser, label, timeout=20):
    """The figure card (a link) whose label reads `label`."""
    lit = xpath_literal(label)
    return wait(browser, lambda d: next((a for a in d.find_elements(By.XPATH, f"//main//a[.//*[normalize-space()={lit}]]") if a.is_displayed()), False),
                timeout, f"no card {label!r}")


def figure(browser, label, timeout=20):
    """The number a card shows, read from the link's visible text ("1.234 Abgeholt" → 1234). The page
    redraws its figures on refresh, so a card found a moment ago may be gone: then it is read again."""
    text = wait(browser, lambda d: card(d, label, timeout).text.strip(), timeout, f"card {label!r} could not be read")
    m = re.match(r"^([\d.,]+)\s", text)
    assert m, f"card {label!r} shows no number: {text!r}"
    return int(re.sub(r"[.,]", "", m.group(1)))


def dashboard_data(server):
    status, data, _ = server.api("GET", "/api/v1/dashboard", session=server.login_api("sachbearbeitung"))
    assert status == 200, data
    return data


# The cards and where each leads: the list of exactly the applications behind the figure. `today` is
# the server's day (Europe/Berlin), taken from the dashboard's answer, never from this machine's clock.
CARDS = {
    "Dokumente geliefert": ("counts", "deliveredToday", "#/search?deliveredOn={today}"),
    "Fächer beladen": ("counts", "loadedToday", "#/search?loadedOn={today}"),
    "Abgeholt": ("counts", "collectedToday", "#/search?collectedOn={today}"),
    "Abholfrist endet heute": ("counts", "expiringToday", "#/search?state=ready_in_box&pickupDeadline={today}"),
    "Kontakt nötig": ("attention", "contactRequired", "#/search?contactRequired=true"),
    "PIN gesperrt": ("attention", "lockedAssignments", "#/search?locked=true"),
    "Aus der Box zu entnehmen": ("attention", "retrievalDue", "#/search?state=retrieval_due"),
    "Störungen an Boxen": ("attention", "faultsLast24Hours", "#/boxes"),
    "SMS nicht zugestellt": ("attention", "smsFailedLast24Hours", "#/search?contactRequired=true"),
    "Warten auf ein Fach": ("attention", "waitingForCompartment", "#/search?state=delivered"),
}


def disclosure(browser, text, timeout=10):
    """The <summary> of a <details> (a toggle a person clicks) whose visible text is `text`."""
    lit = xpath_literal(text)
    return wait(browser, lambda d: next((el for el in d.find_elements(By.XPATH, f"//summary[normalize-space()={lit}]") if el.is_displayed()), False),
                timeout, f"no disclosure {text!r}")


def charts(browser):
    """The accessible names of the charts: every <svg role="img"> in the page."""
    return [el.get_attribute("aria-label") for el in browser.find_elements(By.CSS_SELECTOR, "main svg[role='img']")]


# --- set-up through the API: a site that is always open, its own box, one application ----------------

class OwnBox:
    """A site open around the clock with a four-compartment box and its token, so that a pickup works at
    any hour without touching the demo site's hours (other tests edit them)."""

    def __init__(self, server):
        self.server = server
        self.chef = server.login_api("chef")
        # Letters only: digits in the site name would end up in the SMS beside the PIN.
        suffix = "".join(secrets.choice(string.ascii_uppercase) for _ in range(5))
        status, site, _ = server.api("POST", "/api/v1/sites", {"name": f"Dashboard-Test {suffix}", "address": "Teststraße 1, 44135 Musterstadt", "land": "NW"}, session=self.chef)
        assert status == 201, site
        self.site_id = site["id"]
        hours = [{"weekday": d, "opens": "00:00", "closes": "24:00"} for d in range(1, 8)]
        status, body, _ = server.api("PUT", f"/api/v1/sites/{self.site_id}/hours", {"hours": hours}, session=self.chef)
        assert status == 200, body
        status, box, _ = server.api("POST", "/api/v1/boxes", {"siteId": self.site_id, "name": f"Dashboard-Testbox {suffix}"}, session=self.chef)
        assert status == 201, box
        self.box_id = box["id"]
        status, body, _ = server.api("POST", f"/api/v1/boxes/{self.box_id}/compartments", {"rows": 1, "columns": 4, "rowHeightsCm": [120]}, session=self.chef)
        assert status == 201, body
        status, token, _ = server.api("POST", f"/api/v1/boxes/{self.box_id}/token", session=self.chef)
        assert status == 200, token
        self.auth = {"Authorization": f"Bearer {token['token']}"}

    def box(self, method, path, body):
        status, answer, _ = self.server.api(method, path, body, headers=self.auth)
        assert status in (200, 201), (path, status, answer)
        return answer

    def register(self, mobile):
        status, app, _ = self.server.api("POST", "/api/v1/applications", {
            "siteId": self.site_id, "documentType": "eat", "issuance": "first", "familyName": "Übersicht", "givenNames": "Test",
            "dateOfBirth": "15.05.1985", "mobileNumber": mobile, "pickupMethod": "box", "feeSettled": True}, session=self.chef)
        assert status == 201, app
        return app

    def deliver(self, app):
        document = "L" + "".join(secrets.choice(DOC_ALPHABET) for _ in range(8))
        status, delivery, _ = self.server.api("POST", "/api/v1/deliveries", {
            "deliveryNoteNumber": f"LS-DASH-{secrets.token_hex(4)}", "items": [{"documentNumber": document, "vorgangsnummer": app["vorgangsnummer"]}]}, session=self.chef)
        assert status == 201 and delivery["items"][0]["result"] == "matched", delivery
        return document

    def load(self, document):
        instruction = self.box("POST", "/api/v1/box/loading", {"documentNumber": document})
        self.event("loaded", instruction)
        return instruction

    def event(self, kind, instruction):
        return self.box("POST", "/api/v1/box/events", {"eventId": str(uuid.uuid4()), "kind": kind,
                                                       "compartmentNumber": instruction["compartmentNumber"], "assignmentId": instruction["assignmentId"]})

    def pick_up(self, mobile_e164, pin, instruction):
        session = self.box("POST", "/api/v1/box/pickups", {"mobileNumber": mobile_e164, "pin": pin})
        factors = {}
        if "pin_letter" in session["factors"]:
            factors["pinLetterConfirmed"] = True
        if "date_of_birth" in session["factors"]:
            factors["dateOfBirth"] = "15.05.1985"
        self.box("POST", f"/api/v1/box/pickups/{session['pickupId']}/factors", factors)
        for kind in ("opened", "document_removed"):
            self.event(kind, instruction)
        assert self.event("closed", instruction)["state"] == "collected"


# --- the tests ------------------------------------------------------------------------------------

def test_caseworker_seesTodaysFigures_theThingsToDo_andTheDemoBox(server, browser):
    open_dashboard(browser, server)
    # Every figure is the server's, and every card leads to the list behind it.
    data = dashboard_data(server)
    for label, (group, key, href) in CARDS.items():
        assert figure(browser, label) == data[group][key], label
        assert card(browser, label).get_attribute("href").endswith(href.format(today=data["today"])), label
    # The demo box, linked to its page, with its occupancy in words.
    foyer = next(b for b in data["boxes"] if b["name"] == "Ausgabebox Foyer")
    box_link = browser.find_element(By.XPATH, "//main//a[normalize-space()='Ausgabebox Foyer']")
    assert box_link.get_attribute("href").endswith(f"#/boxes/{foyer['id']}")
    row = box_link.find_element(By.XPATH, "./ancestor::tr")
    assert "Bürgeramt Mitte" in row.text
    assert ("Online" in row.text) != ("Offline" in row.text)
    text_appears(browser, "Stand:")
    check_page(browser, "dashboard")


def test_theFourCharts_areImagesWithNames_andTheirNumbersAreInTables(server, browser):
    open_dashboard(browser, server)
    wait(browser, lambda d: len(charts(d)) >= 4, 20, "the charts did not appear")
    names = charts(browser)
    assert any(n.startswith("Abholungen pro Tag vom ") for n in names), names
    assert any(n.startswith("Tage von der Lieferung bis zur Abholung") for n in names), names
    assert any(n.startswith("Belegte Fächer pro Tag") and "Ausgabebox Foyer" in n for n in names), names
    assert any(n.startswith("Vorhersage für Ausgabebox Foyer") for n in names), names
    for svg in browser.find_elements(By.CSS_SELECTOR, "main svg[role='img']"):
        assert svg.find_element(By.TAG_NAME, "title").get_attribute("textContent") == svg.get_attribute("aria-label")
    # The numbers behind the bar chart: one row per day of the last 30, in German date format.
    disclosure(browser, "Abholungen pro Tag als Tabelle").click()
    table = browser.find_element(By.XPATH, "//table[caption[normalize-space()='Abholungen pro Tag']]")
    rows = wait(browser, lambda d: [r for r in table.find_elements(By.CSS_SELECTOR, "tbody tr") if r.is_displayed()], 10)
    assert len(rows) == 30
    assert re.match(r"^\d\d\.\d\d\.\d{4} \d+$", rows[-1].text), rows[-1].text


def test_theForecast_saysInWords_whenTheDemoBoxRunsFull(server, browser):
    session = server.login_api("sachbearbeitung")
    _, data, _ = server.api("GET", "/api/v1/dashboard", session=session)
    foyer = next(b for b in data["boxes"] if b["name"] == "Ausgabebox Foyer")
    status, forecast, _ = server.api("GET", f"/api/v1/boxes/{foyer['id']}/forecast", session=session)
    assert status == 200, forecast
    if forecast.get("fullOn"):  # absent or null while the box has room
        y, m, d = forecast["fullOn"].split("-")
        expected = f"Ausgabebox Foyer läuft voraussichtlich am {d}.{m}.{y} voll."
    else:
        expected = "Ausgabebox Foyer reicht die nächsten 14 Tage."
    open_dashboard(browser, server)
    text_appears(browser, expected, 20)
    # Without observed pickups the times are the server's assumptions, and the page says so.
    text_appears(browser, "Grundlage:" if forecast["basis"]["observedPickups"] else "Annahme:")


def test_aBoxWithoutCompartments_saysSo_insteadOfAForecast(server, browser):
    chef = server.login_api("chef")
    suffix = "".join(secrets.choice(string.ascii_uppercase) for _ in range(5))
    status, site, _ = server.api("POST", "/api/v1/sites", {"name": f"Leer-Test {suffix}", "address": "Teststraße 2, 44135 Musterstadt", "land": "NW"}, session=chef)
    assert status == 201, site
    name = f"Leere Box {suffix}"
    status, box, _ = server.api("POST", "/api/v1/boxes", {"siteId": site["id"], "name": name}, session=chef)
    assert status == 201, box
    open_dashboard(browser, server)
    text_appears(browser, f"{name} hat noch keine Fächer.", 20)
    block = browser.find_element(By.XPATH, f"//div[contains(@class, 'dash-forecast')][h3[normalize-space()='{name}']]")
    assert not block.find_elements(By.TAG_NAME, "svg") and "voll" not in block.text and "reicht" not in block.text


def test_theContactRequiredCard_leadsToTheFilteredSearch(server, browser):
    open_dashboard(browser, server)
    card(browser, "Kontakt nötig").click()
    wait(browser, lambda d: d.current_url.endswith("#/search?contactRequired=true"), 10, "the card did not lead to the search")
    heading(browser, "Anträge suchen")
    assert field(browser, "Kontakt nötig").get_attribute("value") == "true"


def grouped(vorgangsnummer):
    v = vorgangsnummer
    return f"{v[0:3]}-{v[3:6]}-{v[6:9]}-{v[9:]}"


def test_aDeliveryAndAPickup_raiseTodaysFigures_andTheCardsListTheApplication(server, gateway, browser):
    own = OwnBox(server)
    digits = "15170" + str(secrets.randbelow(10**6)).zfill(6)
    mobile, mobile_e164 = "0" + digits, "+49" + digits
    app = own.register(mobile)
    open_dashboard(browser, server)
    today = dashboard_data(server)["today"]
    delivered, loaded, collected = figure(browser, "Dokumente geliefert"), figure(browser, "Fächer beladen"), figure(browser, "Abgeholt")

    document = own.deliver(app)
    # The button updates the figures in place.
    button(browser, "Zahlen jetzt aktualisieren").click()
    wait(browser, lambda d: figure(d, "Dokumente geliefert") == delivered + 1, 20, "the delivery was not counted")
    # … and tells screen readers so.
    wait(browser, lambda d: any("Die Zahlen sind aktualisiert" in el.get_attribute("textContent") for el in d.find_elements(By.CSS_SELECTOR, "main [role='status']")),
         10, "the refresh was not announced")
    assert figure(browser, "Abgeholt") == collected

    sent = len(gateway.messages)
    instruction = own.load(document)
    pin = gateway.pin_for(mobile_e164, after=sent)
    own.pick_up(mobile_e164, pin, instruction)
    browser.refresh()
    heading(browser, "Übersicht")
    if dashboard_data(server)["today"] != today:
        pytest.skip("the server's day changed during the test: today's figures started again")
    wait(browser, lambda d: figure(d, "Abgeholt") == collected + 1, 20, "the pickup was not counted")
    assert figure(browser, "Fächer beladen") == loaded + 1
    assert figure(browser, "Dokumente geliefert") == delivered + 1
    # The new box is listed too, with its four compartments free again.
    row = browser.find_element(By.XPATH, "//main//a[starts-with(normalize-space(), 'Dashboard-Testbox')]/ancestor::tr")
    assert re.search(r"\b0\s+4\s+0\b", row.text), row.text

    # Each card leads to the applications behind its figure: this one was delivered, loaded and collected today.
    for label, filter_label in [("Dokumente geliefert", "Geliefert am"), ("Fächer beladen", "Beladen am"), ("Abgeholt", "Abgeholt am")]:
        browser.get(server.url + "/#/")
        heading(browser, "Übersicht")
        card(browser, label).click()
        heading(browser, "Anträge suchen")
        link(browser, grouped(app["vorgangsnummer"]), timeout=20)
        assert field(browser, filter_label).get_attribute("value") == today


def test_theEnglishVersion_hasEnglishLabels(server, browser):
    open_dashboard(browser, server)
    button(browser, "English").click()
    heading(browser, "Dashboard")
    data = dashboard_data(server)
    for label, (group, key) in {"Documents delivered": ("counts", "deliveredToday"), "Collected": ("counts", "collectedToday"),
                                "Contact required": ("attention", "contactRequired"), "To be taken out of the box": ("attention", "retrievalDue")}.items():
        assert figure(browser, label) == data[group][key], label
    text_appears(browser, "Pickups per day")
    text_appears(browser, "Capacity for the next 14 days")
    assert re.search(r"Ausgabebox Foyer (is expected to be full on \d{1,2} \w{3,4} \d{4}|has enough room for the next 14 days)\.", browser.find_element(By.TAG_NAME, "main").text)
    wait(browser, lambda d: any(n.startswith("Pickups per day from ") for n in charts(d)), 10, "no English chart name")
    check_page(browser, "dashboard-en")


def test_aCompartmentLockedAfterWrongPins_isOnThePinCard_andItsNewPinButtonSaysItUnlocks(server, gateway, browser):
    own = OwnBox(server)
    digits = "15170" + str(secrets.randbelow(10**6)).zfill(6)
    mobile, mobile_e164 = "0" + digits, "+49" + digits
    app = own.register(mobile)
    sent = len(gateway.messages)
    own.load(own.deliver(app))
    pin = gateway.pin_for(mobile_e164, after=sent)
    wrong = str((int(pin) + 1) % 10**6).zfill(6)
    # Five wrong PINs for the number lock its compartment (the server's default limit).
    for _ in range(5):
        status, body, _ = server.api("POST", "/api/v1/box/pickups", {"mobileNumber": mobile_e164, "pin": wrong}, headers=own.auth)
        assert status >= 400, body

    open_dashboard(browser, server)
    card(browser, "PIN gesperrt").click()
    heading(browser, "Anträge suchen")
    link(browser, grouped(app["vorgangsnummer"]), timeout=20).click()
    heading(browser, f"Antrag {grouped(app['vorgangsnummer'])}")
    # Locked: the button says that the new PIN unlocks the compartment, and it does.
    button(browser, "Neue PIN senden (Fach wird entsperrt)").click()
    text_appears(browser, "Eine neue PIN ist per SMS unterwegs. Das Fach ist entsperrt")
    button(browser, "Neue PIN senden")
    assert not browser.find_elements(By.XPATH, "//button[contains(., 'Fach wird entsperrt')]")
