"""Verwaltung (supervisors): user accounts, sites with their pickup hours, boxes with a token shown
once, and SMS texts with a live segment counter from the server. Every test brings its own users,
sites and boxes; the one shared SMS text it changes is restored afterwards."""

import re
import secrets

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from support import button, check_page, field, fill, heading, text_appears, wait


def unique(prefix):
    return f"{prefix}{secrets.token_hex(3)}"


def open_admin(browser, server, path, username="chef"):
    """Opens #/admin… straight away: the app asks for the login first and then returns there, so no
    other page (the dashboard) runs in between."""
    browser.get(server.url + "/#/admin" + path)
    fill(browser, "Behörde (Kurzname)", "demo")
    fill(browser, "Benutzername", username)
    fill(browser, "Passwort", server.passwords[username])
    button(browser, "Anmelden").click()
    wait(browser, lambda d: "#/login" not in d.current_url and d.find_elements(By.CSS_SELECTOR, "nav.main-nav"), 15, "login did not finish")


def counter_of(browser, textarea):
    """The segment counter the text field is described by (it sits right below the field)."""
    return browser.find_element(By.ID, textarea.get_attribute("aria-describedby").split()[-1])


def own_site(server, session):
    """A site of this test's own: boxes added here must not change the demo site, whose compartment
    order other tests' automatic assignments rely on."""
    name = unique("Admin-Test ")
    status, site, _ = server.api("POST", "/api/v1/sites", {"name": name, "address": "Prüfweg 2, 44135 Musterstadt", "land": "NW"}, session=session)
    assert status == 201, site
    return site


def test_supervisor_createsAUser_thatIsListed_andCanLogIn(server, browser):
    open_admin(browser, server, "/users")
    heading(browser, "Benutzerkonten")
    check_page(browser, "admin-users")
    username = unique("web.admin.")
    fill(browser, "Benutzername", username)
    fill(browser, "Name", "Kim Neumann")
    field(browser, "Leitung").click()
    fill(browser, "Erstes Passwort", "zu-kurz")
    button(browser, "Benutzerkonto anlegen").click()
    # The password rule is shown at the field before anything is sent.
    text_appears(browser, "Das Passwort muss mindestens 12 Zeichen haben.")
    assert field(browser, "Erstes Passwort").get_attribute("aria-invalid") == "true"
    fill(browser, "Erstes Passwort", "ein-gutes-langes-Passwort")
    button(browser, "Benutzerkonto anlegen").click()
    text_appears(browser, f"Das Benutzerkonto „{username}“ ist angelegt.")
    row = browser.find_element(By.XPATH, f"//table//tr[td[normalize-space()={repr(username)}]]")
    assert "Kim Neumann" in row.text and "Leitung" in row.text and "Aktiv" in row.text
    status, _, _ = server.api("POST", "/api/v1/auth/login", {"authority": "demo", "username": username, "password": "ein-gutes-langes-Passwort"})
    assert status == 200


def test_takenUsername_isShownAtTheField(server, browser):
    open_admin(browser, server, "/users")
    fill(browser, "Benutzername", "sachbearbeitung")
    fill(browser, "Name", "Doppelt")
    fill(browser, "Erstes Passwort", "ein-gutes-langes-Passwort")
    button(browser, "Benutzerkonto anlegen").click()
    text_appears(browser, "Diesen Benutzernamen gibt es schon.")
    assert field(browser, "Benutzername").get_attribute("aria-invalid") == "true"


