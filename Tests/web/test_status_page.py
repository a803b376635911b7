"""The applicant's status page (/status), as a phone that scanned the letter's QR code sees it: every
state of an application (before delivery, in the box, collected, unknown), the typing aid and its
typo check, German, English and Leichte Sprache, without JavaScript, and the friendly rate limit."""

import random
import secrets
import urllib.parse
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC

from support import SCREENSHOTS, Server, button, check_page, field, fill, heading, link, make_browser, text_appears, wait

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXY"
MARK = "\u2011"  # the group mark status.js writes (a non-breaking hyphen)
NOT_READY = "Ihr Dokument ist noch nicht fertig."
IN_BOX = "Ihr Dokument liegt in der Abholbox."
COLLECTED = "Ihr Dokument wurde abgeholt."
UNKNOWN = "Zu dieser Nummer haben wir keine Auskunft."
TYPO = "Diese Nummer enthält einen Tippfehler: Das letzte Zeichen passt nicht zu den anderen."


# --- numbers ----------------------------------------------------------------------------------------

def vorgangsnummer_check(payload):
    """The check symbol for nine symbols: Σ i·vᵢ ≡ 0 (mod 29) over all ten (Vorgangsnummer.swift)."""
    total = sum((i + 1) * ALPHABET.index(c) for i, c in enumerate(payload))
    return ALPHABET[(29 - total % 29) % 29 * 3 % 29]


def fresh_vorgangsnummer():
    """A valid generated number that no application has (43.7 random bits)."""
    payload = "".join(random.choice(ALPHABET) for _ in range(9))
    return payload + vorgangsnummer_check(payload)


def grouped(number):
    return f"{number[0:3]}-{number[3:6]}-{number[6:9]}-{number[9:]}"


def icao_check_digit(text):
    """ICAO 9303 7-3-1 check digit (DocumentNumber.swift): 0–9, A=10 … Z=35, weights 7, 3, 1."""
    values = [int(c) if c.isdigit() else ord(c) - 55 for c in text]
    return sum(v * (7, 3, 1)[i % 3] for i, v in enumerate(values)) % 10


def document_number(n=None):
    """A document serial with its check digit, like the Swift tests' documentNumber(_:) but random
    (the server is shared by the whole run)."""
    n = random.randrange(10**8) if n is None else n
    serial = "L" + f"{n:08d}"
    return serial + str(icao_check_digit(serial))


# --- set-up through the API -------------------------------------------------------------------------

def ok(reply, *statuses):
    status, body, _ = reply
    assert status in (statuses or (200, 201)), f"HTTP {status}: {body}"
    return body


