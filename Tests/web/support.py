"""Shared pieces of the browser tests: a loopback SMS gateway, the pickupbox server, Chromium, and
the checks every page must pass (axe-core, console, page weight). Elements are found as a person
finds them: fields by their label text, buttons and links by their visible text."""

import json
import os
import random
import re
import socket
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(os.environ.get("PICKUPBOX_BIN", ROOT / ".build" / "debug" / "pickupbox"))
SCREENSHOTS = ROOT / ".pickupbox" / "screenshots"
AXE_SCRIPT = None


def free_port():
    """A free loopback port for a server. pickupbox binds with SO_REUSEPORT, so two of its servers could
    share a port unseen: each pytest-xdist worker picks from its own range below the ephemeral ports
    (where browsers and drivers get theirs); a port a server of the same worker holds fails the bind here."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker.startswith("gw") and worker[2:].isdigit():
        base = 20000 + 1000 * (int(worker[2:]) % 12)
        for port in random.sample(range(base, base + 1000), 1000):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                    return port
                except OSError:
                    continue
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SMSGateway:
    """A real HTTP server speaking the webhook provider's protocol: POST {to, text, reference} with a
    bearer token; answers {"id": …}. Keeps every message for the tests to read PINs from."""

    TOKEN = "web-test-gateway-token"

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if self.headers.get("Authorization") != f"Bearer {SMSGateway.TOKEN}":
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                message = json.loads(body)
                with gateway.lock:
                    gateway.messages.append(message)
                    n = len(gateway.messages)
                reply = json.dumps({"id": f"msg-{n}"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, predicate, timeout=20):
        """The first message for which predicate(message) is true."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                for m in self.messages:
                    if predicate(m):
                        return m
            time.sleep(0.1)
        raise AssertionError(f"no such SMS within {timeout} s; got {len(self.messages)} messages")

    def pin_for(self, number_e164, after=0, timeout=20):
        """The 6-digit PIN of the newest message to that number sent after message index `after`."""
        m = self.wait_for(lambda m: m["to"] == number_e164 and self.messages.index(m) >= after and re.search(r"PIN\D{0,40}\d{6}\b", m["text"]), timeout)
        return re.search(r"PIN\D{0,40}(\d{6})\b", m["text"]).group(1)

    def close(self):
        self.server.shutdown()


