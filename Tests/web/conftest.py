"""pytest fixtures of the browser tests: one SMS gateway and one pickupbox server for the run, a
fresh headless Chromium per test."""

import pytest

from support import SMSGateway, Server, make_browser


@pytest.fixture(scope="session")
def gateway():
    g = SMSGateway()
    yield g
    g.close()


@pytest.fixture(scope="session")
def server(gateway):
    s = Server("main", gateway)
    yield s
    s.stop()


@pytest.fixture
def browser():
    driver = make_browser()
    yield driver
    driver.quit()