class Place:
    """A site of our own, open around the clock (pickups must not depend on when the tests run),
    with a box, a box token, and a closed day in the coming week."""

    def __init__(self, server):
        self.server = server
        self.staff = server.login_api("chef")
        tag = secrets.token_hex(3)
        self.name = f"Servicestelle Nord {tag}"
        self.address = "Nordstraße 5, 44137 Musterstadt"
        site = ok(self.call("POST", "/api/v1/sites", {"name": self.name, "address": self.address, "land": "NW"}))
        self.site_id = site["id"]
        ok(self.call("PUT", f"/api/v1/sites/{self.site_id}/hours",
                     {"hours": [{"weekday": d, "opens": "00:00", "closes": "24:00"} for d in range(1, 8)]}))
        self.closed_day = datetime.now(ZoneInfo("Europe/Berlin")).date() + timedelta(days=3)
        ok(self.call("POST", f"/api/v1/sites/{self.site_id}/exceptions",
                     {"day": self.closed_day.isoformat(), "closed": True, "note": "Betriebsausflug"}))
        ok(self.call("PUT", f"/api/v1/sites/{self.site_id}/pickup-settings",
                     {"pinLetter": True, "secondFactor": "date_of_birth_or_can", "oldDocument": True, "fourEyesLoading": False}))
        box = ok(self.call("POST", "/api/v1/boxes", {"siteId": self.site_id, "name": f"Statusbox {tag}"}))
        ok(self.call("POST", f"/api/v1/boxes/{box['id']}/compartments", {"rows": 2, "columns": 3, "rowHeightsCm": [120, 60]}))
        self.token = ok(self.call("POST", f"/api/v1/boxes/{box['id']}/token"))["token"]

    def call(self, method, path, body=None):
        return self.server.api(method, path, body, session=self.staff)

    def box(self, path, body):
        return self.server.api("POST", path, body, headers={"Authorization": f"Bearer {self.token}"})

    def register(self, pickup_method="box"):
        """An application with a fresh mobile number: (vorgangsnummer, E.164 number)."""
        mobile = "0171 " + "".join(random.choice("0123456789") for _ in range(7))
        body = ok(self.call("POST", "/api/v1/applications", {
            "siteId": self.site_id, "documentType": "eat", "issuance": "first", "familyName": "Yılmaz", "givenNames": "Ayşe",
            "dateOfBirth": "15.03.1990", "mobileNumber": mobile, "pickupMethod": pickup_method, "feeSettled": True}))
        return body["vorgangsnummer"], body["mobileNumber"]

    def deliver(self, vorgangsnummer):
        """Delivered by the Bundesdruckerei: a box pickup gets a compartment, a counter pickup is ready."""
        document = document_number()
        delivery = ok(self.call("POST", "/api/v1/deliveries", {"deliveryNoteNumber": f"LS-{secrets.token_hex(4)}",
                                                               "items": [{"documentNumber": document, "vorgangsnummer": vorgangsnummer}]}))
        assert delivery["items"][0]["result"] == "matched", delivery
        return document

    def deliver_and_load(self, vorgangsnummer):
        """Delivered and put into the box: the application is ready_in_box."""
        document = self.deliver(vorgangsnummer)
        loading = ok(self.box("/api/v1/box/loading", {"documentNumber": document}), 200)
        compartment = loading["compartmentNumber"]
        self.event("loaded", compartment)
        return compartment

    def event(self, kind, compartment):
        ok(self.box("/api/v1/box/events", {"eventId": f"status-{secrets.token_hex(6)}", "kind": kind, "compartmentNumber": compartment}), 200)

    def pick_up(self, mobile, pin):
        """The applicant at the panel (as BoxSimulator does it): mobile number, PIN, factors, doors."""
        session = ok(self.box("/api/v1/box/pickups", {"mobileNumber": mobile, "pin": pin}), 201)
        answers = {"pin_letter": ("pinLetterConfirmed", True), "date_of_birth": ("dateOfBirth", "15.03.1990")}
        factors = dict(answers[f] for f in session["factors"])
        opened = ok(self.box(f"/api/v1/box/pickups/{session['pickupId']}/factors", factors), 200)
        for compartment in opened["compartmentNumbers"]:
            for kind in ("opened", "document_removed", "closed"):
                self.event(kind, compartment)


@pytest.fixture(scope="module")
def place(server):
    return Place(server)


def make_phone(width=390, **options):
    """Chromium as a phone: headless windows are at least 500 px wide, so the viewport is emulated
    (`width` CSS pixels, touch, the page's viewport meta honoured); the height follows the window."""
    driver = make_browser(width=500, height=844, **options)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": 0, "deviceScaleFactor": 1, "mobile": True})
    return driver


@pytest.fixture
def phone():
    driver = make_phone()
    yield driver
    driver.quit()


def check_status_page(browser, name, allow_console=()):
    """check_page with the status page's weight limit, then the screenshot again, whole and from the
    top: axe scrolls while it checks contrast, and the window's own chrome takes some of its height."""
    check_page(browser, name, max_bytes=50_000, allow_console=allow_console)
    for _ in range(3):
        missing = browser.execute_script("return document.body.getBoundingClientRect().height - window.innerHeight")
        if missing <= 0:
            break
        browser.set_window_size(500, min(browser.get_window_size()["height"] + int(missing) + 1, 8000))
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def leaves_page(browser, action):
    """Does `action` (a click or key that loads another page) and waits until the old page is gone,
    so that looking for text does not catch the page in between."""
    old = browser.find_element(By.TAG_NAME, "html")
    action()

    def gone(_):
        # Chromium reports a replaced document either as a stale element or as a node "not in the document".
        try:
            old.is_enabled()
            return False
        except (StaleElementReferenceException, WebDriverException):
            return True
    wait(browser, gone, 15, "the page stayed")


