"""Login, who am I, language switch, logout, and an expired session that keeps a half-filled form."""

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from support import button, check_page, field, fill, heading, login, text_appears, wait


def test_wrongPassword_isShown_thenTheRightOneLogsIn(server, browser):
    browser.get(server.url + "/")
    heading(browser, "Anmelden")
    check_page(browser, "login")
    fill(browser, "Behörde (Kurzname)", "demo")
    fill(browser, "Benutzername", "sachbearbeitung")
    fill(browser, "Passwort", "not-the-password")
    button(browser, "Anmelden").click()
    text_appears(browser, "Behörde, Benutzername oder Passwort stimmen nicht.")
    fill(browser, "Passwort", server.passwords["sachbearbeitung"])
    field(browser, "Passwort").send_keys(Keys.ENTER)
    text_appears(browser, "Angemeldet als Sam Sachbearbeitung")
    text_appears(browser, "(Sachbearbeitung)")


def test_languageSwitch_isRemembered_andLogoutEndsTheSession(server, browser):
    login(browser, server, "chef")
    button(browser, "English").click()
    text_appears(browser, "Signed in as Dana Vorgesetzt")
    text_appears(browser, "(Supervisor)")
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    browser.refresh()
    text_appears(browser, "Signed in as Dana Vorgesetzt")
    button(browser, "Log out").click()
    heading(browser, "Log in")
    # The session is gone on the server: the app asks for a login again.
    browser.get(server.url + "/#/search")
    heading(browser, "Log in")
    button(browser, "Deutsch").click()
    heading(browser, "Anmelden")


def test_allPagesRefuse_framing_andInlineScript(server):
    status, body, headers = server.api("GET", "/")
    assert status == 200
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "<script>" not in body and " on" not in body.split("<body>")[1].split(">")[0]
