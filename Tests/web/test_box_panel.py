"""The box panel (/box-panel): a touch-panel look-alike that speaks the real box API with a box token.
Set-up, the long-poll feed, loading in service mode (with two staff badges at a four-eyes site),
the pickup dialogue with its uniform refusal, the door events that complete a pickup, retrieval,
and the panel's languages.

The tests use a site and box of their own, open around the clock: the demo site has pickup hours,
and issuing a new token for the demo box would stop the token the demo printed."""

import random
import re
import uuid

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from support import button, check_page, field, fill, heading, login, text_appears, wait

ALPHABET = "0123456789CFGHJKLMNPRTVWXYZ"
LETTERS = "CFGHJKLMNPRTVWXYZ"


def check_digit(serial):
    """ICAO 9303 check digit: 0-9 as themselves, A=10 … Z=35, weights 7, 3, 1 (DocumentNumber.swift)."""
    total = 0
    for i, c in enumerate(serial):
        value = int(c) if c.isdigit() else ord(c) - ord("A") + 10
        total += value * (7, 3, 1)[i % 3]
    return total % 10


def document_number():
    """A fresh document number as printed in the machine-readable zone: 9 characters and the check digit."""
    serial = random.choice(LETTERS) + "".join(random.choice(ALPHABET) for _ in range(8))
    return serial + str(check_digit(serial))


def mobile_number():
    """(+49151…, 0151 …): the E.164 form the SMS goes to, and the national form a person types."""
    digits = "".join(random.choice("0123456789") for _ in range(8))
    return "+49151" + digits, "0151 " + digits


def ok(result, *statuses):
    status, body, _ = result
    assert status in (statuses or (200, 201)), f"HTTP {status}: {body}"
    return body


def box_api(server, token, method, path, body=None):
    return server.api(method, path, body, headers={"Authorization": f"Bearer {token}"})


def make_site_with_box(server, session, four_eyes=False):
    """A site open around the clock with one box of 2 × 3 compartments and its token."""
    tag = uuid.uuid4().hex[:8]
    site = ok(server.api("POST", "/api/v1/sites", {"name": f"Panel-Schulung {tag}", "address": "Teststraße 1, 44135 Musterstadt", "land": "NW"}, session))
    ok(server.api("PUT", f"/api/v1/sites/{site['id']}/hours",
                  {"hours": [{"weekday": d, "opens": "00:00", "closes": "24:00"} for d in range(1, 8)]}, session))
    if four_eyes:
        ok(server.api("PUT", f"/api/v1/sites/{site['id']}/pickup-settings",
                      {"pinLetter": True, "secondFactor": "date_of_birth_or_can", "oldDocument": True, "fourEyesLoading": True}, session))
    box = ok(server.api("POST", "/api/v1/boxes", {"siteId": site["id"], "name": f"Panel-Box {tag}"}, session))
    ok(server.api("POST", f"/api/v1/boxes/{box['id']}/compartments", {"rows": 2, "columns": 3, "rowHeightsCm": [120, 80]}, session))
    token = ok(server.api("POST", f"/api/v1/boxes/{box['id']}/token", None, session))["token"]
    return {"site": site, "box": box, "token": token}


def register_and_deliver(server, session, site_id, mobile_e164, **overrides):
    """An application for box pickup (fee settled, born 15.03.1990) whose document was delivered: it has a compartment."""
    application = ok(server.api("POST", "/api/v1/applications", {
        "siteId": site_id, "documentType": "eat", "issuance": "first", "familyName": "Panel", "givenNames": "Test",
        "dateOfBirth": "15.03.1990", "mobileNumber": mobile_e164, "pickupMethod": "box", "feeSettled": True, **overrides}, session))
    number = document_number()
    delivery = ok(server.api("POST", "/api/v1/deliveries", {
        "deliveryNoteNumber": f"LS-PANEL-{uuid.uuid4().hex[:10]}",
        "items": [{"documentNumber": number, "vorgangsnummer": application["vorgangsnummer"]}]}, session))
    assert delivery["items"][0]["result"] == "matched", delivery
    return application, number


def load_by_api(server, token, number):
    """Service mode as a box does it, without the panel: the compartment to open, then `loaded`."""
    instruction = ok(box_api(server, token, "POST", "/api/v1/box/loading", {"documentNumber": number}))
    compartment = instruction["compartmentNumber"]
    ok(box_api(server, token, "POST", "/api/v1/box/events", {"eventId": f"test-{uuid.uuid4().hex}", "kind": "loaded", "compartmentNumber": compartment}))
    return compartment