def test_badge_isRegisteredAndRemoved_andDisablingAsksFirst(server, browser):
    session = server.login_api("chef")
    username = unique("web.badge.")
    status, user, _ = server.api("POST", "/api/v1/users", {"username": username, "displayName": "Bea Ausweis", "role": "caseworker",
                                                           "password": "ein-gutes-langes-Passwort"}, session=session)
    assert status == 201
    open_admin(browser, server, "/users")
    # Cancelling the form returns the focus to the button that opened it.
    button(browser, "Dienstausweis hinterlegen für Bea Ausweis").click()
    fill(browser, "Nummer des Dienstausweises", "BADGE-" + secrets.token_hex(4))
    button(browser, "Abbrechen").click()
    assert browser.switch_to.active_element == button(browser, "Dienstausweis hinterlegen für Bea Ausweis")
    button(browser, "Dienstausweis hinterlegen für Bea Ausweis").click()
    fill(browser, "Nummer des Dienstausweises", "BADGE-" + secrets.token_hex(4))
    button(browser, "Dienstausweis speichern").click()
    text_appears(browser, "Der Dienstausweis von Bea Ausweis ist hinterlegt.")
    assert [u for u in server.api("GET", "/api/v1/users", session=session)[1] if u["id"] == user["id"]][0]["hasBadge"]

    button(browser, "Dienstausweis entfernen von Bea Ausweis").click()
    button(browser, "Ja, Dienstausweis entfernen").click()
    text_appears(browser, "Der Dienstausweis von Bea Ausweis ist entfernt.")
    assert not [u for u in server.api("GET", "/api/v1/users", session=session)[1] if u["id"] == user["id"]][0]["hasBadge"]

    # Disabling asks first; "Abbrechen" leaves the account alone.
    button(browser, f"Deaktivieren ({username})").click()
    text_appears(browser, f"Das Konto „{username}“ (Bea Ausweis) deaktivieren?")
    button(browser, "Abbrechen").click()
    assert not [u for u in server.api("GET", "/api/v1/users", session=session)[1] if u["id"] == user["id"]][0]["disabled"]
    button(browser, f"Deaktivieren ({username})").click()
    button(browser, "Ja, Konto deaktivieren").click()
    text_appears(browser, f"Das Konto „{username}“ ist deaktiviert.")
    assert [u for u in server.api("GET", "/api/v1/users", session=session)[1] if u["id"] == user["id"]][0]["disabled"]
    status, _, _ = server.api("POST", "/api/v1/auth/login", {"authority": "demo", "username": username, "password": "ein-gutes-langes-Passwort"})
    assert status == 401


def test_rotatingABoxToken_showsItOnce_andTheOldTokenStopsWorking(server, browser):
    session = server.login_api("chef")
    name = unique("Testbox ")
    status, box, _ = server.api("POST", "/api/v1/boxes", {"siteId": own_site(server, session)["id"], "name": name}, session=session)
    assert status == 201
    open_admin(browser, server, f"/boxes?box={box['id']}")
    heading(browser, name)
    browser.execute_cdp_cmd("Browser.grantPermissions", {"origin": server.url, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})

    # The box has no token yet: the first one is issued without a question.
    button(browser, "Token erzeugen").click()
    text_appears(browser, "Das Token wird nur jetzt angezeigt.")
    first = field(browser, "Neues Token").get_attribute("value")
    assert len(first) >= 40
    button(browser, "Kopieren").click()
    text_appears(browser, "Das Token ist in der Zwischenablage.")
    clipboard = browser.execute_async_script("const done = arguments[arguments.length - 1]; navigator.clipboard.readText().then(done, (e) => done('error: ' + e));")
    assert clipboard == first
    check_page(browser, "admin-boxes")

    # Renewing asks first, because the box's current token stops working at once.
    button(browser, "Token erneuern").click()
    text_appears(browser, f"Neues Token für „{name}“ erzeugen?")
    button(browser, "Ja, neues Token erzeugen").click()
    text_appears(browser, f"Neues Token für „{name}“")
    wait(browser, lambda d: field(d, "Neues Token").get_attribute("value") not in ("", first), message="no second token shown")
    second = field(browser, "Neues Token").get_attribute("value")

    feed = "/api/v1/box/assignments?since=0&wait=0"
    assert server.api("GET", feed, headers={"Authorization": "Bearer " + first})[0] == 401
    assert server.api("GET", feed, headers={"Authorization": "Bearer " + second})[0] == 200

    # Shown once: after a reload the page only says when it was issued.
    browser.refresh()
    heading(browser, name)
    text_appears(browser, "Ausgestellt")
    assert second not in browser.page_source
    assert not browser.find_elements(By.XPATH, "//label[normalize-space()='Neues Token']")