def status_url(server, number, **query):
    return server.url + "/status?" + urllib.parse.urlencode({"vn": number, **query})


def result_heading(browser):
    return browser.find_element(By.ID, "result-heading").text


def assert_private_and_strict(server, browser, number):
    """No cookies in the browser; the page's headers forbid inline code and caching."""
    assert browser.get_cookies() == []
    status, _, headers = server.api("GET", "/status?vn=" + number)
    assert status == 200
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in headers


# --- the states -------------------------------------------------------------------------------------

def test_beforeDelivery_thePageSaysTheDocumentIsNotReadyYet(server, place, phone):
    number, _ = place.register()
    phone.get(status_url(server, number))
    heading(phone, "Ist mein Dokument abholbereit?")
    assert NOT_READY in result_heading(phone)
    text_appears(phone, "Sie müssen jetzt nichts tun.")
    text_appears(phone, "Vorgangsnummer " + grouped(number))
    # The state is in the box's class (its colour) and in words.
    assert "result-in_production" in phone.find_element(By.CSS_SELECTOR, "section.result").get_attribute("class")
    assert place.name not in phone.find_element(By.TAG_NAME, "body").text
    check_status_page(phone, "status-in-production")
    assert_private_and_strict(server, phone, number)
    # Printed, the page is the result alone.
    phone.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    shown = phone.execute_script("return ['.status-header', 'h1', 'form.lookup', '.status-footer', 'section.result']"
                                 ".map((s) => getComputedStyle(document.querySelector(s)).display)")
    assert shown[:4] == ["none"] * 4 and shown[4] == "block", shown


def test_afterLoading_thePageShowsTheBox_theDeadline_theHoursWithToday_andWhatToBring(server, place, phone):
    number, _ = place.register()
    place.deliver_and_load(number)
    phone.get(status_url(server, number))
    text_appears(phone, IN_BOX)
    body = phone.find_element(By.TAG_NAME, "body").text
    assert place.name in body and place.address in body
    text_appears(phone, "Abholen bis")
    text_appears(phone, "Danach bringen wir das Dokument an den Schalter.")
    deadline = phone.find_element(By.CSS_SELECTOR, ".deadline").text
    assert deadline.startswith("spätestens ") and deadline[-4:].isdigit(), deadline
    # Seven days from today; today's row is marked, the closed day shows its note.
    rows = phone.find_elements(By.CSS_SELECTOR, "table.hours tr")
    assert len(rows) == 7
    assert "(heute)" in rows[0].text and "today" in rows[0].get_attribute("class")
    assert "rund um die Uhr" in rows[0].text
    # Found by its date, not by its row: a midnight since the fixture made it moves it up a row.
    closed = next((row.text for row in rows if place.closed_day.strftime("%d.%m.") in row.text), "")
    assert "geschlossen" in closed and "Betriebsausflug" in closed, [row.text for row in rows]
    bring = [li.text for li in phone.find_elements(By.CSS_SELECTOR, "ul.bring li")]
    assert bring[0].startswith("Ihr Mobiltelefon mit der SMS")
    assert any("PIN-Brief" in item for item in bring) and any("Geburtsdatum" in item for item in bring)
    check_status_page(phone, "status-ready-in-box")
    assert_private_and_strict(server, phone, number)


def test_afterPickup_thePageSaysTheDocumentWasCollected(server, gateway, place, phone):
    number, mobile = place.register()
    place.deliver_and_load(number)
    place.pick_up(mobile, gateway.pin_for(mobile))
    phone.get(status_url(server, number))
    text_appears(phone, COLLECTED)
    text_appears(phone, "Wenn Sie es nicht selbst abgeholt haben, wenden Sie sich bitte sofort an Ihre Ausländerbehörde.")
    assert "result-collected" in phone.find_element(By.CSS_SELECTOR, "section.result").get_attribute("class")
    assert place.name not in phone.find_element(By.TAG_NAME, "body").text
    check_status_page(phone, "status-collected")


