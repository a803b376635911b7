"""Boxes: the list, the compartment grid (456 compartments of the demo box) with its details panel
and keyboard moves, blocking and unblocking a compartment, and the printable loading and retrieval
lists."""

import re
import secrets
import uuid

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from support import button, check_page, field, heading, link, login, text_appears, wait

PANEL = "section[aria-label='Angaben zum Fach']"


def group_vn(vn):
    return f"{vn[:3]}-{vn[3:6]}-{vn[6:9]}-{vn[9:]}" if len(vn) == 10 else vn


def assert_no_stray_words(browser):
    """A missing value must never reach the page as the word "null" or "undefined"."""
    text = browser.find_element(By.TAG_NAME, "main").text
    assert not re.search(r"\b(null|undefined)\b", text), text


def demo_box(server, session):
    status, boxes, _ = server.api("GET", "/api/v1/boxes", session=session)
    assert status == 200
    box = next(b for b in boxes if b["name"] == "Ausgabebox Foyer")
    status, full, _ = server.api("GET", f"/api/v1/boxes/{box['id']}", session=session)
    assert status == 200
    return full


def loaded_application(server, session):
    """An application of this test's own, delivered and loaded into the demo box (its service mode):
    the demo's own applications stay as they are for the other tests."""
    _, sites, _ = server.api("GET", "/api/v1/sites", session=session)
    site = next(s for s in sites if s["name"] == "Bürgeramt Mitte")
    status, app, _ = server.api("POST", "/api/v1/applications", {
        "siteId": site["id"], "documentType": "eat", "issuance": "first", "familyName": f"Entnahme{secrets.token_hex(3)}",
        "givenNames": "Test", "dateOfBirth": "15.05.1985", "pickupMethod": "box", "feeSettled": True,
        "mobileNumber": "+49151" + "".join(secrets.choice("0123456789") for _ in range(8))}, session=session)
    assert status == 201, app
    document = "L" + "".join(secrets.choice("0123456789CFGHJKLMNPRTVWXYZ") for _ in range(8))
    status, delivery, _ = server.api("POST", "/api/v1/deliveries", {"deliveryNoteNumber": f"LS-BOX-{uuid.uuid4().hex[:12]}",
                                                                    "items": [{"documentNumber": document, "vorgangsnummer": app["vorgangsnummer"]}]}, session=session)
    assert status == 201 and delivery["items"][0]["result"] == "matched", delivery
    auth = {"Authorization": f"Bearer {server.box_token}"}
    status, instruction, _ = server.api("POST", "/api/v1/box/loading", {"documentNumber": document}, headers=auth)
    assert status == 200, instruction
    status, result, _ = server.api("POST", "/api/v1/box/events", {"eventId": str(uuid.uuid4()), "kind": "loaded",
                                                                  "compartmentNumber": instruction["compartmentNumber"], "assignmentId": instruction["assignmentId"]}, headers=auth)
    assert status == 200 and result["state"] == "ready_in_box", result
    return app, instruction["compartmentNumber"]


def compartment(browser, number, timeout=20):
    """The grid's button for one compartment, found by its accessible name ("Fach 17: …")."""
    xpath = f"//*[@role='grid']//button[starts-with(@aria-label, 'Fach {number}:')]"
    return wait(browser, lambda d: next(iter(d.find_elements(By.XPATH, xpath)), False), timeout, f"no compartment {number}")


def panel_text(browser):
    return browser.find_element(By.CSS_SELECTOR, PANEL).text


def wait_panel(browser, text, timeout=10):
    wait(browser, lambda d: text in panel_text(d), timeout, f"{text!r} not in the details panel")


def wait_panel_shows(browser, number, timeout=10):
    """Waits until the details panel is about compartment `number` (its heading, exactly)."""
    heading = lambda d: d.find_element(By.CSS_SELECTOR, f"{PANEL} h2").text
    wait(browser, lambda d: heading(d) == f"Fach {number}", timeout, f"the panel does not show compartment {number}")


