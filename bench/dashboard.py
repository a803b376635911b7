#!/usr/bin/env python3
"""make bench, dashboard section: how long the dashboard takes with the data bench/seed_dashboard.sql
made. The API (GET /api/v1/dashboard and a box's forecast, sequential, server time as the client sees
it) and the page in headless Chromium (navigation to the last chart drawn, as a caseworker waits).
Loopback only; bounded by --runs."""
import argparse
import json
import statistics
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "Tests" / "web"))
from selenium.webdriver.common.by import By  # noqa: E402

from support import make_browser, wait  # noqa: E402

p = argparse.ArgumentParser()
p.add_argument("--port", type=int, required=True)
p.add_argument("--cookie", required=True)
p.add_argument("--password", required=True, help="the caseworker's password (for the browser's login)")
p.add_argument("--runs", type=int, default=20)
args = p.parse_args()
base = f"http://127.0.0.1:{args.port}"


def get(path):
    req = urllib.request.Request(base + path, headers={"Cookie": args.cookie, "Accept-Encoding": "gzip"})
    start = time.perf_counter()
    with urllib.request.urlopen(req, timeout=60) as r:
        body = r.read()
    return (time.perf_counter() - start) * 1000, body, r.headers


def summary(name, ms):
    ms = sorted(ms)
    print(f"{name}: n={len(ms)} p50 {statistics.median(ms):.1f} ms, p90 {ms[int(len(ms) * 0.9) - 1]:.1f} ms, max {ms[-1]:.1f} ms")


_, body, _ = get("/api/v1/boxes")
boxes = json.loads(body if body[:1] != b"\x1f" else __import__("gzip").decompress(body))
times, size = [], 0
for _ in range(args.runs):
    ms, body, headers = get("/api/v1/dashboard")
    times.append(ms)
    size = len(body)
summary(f"GET /api/v1/dashboard ({size} bytes gzip-coded)", times)
times = [get(f"/api/v1/boxes/{boxes[0]['id']}/forecast")[0] for _ in range(args.runs)]
summary("GET /api/v1/boxes/{id}/forecast", times)

driver = make_browser()
try:
    driver.get(base + "/")
    wait(driver, lambda d: d.find_elements(By.ID, "authority") or d.find_elements(By.CSS_SELECTOR, "input[name=authority]"), 20)
    driver.find_element(By.CSS_SELECTOR, "input[name=authority]").clear()
    driver.find_element(By.CSS_SELECTOR, "input[name=authority]").send_keys("demo")
    driver.find_element(By.CSS_SELECTOR, "input[name=username]").send_keys("sachbearbeitung")
    driver.find_element(By.CSS_SELECTOR, "input[name=password]").send_keys(args.password + "\n")
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "nav.main-nav"), 30)
    page = []
    for _ in range(min(args.runs, 10)):
        start = time.perf_counter()
        driver.get(base + "/#/")
        driver.refresh()
        # Drawn: the three charts of the last 30 days and one forecast chart per box are on the page.
        wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "main svg[role=img]")) >= 3 + len(boxes), 60)
        page.append((time.perf_counter() - start) * 1000)
    summary("dashboard page in headless Chromium, reload to every chart drawn", page)
finally:
    driver.quit()