def application_state(server, session, application_id):
    return ok(server.api("GET", f"/api/v1/applications/{application_id}", None, session))["state"]


@pytest.fixture(scope="module")
def chef(server):
    return server.login_api("chef")


@pytest.fixture(scope="module")
def panel_box(server, chef):
    return make_site_with_box(server, chef)


def open_panel(browser, server, token):
    browser.get(server.url + "/box-panel")
    fill(browser, "Box-Token", token)
    button(browser, "Verbinden").click()
    button(browser, "Dokument abholen", timeout=20)


# Kept by the page from its very first script on (set before each load): every call of fetch() with
# its AbortSignal, every setTimeout still pending with its delay, and anything a page script writes
# to the console (the panel writes nothing there).
WATCH = """
(() => {
  const fetches = [], timers = new Map(), consoleLines = [];
  Object.defineProperty(window, '__fetches', { value: fetches });
  Object.defineProperty(window, '__timers', { value: timers });
  Object.defineProperty(window, '__console', { value: consoleLines });
  const realFetch = window.fetch;
  window.fetch = function (input, init) {
    const call = { url: String((input && input.url) || input), signal: (init && init.signal) || null, done: false };
    fetches.push(call);
    const answer = realFetch.apply(this, arguments);
    answer.then(() => { call.done = true; }, () => { call.done = true; });
    return answer;
  };
  const realSet = window.setTimeout, realClear = window.clearTimeout;
  window.setTimeout = function (fn, ms, ...rest) {
    const id = realSet.call(window, (...a) => { timers.delete(id); if (typeof fn === 'function') fn(...a); }, ms, ...rest);
    timers.set(id, Number(ms) || 0);
    return id;
  };
  window.clearTimeout = function (id) { timers.delete(id); return realClear.call(window, id); };
  const text = (x) => { if (x instanceof Error) return `${x.message} ${x.stack}`; try { return typeof x === 'string' ? x : JSON.stringify(x) ?? String(x); } catch { return String(x); } };
  for (const m of ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir', 'table']) {
    const real = console[m];
    console[m] = function (...args) { consoleLines.push(args.map(text).join(' ')); return real.apply(this, args); };
  }
  window.addEventListener('error', (e) => consoleLines.push(text(e.error || e.message)));
  window.addEventListener('unhandledrejection', (e) => consoleLines.push(text(e.reason)));
})();
"""


def watch(browser):
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH})


def in_flight(browser, part):
    """The number of fetch() calls to a URL containing `part` that are neither answered nor aborted."""
    return browser.execute_script("return window.__fetches.filter((c) => c.url.includes(arguments[0]) && !c.done && !(c.signal && c.signal.aborted)).length", part)


def pending_timers(browser):
    return browser.execute_script("return [...window.__timers.values()]")


def set_hidden(browser, hidden):
    """The page as if its tab went to the background (or came back): visibilityState and its event."""
    browser.execute_script("""
        if (arguments[0]) Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
        else delete document.visibilityState;
        document.dispatchEvent(new Event('visibilitychange'));""", hidden)


def assert_nothing_kept(browser, *secrets):
    """No script wrote to the console, and none of `secrets` is in the console, localStorage or
    sessionStorage (the box token may be in sessionStorage: that is where it is kept)."""
    written = browser.execute_script("return window.__console")
    assert written == [], f"the page wrote to the console: {written}"
    logged = " ".join(e["message"] for e in browser.get_log("browser"))
    stored = browser.execute_script("""
        const all = (s) => Object.keys(s).filter((k) => k !== 'pickupbox.boxPanel.token').map((k) => k + '=' + s.getItem(k)).join(' ');
        return [all(localStorage), all(sessionStorage)];""")
    for secret in secrets:
        pattern = re.compile(rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])")
        for where, text in (("the console", logged), ("localStorage", stored[0]), ("sessionStorage", stored[1])):
            assert not pattern.search(text), f"{secret!r} is in {where}"


def feed_text(browser):
    return browser.find_element(By.CSS_SELECTOR, "aside").text


def step_line(browser):
    """The "Schritt n von m" above the question of a pickup step."""
    return browser.find_element(By.CSS_SELECTOR, ".bp-step").text


