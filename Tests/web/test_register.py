"""Registering an application (live preview of number and fee, errors at the field and in the summary,
a form kept across an expired session and only then) and the printable letter – what to bring as the
site's pickup settings say – whose QR code leads to the status page."""

import datetime
import re
import subprocess
import tempfile
import urllib.parse
from pathlib import Path
from zoneinfo import ZoneInfo

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from support import (assert_no_console_errors, button, check_page, field, fill, heading, link, login,
                     text_appears, wait)

SUBMIT = "Antrag speichern und Brief erstellen"


def open_register(browser, server, username="sachbearbeitung"):
    login(browser, server, username)
    # The dashboard has loaded (its heading has the focus); what it logged is its own business.
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "main h1"), 15, "the dashboard did not load")
    browser.get_log("browser")
    link(browser, "Antrag erfassen").click()
    heading(browser, "Antrag erfassen")
    field(browser, "Familienname")


def choose_demo_site(browser):
    """Other tests add sites to the shared server: pick the demo authority's own."""
    sites = Select(field(browser, "Standort"))
    sites.select_by_visible_text(next(o.text for o in sites.options if o.text.startswith("Bürgeramt Mitte")))


def field_error(browser, label, timeout=10):
    """The error text shown at the field labelled `label` (waits for it)."""
    el = field(browser, label)
    wait(browser, lambda d: el.get_attribute("aria-invalid") == "true", timeout, f"no error at {label!r}")
    error_id = next(i for i in el.get_attribute("aria-describedby").split() if i.endswith("-error"))
    return browser.find_element(By.ID, error_id).text


def retype(el, value):
    """Replaces the text of a field while it keeps the focus (clear() could count as leaving it)."""
    el.send_keys(Keys.CONTROL, "a")
    el.send_keys(value)


def text_of(el):
    return el.text.replace("\xa0", " ")


def fee_line(browser):
    return browser.find_element(By.CSS_SELECTOR, ".register-fee")


def fee_shows(browser, text):
    wait(browser, lambda d: text_of(fee_line(d)) == text, 10, f"the fee did not become {text!r}")


def berlin_today():
    return datetime.datetime.now(ZoneInfo("Europe/Berlin")).date()


def letter_of(server, application_id):
    session = server.login_api("sachbearbeitung")
    status, letter, _ = server.api("GET", f"/api/v1/applications/{application_id}/letter", session=session)
    assert status == 200, letter
    return letter