def open_box(browser, server):
    login(browser, server, "sachbearbeitung")
    browser.get_log("browser")  # what the dashboard logged is the dashboard's business
    browser.get(server.url + "/#/boxes")
    heading(browser, "Boxen")
    text_appears(browser, "Ausgabebox Foyer")
    check_page(browser, "boxes")
    link(browser, "Ausgabebox Foyer").click()
    heading(browser, "Ausgabebox Foyer")
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "[role='grid'] button")) == 456, 20, "the grid did not show 456 compartments")


def test_theBoxList_linksTheDemoBox_whoseGridShowsAll456Compartments_rowOneOnTop(server, browser):
    open_box(browser, server)
    buttons = browser.find_elements(By.CSS_SELECTOR, "[role='grid'] button")
    assert len(buttons) == 456
    # Row 1 is at the top: compartment 1 sits above compartment 25 (19 rows × 24 columns).
    assert compartment(browser, 1).location["y"] < compartment(browser, 25).location["y"]
    assert compartment(browser, 1).location["y"] == compartment(browser, 24).location["y"]
    # The rows are real rows for assistive technology (a row with display: contents loses its role).
    rows = browser.find_elements(By.CSS_SELECTOR, "[role='grid'] > [role='row']")
    assert len(rows) == 19 and rows[0].value_of_css_property("display") == "grid"
    assert len(rows[0].find_elements(By.CSS_SELECTOR, "[role='gridcell'] button")) == 24
    # One tab stop for the whole grid (roving focus), in reading order.
    assert len([b for b in buttons if b.get_attribute("tabindex") == "0"]) == 1
    text_appears(browser, "R = barrierefrei erreichbar")
    check_page(browser, "box")


def test_aLoadedCompartment_showsItsVorgangsnummer_onFocus_andArrowKeysMoveOn(server, browser):
    session = server.login_api("sachbearbeitung")
    loaded = next(c for c in demo_box(server, session)["compartments"] if c.get("assignmentStatus") == "loaded")
    open_box(browser, server)
    cell = compartment(browser, loaded["number"])
    assert "Beladen" in cell.get_attribute("aria-label")
    browser.execute_script("arguments[0].focus()", cell)
    wait_panel_shows(browser, loaded["number"])
    wait_panel(browser, "Beladen")
    wait_panel(browser, group_vn(loaded["vorgangsnummern"][0]))
    assert "Ein belegtes Fach kann nicht gesperrt werden." in panel_text(browser)
    # The arrow keys move between compartments and the panel follows.
    below = loaded["number"] + 24
    cell.send_keys(Keys.ARROW_DOWN)
    wait_panel_shows(browser, below)
    assert browser.switch_to.active_element.get_attribute("aria-label").startswith(f"Fach {below}:")
    browser.switch_to.active_element.send_keys(Keys.ARROW_UP)
    wait_panel_shows(browser, loaded["number"])
    assert group_vn(loaded["vorgangsnummern"][0]) in browser.switch_to.active_element.get_attribute("aria-label")
    # Hovering another compartment previews it; leaving the grid returns to the selected one.
    ActionChains(browser).move_to_element(compartment(browser, below + 1)).perform()
    wait_panel_shows(browser, below + 1)
    wait_panel(browser, "Klicken Sie auf das Fach, um es zu sperren oder die Sperre aufzuheben.")
    ActionChains(browser).move_to_element(browser.find_element(By.TAG_NAME, "h1")).perform()
    wait_panel_shows(browser, loaded["number"])


def test_blockingAFreeCompartment_marksItBlocked_andUnblockingFreesItAgain(server, browser):
    session = server.login_api("sachbearbeitung")
    box = demo_box(server, session)
    # The free compartment with the highest number: automatic assignments take the low ones first.
    free = max((c for c in box["compartments"] if c["state"] == "available"), key=lambda c: c["number"])
    number = free["number"]
    open_box(browser, server)
    compartment(browser, number).click()
    wait_panel_shows(browser, number)
    wait_panel(browser, "Frei")
    # "Other" needs a note: said at the field, nothing is sent.
    Select(field(browser, "Grund")).select_by_visible_text("Sonstiges")
    button(browser, "Fach sperren").click()
    text_appears(browser, "Bitte beschreiben Sie den Grund in der Bemerkung.")
    assert next(c for c in demo_box(server, session)["compartments"] if c["number"] == number)["state"] == "available"

    Select(field(browser, "Grund")).select_by_visible_text("Defekt")
    button(browser, "Fach sperren").click()
    text_appears(browser, f"Fach {number} ist jetzt gesperrt.")
    wait(browser, lambda d: "Gesperrt" in compartment(d, number).get_attribute("aria-label"))
    wait_panel(browser, "Defekt")
    after = next(c for c in demo_box(server, session)["compartments"] if c["number"] == number)
    assert after["state"] == "blocked" and after["blockReason"] == "defect"

    button(browser, "Sperre aufheben").click()
    text_appears(browser, f"Fach {number} ist wieder frei.")
    wait(browser, lambda d: "Frei" in compartment(d, number).get_attribute("aria-label"))
    after = next(c for c in demo_box(server, session)["compartments"] if c["number"] == number)
    assert after["state"] == "available"