def test_aCounterPickup_isShownAsReadyAtTheCounter(server, place, phone):
    number, _ = place.register(pickup_method="counter")
    place.deliver(number)
    phone.get(status_url(server, number))
    text_appears(phone, "Ihr Dokument bekommen Sie am Schalter.")
    text_appears(phone, "So bekommen Sie Ihr Dokument")
    text_appears(phone, place.name)
    assert "result-ready_at_counter" in phone.find_element(By.CSS_SELECTOR, "section.result").get_attribute("class")
    assert not phone.find_elements(By.CSS_SELECTOR, "table.hours")
    check_status_page(phone, "status-ready-at-counter")


def test_unknownAndMalformedNumbers_getTheSamePage(server, phone):
    phone.get(status_url(server, fresh_vorgangsnummer()))
    text_appears(phone, UNKNOWN)
    unknown = phone.find_element(By.CSS_SELECTOR, "section.result")
    unknown_text, unknown_class = unknown.text, unknown.get_attribute("class")
    check_status_page(phone, "status-unknown")
    phone.get(status_url(server, "hello"))
    text_appears(phone, UNKNOWN)
    malformed = phone.find_element(By.CSS_SELECTOR, "section.result")
    # Neither the number nor anything else tells the two apart.
    assert malformed.text == unknown_text and malformed.get_attribute("class") == unknown_class == "result result-unknown"
    assert field(phone, "Vorgangsnummer").get_attribute("value") == "HELLO"


def test_theSkipLink_isTheFirstStopOfTheKeyboard_andLeadsToTheContent(server, phone):
    phone.get(server.url + "/status")
    heading(phone, "Ist mein Dokument abholbereit?")
    phone.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    skip = phone.switch_to.active_element
    assert skip.text == "Zum Inhalt springen" and skip.is_displayed()
    assert skip.location["x"] >= 0
    skip.send_keys(Keys.ENTER)
    wait(phone, lambda d: d.switch_to.active_element.get_attribute("id") == "main", 5, "the content did not get the focus")


# --- the typing aid ---------------------------------------------------------------------------------

def test_typing_groupsTheNumber_andKeepsTheCaretWhereTheCharacterWentIn(server, place, phone):
    number, _ = place.register()
    phone.get(server.url + "/status")
    heading(phone, "Ist mein Dokument abholbereit?")
    # Typed in lower case with the 9th symbol missing, then put in with the caret.
    vn = fill(phone, "Vorgangsnummer", (number[:8] + number[9]).lower())
    assert vn.get_attribute("value").replace(MARK, "-") == f"{number[0:3]}-{number[3:6]}-{number[6:8]}{number[9]}"
    vn.send_keys(Keys.ARROW_LEFT, number[8].lower())
    assert vn.get_attribute("value").replace(MARK, "-") == grouped(number)
    assert phone.execute_script("return arguments[0].selectionStart", vn) == 11
    # The authority's own formats are not grouped and go to the server as typed.
    vn = fill(phone, "Vorgangsnummer", "abh-2024/117")
    assert vn.get_attribute("value") == "ABH-2024/117"
    leaves_page(phone, lambda: vn.send_keys(Keys.ENTER))
    text_appears(phone, UNKNOWN)
    assert urllib.parse.parse_qs(urllib.parse.urlparse(phone.current_url).query)["vn"] == ["ABH-2024/117"]
    # A generated number goes compact, as in the letter's QR code.
    vn = fill(phone, "Vorgangsnummer", grouped(number).replace("-", " "))
    assert vn.get_attribute("value") == grouped(number).replace("-", " ")
    leaves_page(phone, lambda: button(phone, "Status abfragen").click())
    text_appears(phone, NOT_READY)
    assert urllib.parse.parse_qs(urllib.parse.urlparse(phone.current_url).query)["vn"] == [number]