def test_supervisor_createsASite_andEditsItsWeeklyHours(server, browser):
    session = server.login_api("chef")
    name = unique("Außenstelle ")
    open_admin(browser, server, "/sites")
    fill(browser, "Name", name)
    fill(browser, "Adresse", "Hafenstraße 5, 44137 Musterstadt")
    Select(field(browser, "Bundesland")).select_by_visible_text("Nordrhein-Westfalen")
    button(browser, "Standort anlegen").click()
    heading(browser, name)
    text_appears(browser, f"Der Standort „{name}“ ist angelegt.")
    site = [s for s in server.api("GET", "/api/v1/sites", session=session)[1] if s["name"] == name][0]
    assert site["land"] == "NW" and site["deadlineKind"] == "working_days" and site["deadlineDays"] == 10
    assert re.search(r"site=" + site["id"], browser.current_url, re.I)
    text_appears(browser, "Geschlossen")
    check_page(browser, "admin-sites")

    button(browser, "Zeitraum hinzufügen am Montag").click()
    fill(browser, "Montag, Zeitraum 1: von", "8")
    fill(browser, "Montag, Zeitraum 1: bis", "12:00")
    button(browser, "Zeitraum hinzufügen am Montag").click()
    fill(browser, "Montag, Zeitraum 2: von", "13:00")
    fill(browser, "Montag, Zeitraum 2: bis", "1630")
    button(browser, "Zeitraum hinzufügen am Samstag").click()
    fill(browser, "Samstag, Zeitraum 1: von", "09:00")
    fill(browser, "Samstag, Zeitraum 1: bis", "08:00")
    button(browser, "Abholzeiten speichern").click()
    text_appears(browser, "Samstag, Zeitraum 1: bis – Das Ende muss nach dem Beginn liegen.")
    assert [s for s in server.api("GET", "/api/v1/sites", session=session)[1] if s["id"] == site["id"]][0]["hours"] == []

    fill(browser, "Samstag, Zeitraum 1: bis", "12:30")
    # A Tuesday period added by mistake is removed again.
    button(browser, "Zeitraum hinzufügen am Dienstag").click()
    button(browser, "Entfernen (Dienstag, Zeitraum 1)").click()
    button(browser, "Abholzeiten speichern").click()
    text_appears(browser, f"Die Abholzeiten von „{name}“ sind gespeichert.")
    saved = [s for s in server.api("GET", "/api/v1/sites", session=session)[1] if s["id"] == site["id"]][0]
    assert saved["hours"] == [
        {"weekday": 1, "opens": "08:00", "closes": "12:00"},
        {"weekday": 1, "opens": "13:00", "closes": "16:30"},
        {"weekday": 6, "opens": "09:00", "closes": "12:30"},
    ]
    # The typed "8" and "1630" are shown as the times they became.
    assert field(browser, "Montag, Zeitraum 1: von").get_attribute("value") == "08:00"
    assert field(browser, "Montag, Zeitraum 2: bis").get_attribute("value") == "16:30"


def test_aClosedDayAndThePickupSettings_areSavedForTheSite(server, browser):
    session = server.login_api("chef")
    name = unique("Nebenstelle ")
    status, site, _ = server.api("POST", "/api/v1/sites", {"name": name, "address": "Weg 1, 44139 Musterstadt", "land": "BY"}, session=session)
    assert status == 201
    open_admin(browser, server, f"/sites?site={site['id']}")
    heading(browser, name)
    day = "24.12.2099"
    fill(browser, "Datum", day)
    fill(browser, "Anlass (freiwillig)", "Heiligabend")
    button(browser, "Ausnahme speichern").click()
    text_appears(browser, f"Die Ausnahme am {day} ist gespeichert.")
    row = browser.find_element(By.XPATH, f"//table//tr[td[normalize-space()='{day}']]")
    assert "Geschlossen" in row.text and "Heiligabend" in row.text

    field(browser, "Vier-Augen-Prinzip beim Beladen").click()
    field(browser, "Immer das Geburtsdatum").click()
    button(browser, "Einstellungen speichern").click()
    text_appears(browser, f"Die Einstellungen der Abholung in „{name}“ sind gespeichert.")
    saved = [s for s in server.api("GET", "/api/v1/sites", session=session)[1] if s["id"] == site["id"]][0]
    assert saved["exceptions"] == [{"day": "2099-12-24", "closed": True, "note": "Heiligabend"}]
    assert saved["pickupSettings"]["fourEyesLoading"] is True
    assert saved["pickupSettings"]["secondFactor"] == "date_of_birth"

    button(browser, f"Entfernen (Ausnahme am {day})").click()
    text_appears(browser, f"Die Ausnahme am {day} ist entfernt.")
    assert [s for s in server.api("GET", "/api/v1/sites", session=session)[1] if s["id"] == site["id"]][0]["exceptions"] == []