def begin_pickup(browser, national, pin=None):
    button(browser, "Dokument abholen").click()
    heading(browser, "Bitte geben Sie Ihre Mobilnummer ein.")
    assert step_line(browser).startswith("Schritt 1 von ")
    fill(browser, "Mobilnummer", national)
    button(browser, "Weiter").click()
    heading(browser, "Bitte geben Sie die 6-stellige PIN aus der SMS ein.")
    assert step_line(browser).startswith("Schritt 2 von ")
    if pin is not None:
        fill(browser, "PIN", pin)
        button(browser, "Weiter").click()


def test_setUp_keepsTheTokenInTheTabOnly_andAnUnknownTokenIsInvalid(server, panel_box, browser):
    browser.get(server.url + "/box-panel")
    heading(browser, "Box verbinden")
    check_page(browser, "box-panel-setup")
    # No password manager is to offer saving the box token.
    assert field(browser, "Box-Token").get_attribute("autocomplete") == "off"
    button(browser, "Verbinden").click()
    text_appears(browser, "Bitte geben Sie das Box-Token ein.")
    fill(browser, "Box-Token", "x" * 43)
    button(browser, "Verbinden").click()
    text_appears(browser, "Token ungültig", timeout=20)
    heading(browser, "Box verbinden")
    assert browser.execute_script("return sessionStorage.getItem('pickupbox.boxPanel.token')") is None

    fill(browser, "Box-Token", panel_box["token"])
    button(browser, "Verbinden").click()
    text_appears(browser, panel_box["site"]["name"], timeout=20)
    text_appears(browser, "Verbunden")
    stored = browser.execute_script("return [sessionStorage.getItem('pickupbox.boxPanel.token'), JSON.stringify(localStorage)]")
    assert stored[0] == panel_box["token"]
    assert panel_box["token"] not in stored[1]
    # A reload keeps the token for the tab: the box connects by itself.
    browser.refresh()
    button(browser, "Dokument abholen", timeout=20)
    button(browser, "Abmelden (Token vergessen)").click()
    heading(browser, "Box verbinden")
    assert browser.execute_script("return sessionStorage.getItem('pickupbox.boxPanel.token')") is None


def test_feedShowsTheDocument_loadingMakesItReady_andAPickupCollectsIt(server, gateway, chef, panel_box, browser):
    e164, national = mobile_number()
    application, number = register_and_deliver(server, chef, panel_box["site"]["id"], e164)
    assert application_state(server, chef, application["id"]) == "assigned"

    watch(browser)
    open_panel(browser, server, panel_box["token"])
    # The long poll brought the document to load, with the configuration (site name, hours).
    wait(browser, lambda d: number[:9] in feed_text(d), 20, "the feed did not show the document")
    # What the feed says, in words, not codes.
    assert "zu beladen" in feed_text(browser) and "to_load" not in feed_text(browser)
    text_appears(browser, "Abholzeiten")
    # Open around the clock every day, said as the status page says it.
    text_appears(browser, "Täglich rund um die Uhr")
    check_page(browser, "box-panel-idle")

    # Service mode: the document from the feed goes into the compartment the server names.
    button(browser, "Service").click()
    heading(browser, "Service-Modus")
    text_appears(browser, number[:9])
    check_page(browser, "box-panel-service")
    fill(browser, "Dokumentnummer", number)
    sent = len(gateway.messages)
    button(browser, "Fach öffnen").click()
    text_appears(browser, "öffnet sich – einlegen: Dokument " + number[:9])
    compartment = int(browser.find_element(By.TAG_NAME, "h1").text.split()[1])
    check_page(browser, "box-panel-loading")
    button(browser, "Tür schließen").click()
    heading(browser, f"Fach {compartment} ist beladen")
    text_appears(browser, "Server: Abholbereit in der Box.")
    assert application_state(server, chef, application["id"]) == "ready_in_box"
    button(browser, "Service beenden").click()

    # The applicant: mobile number, the PIN from the SMS (on the keypad), the PIN letter, the date of birth.
    pin = gateway.pin_for(e164, after=sent)
    begin_pickup(browser, national)
    check_page(browser, "box-panel-pickup")
    # A shared panel: no autofill keeps the mobile number, no password manager the PIN.
    assert field(browser, "PIN").get_attribute("autocomplete") == "one-time-code"
    button(browser, "Zurück").click()
    assert field(browser, "Mobilnummer").get_attribute("autocomplete") == "off"
    button(browser, "Weiter").click()
    heading(browser, "Bitte geben Sie die 6-stellige PIN aus der SMS ein.")
    for digit in pin:
        button(browser, digit).click()
    assert browser.execute_script("return document.querySelector('input[name=pin]').value") == pin
    button(browser, "Weiter").click()
    heading(browser, "Haben Sie den PIN-Brief erhalten? Bitte bestätigen.", timeout=20)
    # Each step says where the person is: number, PIN, PIN letter, date of birth (a first issuance).
    assert step_line(browser) == "Schritt 3 von 4"
    button(browser, "Ja").click()
    heading(browser, "Bitte geben Sie Ihr Geburtsdatum ein (TT.MM.JJJJ).")
    assert step_line(browser) == "Schritt 4 von 4"
    fill(browser, "Geburtsdatum", "15.03.1990")
    button(browser, "Weiter").click()
    heading(browser, f"Fach {compartment} öffnet sich", timeout=20)
    text_appears(browser, f"Fach {compartment} ist geöffnet. Bitte entnehmen Sie Ihr Dokument.")
    check_page(browser, "box-panel-open")
    button(browser, "Dokument entnehmen").click()
    text_appears(browser, "Bitte schließen Sie die Fachtür.")
    assert application_state(server, chef, application["id"]) == "ready_in_box"
    button(browser, "Tür schließen").click()
    heading(browser, "Vielen Dank. Auf Wiedersehen.", timeout=20)
    text_appears(browser, "Server: Abgeholt – die Abholung ist abgeschlossen.")
    assert application_state(server, chef, application["id"]) == "collected"
    check_page(browser, "box-panel-done")
    button(browser, "Fertig").click()
    button(browser, "Dokument abholen")
    assert_nothing_kept(browser, panel_box["token"], pin, e164, national, national.replace(" ", ""), e164[6:])


