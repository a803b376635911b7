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
    # Said at the password field (the one to type again) and in the summary under the usual title.
    password = field(browser, "Passwort")
    assert password.get_attribute("aria-invalid") == "true"
    error_id = next(i for i in password.get_attribute("aria-describedby").split() if i.endswith("-error"))
    assert browser.find_element(By.ID, error_id).text == "Behörde, Benutzername oder Passwort stimmen nicht."
    heading(browser, "Bitte prüfen Sie Ihre Angaben")
    check_page(browser, "login-error", allow_console=("401",))
    fill(browser, "Passwort", server.passwords["sachbearbeitung"])
    field(browser, "Passwort").send_keys(Keys.ENTER)
    text_appears(browser, "Angemeldet als Sam Sachbearbeitung")
    text_appears(browser, "(Sachbearbeitung)")


def test_languageSwitch_isRemembered_andLogoutEndsTheSession(server, browser):
    login(browser, server, "chef")
    button(browser, "English").click()
    text_appears(browser, "Signed in as Dana Vorgesetzt")
    # The focus stays where the user was: on the language button, now offering German.
    wait(browser, lambda d: d.switch_to.active_element.text == "Deutsch", 10, "the focus did not return to the language button")
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


def test_aNewLoginInAnotherTab_doesNotBreakTheNextAction(server, browser):
    login(browser, server, "sachbearbeitung")
    browser.get(server.url + "/#/search")
    heading(browser, "Anträge suchen")
    # Another tab logs in anew: the session cookie changes, and with it the CSRF token this tab holds.
    status = browser.execute_async_script("""
        const [body, done] = [arguments[0], arguments[arguments.length - 1]];
        fetch('/api/v1/auth/login', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)})
          .then((r) => done(r.status), (e) => done(String(e)));""",
        {"authority": "demo", "username": "sachbearbeitung", "password": server.passwords["sachbearbeitung"]})
    assert status == 200
    # The next state-changing call (the logout) is refused once (403 csrf_token_invalid), then sent again
    # with the session's new token: afterwards the browser's session has really ended.
    button(browser, "Abmelden").click()
    heading(browser, "Anmelden")
    assert browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch('/api/v1/auth/session').then((r) => r.json()).then((s) => done(s.authenticated), (e) => done(String(e)));""") is False