class Server:
    """`pickupbox serve --demo` on a free loopback port with its own embedded PostgreSQL."""

    def __init__(self, name, gateway, extra_env=None):
        # One directory per run (several runs may share a checkout); removed when the server stops.
        self.data = ROOT / ".pickupbox" / f"web-{name}-{os.getpid()}"
        self.remove_data()
        self.data.mkdir(parents=True)
        self.log_path = self.data / "server.log"
        # The port is picked free, then bound by the server: another process can take it in between, so a
        # bind refused as in use is tried again on another port.
        for _ in range(3):
            if self.start(gateway, extra_env):
                break
        else:
            raise RuntimeError("no free port in three tries:\n" + self.log_path.read_text())
        self.read_start_log()

    def start(self, gateway, extra_env):
        """Starts the server on a free port; False when that port was taken meanwhile."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.update({
            "PICKUPBOX_DATA_DIR": str(self.data),
            "PICKUPBOX_PUBLIC_URL": self.url,
            "SMS_PROVIDER": "webhook",
            "SMS_URL": gateway.url,
            "SMS_TOKEN": SMSGateway.TOKEN,
            "SMS_RETRY_BASE_MS": "200",
            "LOG_LEVEL": "info",
            "ACCESS_LOG": "off",
        })
        env.update(extra_env or {})
        # Appended: the demo's passwords are printed by the first try only (it seeds before it binds).
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.log = open(self.log_path, "a")
        # Started from an unrelated directory: the binary finds its web files by itself.
        self.process = subprocess.Popen([str(BIN), "serve", "--demo", "--port", str(self.port)],
                                        cwd="/", env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                written = self.log_path.read_bytes()
                if b"Address already in use" in written[offset:]:
                    self.log.close()
                    return False
                raise RuntimeError("server exited:\n" + written.decode("utf-8", "replace"))
            if "pickupbox is serving" in self.log_path.read_text():
                return True
            time.sleep(0.1)
        raise RuntimeError("server did not start:\n" + self.log_path.read_text())

    def read_start_log(self):
        text = self.log_path.read_text()
        self.passwords = dict(re.findall(r"username (\S+)\s+password (\S+)", text))
        token = re.search(r"box token\s+([A-Za-z0-9_-]{20,})", text)
        self.box_token = token.group(1) if token else None

    def api(self, method, path, body=None, session=None, headers=None):
        """A plain HTTP call (set-up and checks beside the browser); returns (status, json-or-text, headers)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if session:
            req.add_header("Cookie", session["cookie"])
            req.add_header("X-CSRF-Token", session["csrf"])
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw, status, h = r.read(), r.status, r.headers
        except urllib.error.HTTPError as e:
            raw, status, h = e.read(), e.code, e.headers
        ctype = h.get("Content-Type", "")
        return status, (json.loads(raw) if raw and "json" in ctype else raw.decode("utf-8", "replace")), h

    def login_api(self, username):
        """A session over plain HTTP: {"cookie": …, "csrf": …}."""
        data = json.dumps({"authority": "demo", "username": username, "password": self.passwords[username]}).encode()
        req = urllib.request.Request(self.url + "/api/v1/auth/login", data=data, method="POST", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            cookie = r.headers["Set-Cookie"].split(";")[0]
            return {"cookie": cookie, "csrf": json.loads(r.read())["csrfToken"]}

    def remove_data(self):
        if self.data.exists():
            link = self.data / "postgres"
            if link.is_symlink():
                subprocess.run(["rm", "-rf", os.path.realpath(link)], check=False)
            subprocess.run(["rm", "-rf", str(self.data)], check=True)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
        if os.environ.get("KEEP_WEB_TEST_DATA") != "1":
            self.remove_data()


def make_browser(width=1280, height=900, javascript=True, language="de-DE"):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", f"--window-size={width},{height}",
                f"--lang={language}", "--disable-features=Translate", "--no-first-run", "--password-store=basic"]:
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": language, "webkit.webprefs.javascript_enabled": javascript,
                                              "profile.managed_default_content_settings.javascript": 1 if javascript else 2})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    return driver


# --- finding things as a person would -------------------------------------------------------------

def xpath_literal(text):
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    return "concat('" + text.replace("'", "', \"'\", '") + "')"


def wait(driver, condition, timeout=10, message=""):
    # A page that re-renders replaces its elements: a stale one means "look again", not "failed".
    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(condition, message)


def field(driver, label, timeout=10):
    """The form control whose <label> reads `label` (exactly, ignoring surrounding spaces)."""
    def find(d):
        for lab in d.find_elements(By.XPATH, f"//label[normalize-space()={xpath_literal(label)}]"):
            target = lab.get_attribute("for")
            if target:
                els = d.find_elements(By.ID, target)
                if els and els[0].is_displayed() or (els and els[0].get_attribute("type") in ("checkbox", "radio")):
                    return els[0]
        return False
    try:
        return wait(driver, find, timeout)
    except TimeoutException:
        raise AssertionError(f"no field labelled {label!r} on {driver.current_url}")


def button(driver, text, timeout=10):
    """A visible, enabled button (or link styled as one) whose visible text is `text`."""
    lit = xpath_literal(text)
    def find(d):
        for el in d.find_elements(By.XPATH, f"//button[normalize-space()={lit}] | //a[normalize-space()={lit}] | //input[@type='submit' and @value={lit}]"):
            if el.is_displayed() and el.is_enabled():
                return el
        return False
    try:
        return wait(driver, find, timeout)
    except TimeoutException:
        raise AssertionError(f"no button {text!r} on {driver.current_url}")


def link(driver, text, timeout=10):
    lit = xpath_literal(text)
    try:
        return wait(driver, lambda d: next((el for el in d.find_elements(By.XPATH, f"//a[normalize-space()={lit}]") if el.is_displayed()), False), timeout)
    except TimeoutException:
        raise AssertionError(f"no link {text!r} on {driver.current_url}")