def test_smsCounter_switchesFromGsm7ToUcs2WhileTyping_andAValidTextIsSaved(server, browser):
    session = server.login_api("chef")
    path = "/api/v1/sms/templates/ready_in_box/de"
    try:
        open_admin(browser, server, "/sms")
        heading(browser, "SMS-Texte")
        text = field(browser, "Text: Abholbereit in der Box (de)")
        counter = counter_of(browser, text)
        assert re.fullmatch(r"\d von 3 SMS-Teilen · GSM-7", counter.text), counter.text

        text.send_keys(" ş")
        wait(browser, lambda d: counter.text.endswith("UCS-2"), message="the counter did not switch to UCS-2")
        assert re.fullmatch(r"\d von 3 SMS-Teilen · UCS-2", counter.text), counter.text

        # A text without {pin} is a problem while typing, and "Text speichern" does not send it.
        text.clear()
        text.send_keys("Ihr Dokument liegt bereit. Abholung bis {deadline}.")
        text_appears(browser, "Der Text muss diese Platzhalter enthalten: {pin}.")
        wait(browser, lambda d: counter.text.endswith("GSM-7"), message="the counter did not switch back to GSM-7")

        valid = "Ihr Dokument liegt in der Ausgabebox {site} bereit. PIN: {pin}. Abholung bis {deadline}."
        text.clear()
        text.send_keys(valid)
        wait(browser, lambda d: "Platzhalter" not in d.find_element(By.CSS_SELECTOR, ".sms-problems").text, message="the problem stayed")
        button(browser, "Text speichern (Abholbereit in der Box, de)").click()
        text_appears(browser, "Der Text „Abholbereit in der Box“ (de) ist gespeichert.")
        items = server.api("GET", "/api/v1/sms/templates", session=session)[1]["items"]
        saved = [i for i in items if i["kind"] == "ready_in_box" and i["language"] == "de"][0]
        assert saved["source"] == "custom" and saved["body"] == valid
        check_page(browser, "admin-sms")

        # Restoring one text leaves what is being typed in another one alone.
        other = field(browser, "Text: Erinnerung vor Fristende (de)")
        other.send_keys(" Noch nicht gespeichert.")
        button(browser, "Standardtext wiederherstellen (Abholbereit in der Box, de)").click()
        button(browser, "Ja, Standardtext wiederherstellen").click()
        text_appears(browser, "Für „Abholbereit in der Box“ (de) gilt wieder der Standardtext.")
        items = server.api("GET", "/api/v1/sms/templates", session=session)[1]["items"]
        restored = [i for i in items if i["kind"] == "ready_in_box" and i["language"] == "de"][0]
        assert restored["source"] == "default"
        assert field(browser, "Text: Abholbereit in der Box (de)").get_attribute("value") == restored["body"]
        assert field(browser, "Text: Erinnerung vor Fristende (de)").get_attribute("value").endswith(" Noch nicht gespeichert.")
    finally:
        # Other tests read the SMS the demo sends: leave the built-in text in place.
        server.api("DELETE", path, session=session)


def test_aTextInANewLanguage_isAddedFromTheGermanOne(server, browser):
    session = server.login_api("chef")
    try:
        open_admin(browser, server, "/sms")
        field(browser, "Art der SMS")
        browser.find_element(By.XPATH, "//select/option[normalize-space()='Neue PIN']").click()
        fill(browser, "Sprachcode", "TR")
        button(browser, "Text anlegen").click()
        text_appears(browser, "Der Text „Neue PIN“ (tr) ist angelegt.")
        text = field(browser, "Text: Neue PIN (tr)")
        # It starts as the German text and says so until the translation is saved.
        assert text.get_attribute("lang") == "de"
        text.clear()
        text.send_keys("Ausgabebox için yeni PIN kodunuz: {pin}.")
        counter = counter_of(browser, text)
        wait(browser, lambda d: counter.text.endswith("UCS-2"), message="Turkish letters did not switch the counter to UCS-2")
        button(browser, "Text speichern (Neue PIN, tr)").click()
        text_appears(browser, "Der Text „Neue PIN“ (tr) ist gespeichert.")
        assert field(browser, "Text: Neue PIN (tr)").get_attribute("lang") == "tr"
        items = server.api("GET", "/api/v1/sms/templates", session=session)[1]["items"]
        assert [i for i in items if i["kind"] == "new_pin" and i["language"] == "tr"][0]["source"] == "custom"
    finally:
        server.api("DELETE", "/api/v1/sms/templates/new_pin/tr", session=session)