def test_aTypo_isExplainedAtTheField_withoutAskingTheServer(server, place, phone):
    number, _ = place.register()
    typo = number[:4] + next(c for c in ALPHABET if c != number[4]) + number[5:]
    phone.get(server.url + "/status")
    heading(phone, "Ist mein Dokument abholbereit?")
    url = phone.current_url
    phone.execute_script("window.stillTheSamePage = true")
    vn = fill(phone, "Vorgangsnummer", typo)
    button(phone, "Status abfragen").click()
    text_appears(phone, TYPO)
    # Not sent: the same page, the same address.
    assert phone.execute_script("return window.stillTheSamePage === true")
    assert phone.current_url == url
    assert vn.get_attribute("aria-invalid") == "true"
    assert vn.get_attribute("aria-describedby").split() == ["vn-hint", "vn-error"]
    assert phone.switch_to.active_element == vn
    assert "field-invalid" in phone.find_element(By.CSS_SELECTOR, ".lookup .field").get_attribute("class")
    check_status_page(phone, "status-typo")
    # The check is the app's own (vorgangsnummer.js, imported by status.js; both count towards the
    # page's 50 KB), and the page keeps nothing of the number in the browser.
    scripts = phone.execute_script("return performance.getEntriesByType('resource').map((r) => r.name.split('/').pop()).filter((n) => n.endsWith('.js'))")
    assert {"status.js", "vorgangsnummer.js"} <= set(scripts), scripts
    assert phone.execute_script("return localStorage.length + sessionStorage.length") == 0
    # Corrected, it is sent and found.
    fill(phone, "Vorgangsnummer", number)
    leaves_page(phone, lambda: vn.send_keys(Keys.ENTER))
    text_appears(phone, NOT_READY)
    assert not phone.find_element(By.ID, "vn-error").is_displayed()


def test_sendingTheSameTextAgain_asksTheServerAnyway(server, phone):
    # An authority's own number may look like a mistyped generated one: the server has the last word.
    phone.get(server.url + "/status")
    fill(phone, "Vorgangsnummer", "K7M4XQ9TR2")
    button(phone, "Status abfragen").click()
    text_appears(phone, TYPO)
    leaves_page(phone, lambda: button(phone, "Status abfragen").click())
    text_appears(phone, UNKNOWN)
    assert "vn=K7M4XQ9TR2" in phone.current_url


def test_lookAlikes_andAWrongLength_areExplained_inThePagesLanguage(server):
    browser = make_phone(language="en-US")
    try:
        browser.get(server.url + "/status")
        heading(browser, "Is my document ready?")
        browser.execute_script("window.stillTheSamePage = true")
        fill(browser, "Reference number (Vorgangsnummer)", "K7M-4XQ-9TR-O")
        button(browser, "Check status").click()
        text_appears(browser, "Reference numbers never contain 0, O, 1, I, L, U or Z.")
        fill(browser, "Reference number (Vorgangsnummer)", "K7M 4XQ 9TR")
        button(browser, "Check status").click()
        text_appears(browser, "A reference number has 10 characters, for example K7M-4XQ-9TR-C. You entered 9.")
        assert "Reference numbers never contain" not in browser.find_element(By.TAG_NAME, "body").text
        assert browser.execute_script("return window.stillTheSamePage === true")
        check_status_page(browser, "status-typo-en")
    finally:
        browser.quit()


# --- languages --------------------------------------------------------------------------------------

def test_anEnglishBrowser_getsTheEnglishPage(server, place):
    number, _ = place.register()
    place.deliver_and_load(number)
    browser = make_phone(language="en-US")
    try:
        browser.get(status_url(server, number))
        heading(browser, "Is my document ready?")
        text_appears(browser, "Your document is in the pickup box.")
        text_appears(browser, "Collect by")
        text_appears(browser, "(today)")
        text_appears(browser, "What you need at the box")
        text_appears(browser, "Reference number " + grouped(number))
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
        check_status_page(browser, "status-ready-in-box-en")
    finally:
        browser.quit()