def text_appears(driver, text, timeout=10):
    """Waits until `text` is part of the page's visible text."""
    try:
        wait(driver, lambda d: text in d.find_element(By.TAG_NAME, "body").text, timeout)
    except TimeoutException:
        body = driver.find_element(By.TAG_NAME, "body").text
        raise AssertionError(f"{text!r} did not appear on {driver.current_url}; page text:\n{body[:3000]}")


def heading(driver, text, timeout=10):
    lit = xpath_literal(text)
    try:
        return wait(driver, lambda d: next((el for el in d.find_elements(By.XPATH, f"//h1[normalize-space()={lit}] | //h2[normalize-space()={lit}]") if el.is_displayed()), False), timeout)
    except TimeoutException:
        raise AssertionError(f"no heading {text!r} on {driver.current_url}")


def fill(driver, label, value):
    el = field(driver, label)
    el.clear()
    el.send_keys(value)
    return el


def login(driver, server, username, language="de"):
    """Logs in through the login page (the German or English labels)."""
    driver.get(server.url + "/")
    labels = {"de": ("Behörde (Kurzname)", "Benutzername", "Passwort", "Anmelden"),
              "en": ("Authority (short name)", "Username", "Password", "Log in")}[language]
    fill(driver, labels[0], "demo")
    fill(driver, labels[1], username)
    fill(driver, labels[2], server.passwords[username])
    button(driver, labels[3]).click()
    wait(driver, lambda d: "#/login" not in d.current_url and d.find_elements(By.CSS_SELECTOR, "nav.main-nav"), 15, "login did not finish")


# --- what every page must pass --------------------------------------------------------------------

def axe_source():
    """axe-core's script: the current 4.x that axe-playwright-python ships (installed without playwright),
    else the 3.x bundled with axe-selenium-python."""
    import importlib.util
    spec = importlib.util.find_spec("axe_playwright_python")
    if spec and spec.origin:
        path = Path(spec.origin).parent / "axe.min.js"
        if path.exists():
            return path.read_text(encoding="utf8")
    import axe_selenium_python
    return (Path(axe_selenium_python.__file__).parent / "node_modules" / "axe-core" / "axe.min.js").read_text(encoding="utf8")


def axe(driver, name):
    """axe-core on the current page: no serious or critical violation (WCAG 2.1 A/AA rules and best practices)."""
    global AXE_SCRIPT
    if AXE_SCRIPT is None:
        AXE_SCRIPT = axe_source()
    driver.execute_script(AXE_SCRIPT)
    result = driver.execute_async_script("const done = arguments[arguments.length - 1]; axe.run(document, {resultTypes: ['violations']}).then(done, (e) => done({error: String(e)}));")
    assert "error" not in result, result
    bad = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"axe on {name}: " + "; ".join(f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}" for v in bad)
    return result["violations"]


def console_errors(driver):
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def assert_no_console_errors(driver, name, allow=()):
    errors = [e for e in console_errors(driver) if not any(a in e["message"] for a in allow)]
    assert not errors, f"console errors on {name}: {errors}"


def transferred_bytes(driver):
    """Bytes the page's first load transferred (navigation + every resource), from the Performance API."""
    return driver.execute_script("""
        const nav = performance.getEntriesByType('navigation')[0];
        let total = nav ? (nav.transferSize || nav.encodedBodySize || 0) : 0;
        for (const r of performance.getEntriesByType('resource')) total += (r.transferSize || r.encodedBodySize || 0);
        return total;""")


def screenshot(driver, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    # The whole page, not just the window.
    height = driver.execute_script("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
    width = driver.get_window_size()["width"]
    driver.set_window_size(width, min(max(900, height + 200), 6000))
    # axe scrolls while it checks contrast: the picture starts at the top.
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(str(path))
    return path


def check_page(driver, name, max_bytes=200_000, allow_console=()):
    """The checks of every page: axe, console, weight, screenshot."""
    violations = axe(driver, name)
    assert_no_console_errors(driver, name, allow_console)
    weight = transferred_bytes(driver)
    assert weight <= max_bytes, f"{name}: first load transferred {weight} bytes (limit {max_bytes})"
    screenshot(driver, name)
    return violations