def test_theTextToTheOldNumberAfterANumberChange_isNamedInGermanAndEnglish(server, browser):
    open_admin(browser, server, "/sms")
    heading(browser, "SMS-Texte")
    text_appears(browser, "Mobilnummer geändert")
    text_appears(browser, "An die bisherige Nummer, wenn eine neue Mobilnummer freigegeben wurde.")
    text = field(browser, "Text: Mobilnummer geändert (de)").get_attribute("value")
    assert text and "{pin}" not in text
    field(browser, "Text: Mobilnummer geändert (en)")
    button(browser, "English").click()
    text_appears(browser, "Mobile number changed")
    field(browser, "Text: Mobile number changed (en)")
    text_appears(browser, "To the previous number when a new mobile number was approved.")
    check_page(browser, "admin-sms-en")


def test_caseworker_getsNoAdminPage_andTheApiRefusesToo(server, browser):
    open_admin(browser, server, "", username="sachbearbeitung")
    heading(browser, "Diese Seite gibt es nicht.")
    assert not browser.find_elements(By.XPATH, "//nav[contains(@class,'main-nav')]//a[normalize-space()='Verwaltung']")
    session = server.login_api("sachbearbeitung")
    assert server.api("GET", "/api/v1/users", session=session)[0] == 403


def test_everyTab_isReachableByItsLink_andPassesThePageChecks(server, browser):
    open_admin(browser, server, "")
    heading(browser, "Benutzerkonten")
    for tab, title, name in [("Standorte", "Standorte", "admin-sites-list"), ("Boxen und Fächer", "Boxen", "admin-boxes-list"),
                             ("SMS-Texte", "SMS-Texte", "admin-sms-list"), ("Benutzerkonten", "Benutzerkonten", "admin-users-list")]:
        browser.find_element(By.XPATH, f"//nav[contains(@class,'admin-tabs')]//a[normalize-space()='{tab}']").click()
        heading(browser, title)
        current = browser.find_element(By.XPATH, "//nav[contains(@class,'admin-tabs')]//a[@aria-current='page']")
        assert current.text == tab
        check_page(browser, name)


def test_aNewBox_getsABlockOfCompartments_numberedFromTheTopLeft(server, browser):
    session = server.login_api("chef")
    site = own_site(server, session)
    name = unique("Box ")
    open_admin(browser, server, "/boxes")
    Select(field(browser, "Standort")).select_by_visible_text(site["name"])
    fill(browser, "Name", name)
    fill(browser, "Sprachen des Bedienfelds", "de, tr, en")
    button(browser, "Box anlegen").click()
    heading(browser, name)
    text_appears(browser, f"Die Box „{name}“ ist angelegt.")
    text_appears(browser, "Die Box hat noch keine Fächer.")

    fill(browser, "Reihen", "2")
    fill(browser, "Spalten", "3")
    browser.find_element(By.XPATH, "//summary[normalize-space()='Höhen gleichmäßig eintragen']").click()
    fill(browser, "Bodenhöhe der untersten Reihe in cm", "60")
    fill(browser, "Abstand von Reihe zu Reihe in cm", "50")
    button(browser, "Höhen eintragen").click()
    assert field(browser, "Reihe 1 (oben): Bodenhöhe in cm").get_attribute("value") == "110"
    assert field(browser, "Reihe 2 (unten): Bodenhöhe in cm").get_attribute("value") == "60"
    Select(field(browser, "Reihe 2 (unten): Klasse")).select_by_visible_text("3")
    text_appears(browser, "Legt 6 Fächer an: Nummern 1 bis 6.")
    button(browser, "Fächer anlegen").click()
    text_appears(browser, "6 Fächer angelegt (Nummern 1 bis 6)")

    box = [b for b in server.api("GET", "/api/v1/boxes", session=session)[1] if b["name"] == name][0]
    assert box["panelLanguages"] == ["de", "tr", "en"]
    grid = {c["number"]: c for c in server.api("GET", f"/api/v1/boxes/{box['id']}", session=session)[1]["compartments"]}
    assert sorted(grid) == [1, 2, 3, 4, 5, 6]
    assert (grid[1]["row"], grid[1]["column"], grid[1]["floorHeightCm"], grid[1]["sizeClass"]) == (1, 1, 110, 1)
    assert (grid[4]["row"], grid[4]["column"], grid[4]["floorHeightCm"], grid[4]["sizeClass"]) == (2, 1, 60, 3)
    # The next block starts after the existing numbers, to the right of the existing columns.
    assert field(browser, "Nummer des ersten Fachs (oben links)").get_attribute("value") == "7"
    assert field(browser, "Erste Spalte").get_attribute("value") == "4"