def test_leichteSprache_andTheLanguageLinks_keepTheNumber(server, place, phone):
    number, _ = place.register()
    place.deliver_and_load(number)
    phone.get(status_url(server, number, lang="ls"))
    heading(phone, "Ist mein Dokument fertig?")
    text_appears(phone, "Ihr Dokument ist fertig.")
    text_appears(phone, "Wann können Sie hin?")
    check_status_page(phone, "status-ready-in-box-ls")
    # The language links are large enough to tap and keep the number.
    for name in ("Deutsch", "English", "Leichte Sprache"):
        size = link(phone, name).size
        assert size["height"] >= 44 and size["width"] >= 44, (name, size)
    assert link(phone, "Leichte Sprache").get_attribute("aria-current") == "true"
    leaves_page(phone, lambda: link(phone, "English").click())
    heading(phone, "Is my document ready?")
    text_appears(phone, "Your document is in the pickup box.")
    text_appears(phone, "Reference number " + grouped(number))
    # A chosen language stays chosen when another number is asked for.
    fill(phone, "Reference number (Vorgangsnummer)", fresh_vorgangsnummer())
    leaves_page(phone, lambda: button(phone, "Check status").click())
    text_appears(phone, "We have no information on this number.")
    assert "lang=en" in phone.current_url


# --- without JavaScript, on a small phone, under load -----------------------------------------------

def test_withoutJavaScript_theServerSendsTheFinishedPage(server, place):
    number, _ = place.register()
    place.deliver_and_load(number)
    status, html, _ = server.api("GET", "/status?vn=" + grouped(number).lower())
    assert status == 200 and IN_BOX in html and place.name in html
    browser = make_phone(javascript=False)
    try:
        browser.get(server.url + "/status")
        fill(browser, "Vorgangsnummer", grouped(number))
        leaves_page(browser, lambda: button(browser, "Status abfragen").click())
        text_appears(browser, IN_BOX)
        text_appears(browser, "(heute)")
        # No script ran: the field shows the number exactly as typed, with plain hyphens.
        assert field(browser, "Vorgangsnummer").get_attribute("value") == grouped(number)
        assert browser.get_cookies() == []
    finally:
        browser.quit()


def test_theLoadedPage_fitsA360pxScreen_withoutSidewaysScrolling(server, place):
    number, _ = place.register()
    place.deliver_and_load(number)
    browser = make_phone(width=360)
    try:
        browser.get(status_url(server, number))
        text_appears(browser, IN_BOX)
        widths = browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth, "
                                        "getComputedStyle(document.querySelector('main p')).fontSize]")
        assert widths[0] <= widths[1], widths
        assert float(widths[2].rstrip("px")) >= 18, widths
        today, tomorrow = browser.find_elements(By.CSS_SELECTOR, "table.hours th")[:2]
        assert today.value_of_css_property("background-color") != tomorrow.value_of_css_property("background-color")
        assert today.value_of_css_property("font-weight") == "700" != tomorrow.value_of_css_property("font-weight")
    finally:
        browser.quit()


def test_tooManyLookups_getAFriendlyWaitPage_with429AndRetryAfter(gateway):
    limited = Server("ratelimit", gateway, {"STATUS_RATE_LIMIT": "3"})
    browser = None
    try:
        # The browser first: the bucket refills one token every 20 s, and Chromium's start on a busy machine
        # must not fall between the fourth lookup and the page's.
        browser = make_phone()
        number = fresh_vorgangsnummer()
        answers = [limited.api("GET", "/status?vn=" + number) for _ in range(4)]
        assert [a[0] for a in answers] == [200, 200, 200, 429]
        status, html, headers = answers[3]
        assert int(headers["Retry-After"]) > 0
        assert "Bitte warten Sie einen Moment." in html and "Bitte versuchen Sie es in" in html
        # The empty form is never limited: the applicant can always reach the page.
        assert limited.api("GET", "/status")[0] == 200
        browser.get(status_url(limited, number))
        heading(browser, "Bitte warten Sie einen Moment.")
        text_appears(browser, "Von Ihrem Anschluss kamen in kurzer Zeit sehr viele Abfragen.")
        assert "result-wait" in browser.find_element(By.CSS_SELECTOR, ".result").get_attribute("class")
        # The number stays in the field, ready to send again.
        assert field(browser, "Vorgangsnummer").get_attribute("value").replace(MARK, "-") == grouped(number)
        # The page itself answered 429, which Chromium reports; nothing else may fail.
        check_status_page(browser, "status-rate-limited", allow_console=["status of 429 (Too Many Requests)"])
    finally:
        if browser:
            browser.quit()
        limited.stop()