def test_aNewApplication_showsNumberAndErrorsWhileTyping_andItsLetterQRCodeOpensTheStatusPage(server, browser):
    open_register(browser, server)
    check_page(browser, "register")

    choose_demo_site(browser)
    fill(browser, "Vornamen", "Erika")
    fill(browser, "Mobilnummer", "0151 2345 6789")
    note = browser.find_element(By.CSS_SELECTOR, ".register-note")
    wait(browser, lambda d: note.text.startswith("Wird gespeichert als +49 "), 10, "the normalised number did not appear")
    assert note.text.replace(" ", "") == "Wirdgespeichertals+4915123456789"

    # While the date is typed the first time its problem is not shown, even after the server answered.
    dob = field(browser, "Geburtsdatum")
    dob.click()
    dob.send_keys("12.08.1984")
    fee_shows(browser, "Gebühr: 100,00 €")
    retype(dob, "31.02.1990")
    fee_shows(browser, "Die Gebühr steht fest, sobald das Geburtsdatum eingegeben ist.")
    assert dob.get_attribute("aria-invalid") is None
    dob.send_keys(Keys.TAB)
    assert "Dieses Geburtsdatum gibt es nicht" in field_error(browser, "Geburtsdatum")
    # Once left, the field follows the typing: the corrected date clears the error.
    retype(dob, "12.08.1984")
    wait(browser, lambda d: dob.get_attribute("aria-invalid") is None, 10, "the error stayed after the correction")

    button(browser, SUBMIT).click()
    heading(browser, "Bitte prüfen Sie Ihre Angaben")
    summary_link = link(browser, "Geben Sie den Familiennamen ein.")
    assert field_error(browser, "Familienname") == "Geben Sie den Familiennamen ein."
    check_page(browser, "register-errors")
    summary_link.click()
    assert browser.switch_to.active_element == field(browser, "Familienname")

    field(browser, "Familienname").send_keys("Musterfrau")
    button(browser, SUBMIT).click()
    heading(browser, "Brief für die antragstellende Person", timeout=15)
    application_id = re.search(r"#/applications/([0-9A-Fa-f-]{36})/letter", browser.current_url).group(1)
    letter = letter_of(server, application_id)
    text_appears(browser, letter["vorgangsnummerDisplay"])
    text_appears(browser, "Guten Tag Erika Musterfrau,")
    text_appears(browser, letter["statusUrl"])
    # What to bring to the box is what the demo site's pickup settings ask for (first issuance).
    settings = letter["pickupSettings"]
    bring = browser.find_element(By.XPATH, "//h3[normalize-space()='Bitte bringen Sie mit']/following-sibling::ul[1]").text
    assert "Ihr Mobiltelefon mit der SMS (PIN)" in bring
    assert ("PIN-Brief" in bring) == settings["pinLetter"], (bring, settings)
    assert ("Geburtsdatum" in bring) == (settings["secondFactor"] in ("date_of_birth", "date_of_birth_or_can")), (bring, settings)
    assert "altes Dokument" not in bring, "a first issuance has no old document"

    qr = browser.find_element(By.CSS_SELECTOR, "img[alt^='QR-Code zur Statusabfrage']")
    wait(browser, lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", qr), 15, "the QR code did not load")
    check_page(browser, "letter")
    assert qr.size["width"] >= 200 and qr.size["height"] >= 200, qr.size
    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "qr.png"
        qr.screenshot(str(png))
        decoded = subprocess.run(["zbarimg", "--raw", "-q", str(png)], capture_output=True, text=True, timeout=30)
    assert decoded.returncode == 0, decoded.stderr
    url = decoded.stdout.strip()
    assert url == f"{server.url}/status?vn={urllib.parse.quote(letter['vorgangsnummer'])}"

    browser.get(url)
    text_appears(browser, "Ist mein Dokument abholbereit?")
    text_appears(browser, "Ihr Dokument ist noch nicht fertig.")


def test_anExpiredSession_sendsToTheLogin_andTheHalfFilledFormComesBack(server, browser):
    open_register(browser, server)
    fill(browser, "Familienname", "Yılmaz")
    fill(browser, "Vornamen", "Ayşe")
    fill(browser, "Geburtsdatum", "00.00.1985")
    field(browser, "Die Gebühr ist bezahlt").click()
    # The server has answered for what was typed (nothing is still on its way when the session goes).
    fee_shows(browser, "Gebühr: 100,00 €")
    browser.delete_cookie("pickupbox_session")

    button(browser, SUBMIT).click()
    heading(browser, "Anmelden")
    text_appears(browser, "Ihre Sitzung ist abgelaufen.")
    fill(browser, "Benutzername", "sachbearbeitung")
    fill(browser, "Passwort", server.passwords["sachbearbeitung"])
    button(browser, "Anmelden").click()

    heading(browser, "Antrag erfassen", timeout=15)
    wait(browser, lambda d: field(d, "Familienname").get_attribute("value") == "Yılmaz", 10, "the family name was not restored")
    assert field(browser, "Vornamen").get_attribute("value") == "Ayşe"
    assert field(browser, "Geburtsdatum").get_attribute("value") == "00.00.1985"
    # A confirmation is never kept: the fee is ticked again by whoever takes it.
    assert not field(browser, "Die Gebühr ist bezahlt").is_selected()
    assert_no_console_errors(browser, "register after an expired session", allow=("401",))


def test_aHalfFilledForm_isGone_whenTheCaseworkerComesBackLater(server, browser):
    open_register(browser, server)
    fill(browser, "Familienname", "Vergessen")
    fill(browser, "Vornamen", "Bitte")
    fill(browser, "Geburtsdatum", "12.08.1984")
    fill(browser, "Mobilnummer", "0151 2345 6789")
    field(browser, "Die Gebühr ist bezahlt").click()
    fee_shows(browser, "Gebühr: 100,00 €")
    link(browser, "Suche").click()
    heading(browser, "Anträge suchen")
    link(browser, "Antrag erfassen").click()
    heading(browser, "Antrag erfassen")
    for label in ["Familienname", "Vornamen", "Geburtsdatum", "Mobilnummer"]:
        assert field(browser, label).get_attribute("value") == "", label
    assert not field(browser, "Die Gebühr ist bezahlt").is_selected()
    # Nothing of it is left in the tab's storage either.
    kept = browser.execute_script("return Object.keys(sessionStorage).filter((k) => k.startsWith('pickupbox.form.')).map((k) => sessionStorage.getItem(k)).join(' ')")
    assert "Vergessen" not in kept


def test_theFee_followsAgeIssuanceAndExemption_andTheFieldsFollowTheChoices(server, browser):
    open_register(browser, server)
    today = berlin_today()
    sixteen = datetime.date(today.year - 16, today.month, min(today.day, 28))
    fill(browser, "Geburtsdatum", sixteen.strftime("%d.%m.%Y"))
    fee_shows(browser, "Gebühr: 50,00 € (unter 18)")

    field(browser, "Verlängerung / Neuausstellung").click()
    fee_shows(browser, "Gebühr: 46,50 € (unter 18)")
    assert field(browser, "CAN der alten Karte (optional)").is_displayed()

    Select(field(browser, "Gebührenbefreiung")).select_by_visible_text("Bürgergeld (SGB II)")
    fee_shows(browser, "Gebühr: 0,00 € (befreit: Bürgergeld)")

    field(browser, "Schalter").click()
    wait(browser, lambda d: not d.find_element(By.XPATH, "//label[normalize-space()='Mobilnummer']").is_displayed(), 5,
         "the mobile number stayed for counter pickup")
    field(browser, "Erstausstellung").click()
    wait(browser, lambda d: not d.find_element(By.XPATH, "//label[normalize-space()='CAN der alten Karte (optional)']").is_displayed(), 5,
         "the CAN stayed for a first issuance")


def test_inEnglish_theFormAndTheLetterSpeakEnglish(server, browser):
    open_register(browser, server)
    button(browser, "English").click()
    heading(browser, "Register application")
    field(browser, "Family name")
    field(browser, "Date of birth")
    field(browser, "Mobile number")
    fill(browser, "Date of birth", "12.08.1984")
    fee_shows(browser, "Fee: €100.00")
    button(browser, "Save application and create letter")

    session = server.login_api("sachbearbeitung")
    _, sites, _ = server.api("GET", "/api/v1/sites", session=session)
    site = next(s for s in sites if s["name"] == "Bürgeramt Mitte")
    status, created, _ = server.api("POST", "/api/v1/applications", session=session, body={
        "siteId": site["id"], "documentType": "eat", "issuance": "renewal", "familyName": "Doe",
        "givenNames": "Jane", "dateOfBirth": "01.02.1980", "pickupMethod": "counter", "smsLanguage": "en"})
    assert status == 201, created
    browser.get(f"{server.url}/#/applications/{created['id']}/letter")
    heading(browser, "Letter for the applicant")
    sheet = browser.find_element(By.CSS_SELECTOR, "article.letter-sheet")
    # The applicant's language is English: the sheet is English, its status address (and QR code) too.
    assert letter_of(server, created["id"])["smsLanguage"] == "en"
    text_appears(browser, "Hello Jane Doe,")
    text_appears(browser, "make an appointment and collect it at the counter")
    text_appears(browser, "your old document – it is made invalid when you collect the new one")
    assert sheet.get_attribute("lang") == "en"
    assert sheet.find_element(By.CSS_SELECTOR, ".letter-url").text.endswith("&lang=en")
    text_appears(browser, created["vorgangsnummer"][:3])
    button(browser, "Print")
    link(browser, "Go to the application")

    # A German-speaking applicant gets a German letter, whatever the screen's language.
    status, german, _ = server.api("POST", "/api/v1/applications", session=session, body={
        "siteId": site["id"], "documentType": "eat", "issuance": "first", "familyName": "Schmidt",
        "givenNames": "Jana", "dateOfBirth": "01.02.1980", "pickupMethod": "counter", "smsLanguage": "de"})
    assert status == 201, german
    browser.get(f"{server.url}/#/applications/{german['id']}/letter")
    heading(browser, "Letter for the applicant")
    text_appears(browser, "Guten Tag Jana Schmidt,")
    text_appears(browser, "Haben Sie Fragen? Wenden Sie sich bitte an: Bürgeramt Mitte,")
    sheet = browser.find_element(By.CSS_SELECTOR, "article.letter-sheet")
    assert sheet.get_attribute("lang") == "de" and "lang=" not in sheet.find_element(By.CSS_SELECTOR, ".letter-url").text
    button(browser, "Print")