def test_aWrongPin_andAWrongDateOfBirth_getTheSameRefusal(server, gateway, chef, panel_box, browser):
    e164, national = mobile_number()
    application, number = register_and_deliver(server, chef, panel_box["site"]["id"], e164)
    sent = len(gateway.messages)
    load_by_api(server, panel_box["token"], number)
    pin = gateway.pin_for(e164, after=sent)
    wrong_pin = pin[:-1] + str((int(pin[-1]) + 1) % 10)

    watch(browser)
    open_panel(browser, server, panel_box["token"])
    begin_pickup(browser, national, wrong_pin)
    wait(browser, lambda d: "Die Angaben passen nicht." in d.find_element(By.CSS_SELECTOR, "[role=alert]").text, 20)
    first = browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
    # The refusal is the server's 403, which Chromium logs; nothing else may be.
    check_page(browser, "box-panel-refused", allow_console=("status of 403",))

    # This time by keyboard only: Enter continues. The refusal kept nothing of the first try.
    button(browser, "Erneut versuchen").click()
    assert field(browser, "Mobilnummer").get_attribute("value") == ""
    fill(browser, "Mobilnummer", national).send_keys(Keys.ENTER)
    heading(browser, "Bitte geben Sie die 6-stellige PIN aus der SMS ein.")
    fill(browser, "PIN", pin).send_keys(Keys.ENTER)
    button(browser, "Ja", timeout=20).click()
    fill(browser, "Geburtsdatum", "16.03.1990")
    button(browser, "Weiter").click()
    wait(browser, lambda d: "Die Angaben passen nicht." in d.find_element(By.CSS_SELECTOR, "[role=alert]").text, 20)
    second = browser.find_element(By.CSS_SELECTOR, "[role=alert]").text
    # One refusal for every wrong input: nothing tells which part was wrong.
    assert first == second
    assert "PIN" not in first and "Geburtsdatum" not in first
    assert application_state(server, chef, application["id"]) == "ready_in_box"
    assert_nothing_kept(browser, panel_box["token"], pin, wrong_pin, e164, national, national.replace(" ", ""), e164[6:])