def test_theLoadingList_showsAnAssignedDemoCompartment_andPrints(server, browser):
    session = server.login_api("sachbearbeitung")
    box = demo_box(server, session)
    status, loading, _ = server.api("GET", f"/api/v1/boxes/{box['id']}/loading-list", session=session)
    assert status == 200 and loading["items"], "the demo has assigned compartments"
    item = loading["items"][0]
    login(browser, server, "sachbearbeitung")
    browser.get_log("browser")
    browser.get(server.url + f"/#/boxes/{box['id']}?list=loading")
    heading(browser, "Beladeliste")
    text_appears(browser, "Ausgabebox Foyer · Bürgeramt Mitte · Stand")
    row = wait(browser, lambda d: next((r for r in d.find_elements(By.XPATH, "//table//tbody/tr")
                                        if r.find_element(By.XPATH, "./*[1]").text == str(item["compartmentNumber"])), False))
    assert group_vn(item["vorgangsnummern"][0]) in row.text
    assert f"Reihe {item['row']}, Spalte {item['column']}" in row.text
    assert_no_stray_words(browser)
    check_page(browser, "box-loading-list")
    # Printing: the button opens the browser's print dialog; navigation is not printed.
    browser.execute_script("window.__printed = 0; window.print = () => { window.__printed += 1; };")
    button(browser, "Drucken").click()
    assert browser.execute_script("return window.__printed") == 1
    # In print, only the list with its heading, box and date is left (and a column to tick off).
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        shown = lambda css: any(e.is_displayed() for e in browser.find_elements(By.CSS_SELECTOR, css))
        assert not shown("header.site-header") and not shown("nav") and not shown("button")
        assert shown("h1") and shown("table") and shown(".list-meta")
        assert "Erledigt" in browser.find_element(By.CSS_SELECTOR, "table thead").text
    finally:
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def test_aCancelledApplicationInTheBox_isOnTheRetrievalList_andToBeRetrievedInTheGrid(server, browser):
    session = server.login_api("sachbearbeitung")
    box = demo_box(server, session)
    # An application in the box is cancelled: the document must come out.
    app, number = loaded_application(server, session)
    vn = app["vorgangsnummer"]
    status, _, _ = server.api("POST", f"/api/v1/applications/{app['id']}/cancel", {"reason": "Web-Test: zurückgenommen"}, session=session)
    assert status == 200

    login(browser, server, "sachbearbeitung")
    browser.get_log("browser")
    browser.get(server.url + f"/#/boxes/{box['id']}?list=retrieval")
    heading(browser, "Entnahmeliste")
    text_appears(browser, "Ausgabebox Foyer · Bürgeramt Mitte · Stand")
    row = wait(browser, lambda d: next((r for r in d.find_elements(By.XPATH, "//table//tbody/tr")
                                        if r.find_element(By.XPATH, "./*[1]").text == str(number)), False))
    assert "Storniert" in row.text and group_vn(vn) in row.text
    link(browser, "Entnahmeliste des Standorts als CSV herunterladen")
    assert_no_stray_words(browser)
    check_page(browser, "box-retrieval-list")

    link(browser, "Fächer").click()
    cell = compartment(browser, number)
    assert "Zu entnehmen" in cell.get_attribute("aria-label")
    cell.click()
    wait_panel(browser, "Zu entnehmen")
    wait_panel(browser, group_vn(vn))