def test_theServerReadsTheMobileNumber_andARenewalAsksForTheCan_andTheOldDocument(server, gateway, chef, panel_box, browser):
    e164, national = mobile_number()
    application, number = register_and_deliver(server, chef, panel_box["site"]["id"], e164, issuance="renewal", oldDocumentCan="482913")
    sent = len(gateway.messages)
    compartment = load_by_api(server, panel_box["token"], number)
    pin = gateway.pin_for(e164, after=sent)

    open_panel(browser, server, panel_box["token"])
    # The panel does not judge the number's format: a landline goes to the server, which says it is
    # no mobile number, and the dialogue comes back to the number with it kept for correcting.
    begin_pickup(browser, "030 1234567", pin)
    text_appears(browser, "Diese Nummer ist keine Mobilnummer. Bitte prüfen Sie sie.", timeout=20)
    heading(browser, "Bitte geben Sie Ihre Mobilnummer ein.")
    assert field(browser, "Mobilnummer").get_attribute("value") == "030 1234567"
    # Written as many people write it, with the area code in parentheses: the server reads it.
    fill(browser, "Mobilnummer", "(0151) " + national[5:])
    button(browser, "Weiter").click()
    fill(browser, "PIN", pin)
    button(browser, "Weiter").click()
    button(browser, "Ja", timeout=20).click()
    heading(browser, "Bitte geben Sie die 6-stellige Zugangsnummer (CAN) Ihres alten Ausweises ein.")
    assert field(browser, "Zugangsnummer (CAN)").get_attribute("autocomplete") == "one-time-code"
    fill(browser, "Zugangsnummer (CAN)", "482913")
    button(browser, "Weiter").click()
    heading(browser, "Bitte werfen Sie Ihr altes Dokument in den Entwertungsschlitz.")
    button(browser, "Altes Dokument einwerfen").click()
    heading(browser, f"Fach {compartment} öffnet sich", timeout=20)
    # Taking the document out also reports the old one destroyed: only then does closing complete the pickup.
    button(browser, "Dokument entnehmen").click()
    button(browser, "Tür schließen").click()
    heading(browser, "Vielen Dank. Auf Wiedersehen.", timeout=20)
    assert application_state(server, chef, application["id"]) == "collected"


def demo_box_token(server):
    """The token the demo printed at start. (support.Server.box_token reads the word after the first
    "box token" in the log, which is in the sentence before the token; this reads the token's own line.)"""
    if server.box_token and len(server.box_token) >= 20:
        return server.box_token
    found = re.search(r'^\s*box ".*"\s+box token\s+(\S{20,})\s*$', server.log_path.read_text(), re.M)
    return found.group(1) if found else None


def test_theDemoBoxToken_connectsToTheDemoSite(server, browser):
    token = demo_box_token(server)
    # Not a skip: the demo's box token is how people first reach the panel, and other tests need it.
    assert token, "`pickupbox serve --demo` printed no box token:\n" + server.log_path.read_text()[-2000:]
    open_panel(browser, server, token)
    text_appears(browser, "Bürgeramt Mitte")
    text_appears(browser, "Verbunden")


def test_fourEyesSite_loadsOnlyWithTwoKnownBadges(server, chef, browser):
    site = make_site_with_box(server, chef, four_eyes=True)
    badges = []
    for who in ("a", "b"):
        tag = uuid.uuid4().hex[:8]
        user = ok(server.api("POST", "/api/v1/users", {"username": f"panel-{who}-{tag}", "displayName": f"Panel {who.upper()}",
                                                       "role": "caseworker", "password": "panel-password-" + tag}, chef))
        badge = f"BADGE-{tag}"
        ok(server.api("PUT", f"/api/v1/users/{user['id']}/badge", {"badge": badge}, chef))
        badges.append(badge)
    e164, _ = mobile_number()
    application, number = register_and_deliver(server, chef, site["site"]["id"], e164)

    open_panel(browser, server, site["token"])
    button(browser, "Service").click()
    text_appears(browser, "zwei Dienstausweise (Vier-Augen-Prinzip)")
    # Badges are not for the password manager.
    assert [field(browser, f"Dienstausweis {n}").get_attribute("autocomplete") for n in (1, 2)] == ["off", "off"]
    fill(browser, "Dokumentnummer", number)
    button(browser, "Fach öffnen").click()
    text_appears(browser, "Bitte lesen Sie den Dienstausweis 1 ein.")
    text_appears(browser, "Bitte lesen Sie den Dienstausweis 2 ein.")
    # A badge nobody has: the server refuses and nothing is opened.
    fill(browser, "Dienstausweis 1", badges[0])
    fill(browser, "Dienstausweis 2", "BADGE-nobody-" + uuid.uuid4().hex[:6])
    button(browser, "Fach öffnen").click()
    text_appears(browser, "Ein Dienstausweis gehört zu keiner aktiven Person dieser Behörde.", timeout=20)
    assert application_state(server, chef, application["id"]) == "assigned"

    fill(browser, "Dienstausweis 1", badges[0])
    fill(browser, "Dienstausweis 2", badges[1])
    button(browser, "Fach öffnen").click()
    text_appears(browser, "öffnet sich – einlegen: Dokument " + number[:9], timeout=20)
    button(browser, "Tür schließen").click()
    text_appears(browser, "Server: Abholbereit in der Box.", timeout=20)
    assert application_state(server, chef, application["id"]) == "ready_in_box"


def test_retrieval_emptiesACompartment_ofACancelledApplication(server, gateway, chef, panel_box, browser):
    e164, _ = mobile_number()
    application, number = register_and_deliver(server, chef, panel_box["site"]["id"], e164)
    compartment = load_by_api(server, panel_box["token"], number)
    ok(server.api("POST", f"/api/v1/applications/{application['id']}/cancel", {"reason": "Test: zurückgenommen"}, chef))

    open_panel(browser, server, panel_box["token"])
    button(browser, "Service").click()
    fill(browser, "Fachnummer (Entnahmeliste)", str(compartment))
    button(browser, "Fach zum Entnehmen öffnen").click()
    heading(browser, f"Fach {compartment} ist offen – bitte Dokument entnehmen")
    button(browser, "Dokument entnehmen").click()
    button(browser, "Tür schließen").click()
    heading(browser, f"Dokument aus Fach {compartment} entnommen", timeout=20)
    text_appears(browser, "Server: Abholbereit am Schalter.")
    box = ok(server.api("GET", f"/api/v1/boxes/{panel_box['box']['id']}", None, chef))
    assert next(c for c in box["compartments"] if c["number"] == compartment)["state"] == "available"


def test_languageButtons_switchThePanel_andItReturnsToTheBoxDefault(server, panel_box, browser):
    open_panel(browser, server, panel_box["token"])
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "de"
    button(browser, "English").click()
    button(browser, "Collect document")
    text_appears(browser, "Welcome. Tap “Collect document”.")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert browser.find_element(By.XPATH, "//button[normalize-space()='English']").get_attribute("aria-pressed") == "true"
    button(browser, "Collect document").click()
    heading(browser, "Please enter your mobile number.")
    text_appears(browser, "Mobile number")
    button(browser, "Cancel").click()
    # After each dialogue the box greets in its first language again.
    button(browser, "Dokument abholen")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "de"


def test_theServerJudgesTheDocumentNumber_andThePanelShowsItsAnswerAtTheField(server, chef, panel_box, browser):
    e164, _ = mobile_number()
    application, number = register_and_deliver(server, chef, panel_box["site"]["id"], e164)
    # The server took the number with our check digit ("matched" above), and the helper agrees with
    # ICAO 9303's published specimens: a wrong digit below is wrong for the server too.
    assert check_digit("L898902C3") == 6 and check_digit("T22000129") == 3
    wrong = number[:9] + str((int(number[9]) + 1) % 10)

    watch(browser)
    open_panel(browser, server, panel_box["token"])
    button(browser, "Service").click()
    heading(browser, "Service-Modus")
    for typed, answer in ((wrong, "Die Prüfziffer passt nicht. Bitte scannen Sie das Dokument noch einmal."),
                          ("ABC-123", "Das ist keine gültige Dokumentnummer.")):
        asked = browser.execute_script("return window.__fetches.filter((c) => c.url.endsWith('/api/v1/box/loading')).length")
        fill(browser, "Dokumentnummer", typed)
        button(browser, "Fach öffnen").click()
        # Sent to the server, whose answer stands at the field and in the error summary.
        wait(browser, lambda d: d.execute_script("return window.__fetches.filter((c) => c.url.endsWith('/api/v1/box/loading') && c.done).length") > asked, 20,
             "the document number was not sent")
        text_appears(browser, answer, timeout=20)
        assert field(browser, "Dokumentnummer").get_attribute("aria-invalid") == "true"
    check_page(browser, "box-panel-service-error", allow_console=("status of 400",))
    assert application_state(server, chef, application["id"]) == "assigned"

    # An empty field is still caught on the page.
    fill(browser, "Dokumentnummer", "")
    button(browser, "Fach öffnen").click()
    text_appears(browser, "Bitte scannen oder tippen Sie die Dokumentnummer.")


def test_theFallbackPanelTexts_areTheServersOwn(server, panel_box, browser):
    """box-panel-texts.js keeps a copy of BoxPanelTexts.swift for the moments before the
    configuration arrives: it must say what the server says."""
    feed = ok(box_api(server, panel_box["token"], "GET", "/api/v1/box/assignments?since=0&wait=0"))
    # A new box speaks German and English: both of the server's own text sets are in its configuration.
    served = {entry["language"]: entry["texts"] for entry in feed["configuration"]["panelTexts"] if not entry["fallback"]}
    assert sorted(served) == ["de", "en"], served.keys()
    browser.get(server.url + "/box-panel")
    heading(browser, "Box verbinden")
    for language, texts in served.items():
        fallback = browser.execute_async_script("""
            const [language, keys, done] = arguments;
            const src = document.querySelector('script[type=module]').src.replace(/box-panel\\.js$/, 'box-panel-texts.js');
            import(src).then((m) => done(Object.fromEntries(keys.map((k) => [k, m.panelText(null, language, k).text]))), (e) => done({ error: String(e) }));""",
            language, sorted(texts))
        assert fallback == texts, f"box-panel-texts.js ({language}) differs from BoxPanelTexts.swift"


def test_aHiddenOrLeftPage_stopsTheLongPoll_andEveryTimer_andResumes(server, panel_box, browser):
    watch(browser)
    open_panel(browser, server, panel_box["token"])
    text_appears(browser, "Verbunden")
    # The long poll parks at the server (wait=25); an applicant has begun (the return-to-start countdown runs).
    wait(browser, lambda d: in_flight(d, "wait=25") == 1, 20, "no long poll parked")
    button(browser, "Dokument abholen").click()
    heading(browser, "Bitte geben Sie Ihre Mobilnummer ein.")
    wait(browser, lambda d: 120_000 in pending_timers(d), 5, "no return-to-start countdown")

    set_hidden(browser, True)
    text_appears(browser, "Pausiert (Seite verborgen)")
    assert in_flight(browser, "/api/v1/box/") == 0
    assert pending_timers(browser) == []

    # Shown again: the poll asks at once what happened meanwhile, the countdown starts afresh.
    asked = browser.execute_script("return window.__fetches.length")
    set_hidden(browser, False)
    text_appears(browser, "Verbunden", timeout=20)
    assert browser.execute_script("return window.__fetches.slice(arguments[0]).some((c) => c.url.includes('wait=0'))", asked)
    assert 120_000 in pending_timers(browser)
    heading(browser, "Bitte geben Sie Ihre Mobilnummer ein.")

    # Left for the back/forward cache and come back: the same.
    wait(browser, lambda d: in_flight(d, "wait=25") == 1, 20, "no long poll parked")
    browser.execute_script("window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }))")
    assert in_flight(browser, "/api/v1/box/") == 0
    assert pending_timers(browser) == []
    browser.execute_script("window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }))")
    wait(browser, lambda d: in_flight(d, "wait=25") == 1, 20, "the long poll did not resume")
    assert 120_000 in pending_timers(browser)


def test_aFourEyesSite_refusesALoadingNoBadgesAuthorised_andThePanelAsksForThemAndLoadsAgain(server, chef, browser):
    # The scan happens while the site loads without badges; before the door closes, the site switches
    # to four eyes: the server refuses `loaded` (four_eyes_missing), nothing is loaded, no PIN goes out.
    site = make_site_with_box(server, chef)
    e164, _ = mobile_number()
    application, number = register_and_deliver(server, chef, site["site"]["id"], e164)
    badges = []
    for who in ("c", "d"):
        tag = uuid.uuid4().hex[:8]
        user = ok(server.api("POST", "/api/v1/users", {"username": f"panel-{who}-{tag}", "displayName": f"Panel {who.upper()}",
                                                       "role": "caseworker", "password": "panel-password-" + tag}, chef))
        ok(server.api("PUT", f"/api/v1/users/{user['id']}/badge", {"badge": f"BADGE-{tag}"}, chef))
        badges.append(f"BADGE-{tag}")

    open_panel(browser, server, site["token"])
    button(browser, "Service").click()
    assert not browser.find_elements(By.XPATH, "//label[normalize-space()='Dienstausweis 1']")
    fill(browser, "Dokumentnummer", number)
    button(browser, "Fach öffnen").click()
    text_appears(browser, "öffnet sich – einlegen: Dokument " + number[:9], timeout=20)
    compartment = int(browser.find_element(By.TAG_NAME, "h1").text.split()[1])
    ok(server.api("PUT", f"/api/v1/sites/{site['site']['id']}/pickup-settings",
                  {"pinLetter": True, "secondFactor": "date_of_birth_or_can", "oldDocument": True, "fourEyesLoading": True}, chef))
    button(browser, "Tür schließen").click()
    text_appears(browser, "Der Server nimmt das Beladen nicht an: Dieser Standort belädt nur mit den Dienstausweisen zweier Beschäftigter", timeout=20)
    heading(browser, "Service-Modus")
    assert application_state(server, chef, application["id"]) == "assigned"
    # The document number is kept and the badges are asked for, whatever the configuration said so far.
    assert field(browser, "Dokumentnummer").get_attribute("value") == number
    field(browser, "Dienstausweis 1")
    check_page(browser, "box-panel-four-eyes-missing", allow_console=("status of 409",))

    fill(browser, "Dienstausweis 1", badges[0])
    fill(browser, "Dienstausweis 2", badges[1])
    button(browser, "Fach öffnen").click()
    text_appears(browser, f"Fach {compartment} öffnet sich – einlegen: Dokument {number[:9]}", timeout=20)
    button(browser, "Tür schließen").click()
    heading(browser, f"Fach {compartment} ist beladen", timeout=20)
    assert application_state(server, chef, application["id"]) == "ready_in_box"


def test_refusedScans_blockLoadingAtTheBox_andThePanelAndTheAppSaySo(server, chef, browser):
    site = make_site_with_box(server, chef)
    # Documents the box cannot load (unknown numbers) count against it, like refused badges.
    for _ in range(30):
        status, body, _ = box_api(server, site["token"], "POST", "/api/v1/box/loading", {"documentNumber": document_number()})
        if status == 429:
            break
        assert status == 404 and body["error"] == "unknown_document", body
    assert status == 429 and body["error"] == "box_throttled", body
    box = ok(server.api("GET", f"/api/v1/boxes/{site['box']['id']}", None, chef))
    assert box.get("loadingBlockedUntil"), box

    open_panel(browser, server, site["token"])
    button(browser, "Service").click()
    fill(browser, "Dokumentnummer", document_number())
    button(browser, "Fach öffnen").click()
    text_appears(browser, "Beladen ist an dieser Box gesperrt: zu viele abgelehnte Dienstausweise oder unbekannte Dokumente.", timeout=20)
    assert re.search(r"in \d+ Minuten wieder", browser.find_element(By.CSS_SELECTOR, ".error-summary").text)
    # No field is wrong: the box waits.
    assert field(browser, "Dokumentnummer").get_attribute("aria-invalid") is None
    check_page(browser, "box-panel-loading-blocked", allow_console=("status of 429",))

    # The web app shows the block like the pickups block: the list, the box, the dashboard.
    name = site["box"]["name"]
    login(browser, server, "chef")
    wait(browser, lambda d: "Beladen gesperrt bis" in d.find_element(By.XPATH, f"//table[contains(@class,'dash-boxes')]//tr[th//a[normalize-space()='{name}']]").text,
         20, "the dashboard does not show the block")
    browser.get(f"{server.url}/#/boxes")
    heading(browser, "Boxen")
    text_appears(browser, f"{name}: Beladen gesperrt bis")
    row = browser.find_element(By.XPATH, f"//table//tr[th//a[normalize-space()='{name}']]")
    assert "Beladen gesperrt bis" in row.text and "Abholungen gesperrt" not in row.text
    check_page(browser, "boxes-loading-blocked")
    row.find_element(By.XPATH, f".//a[normalize-space()='{name}']").click()
    heading(browser, name)
    text_appears(browser, "Beladen gesperrt bis")
    check_page(browser, "box-loading-blocked")
