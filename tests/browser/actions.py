"""What a test does in a page: wait for an element, find it, fill fields, read what the browsable API shows."""

import json

WAIT_SECONDS = 15


def wait_for(browser, css: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser.driver, WAIT_SECONDS).until(
        expected_conditions.presence_of_element_located((By.CSS_SELECTOR, css))
    )


def wait_until(browser, condition, what: str):
    """Poll a condition of the page (a function of the driver) until it holds; fails naming what was awaited. A page
    being replaced meanwhile (the browsable API writes its answer over the document) is polled again."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    ignored = (NoSuchElementException, StaleElementReferenceException)
    wait = WebDriverWait(browser.driver, WAIT_SECONDS, ignored_exceptions=ignored)
    return wait.until(condition, message=f"waited for {what}")


def find(browser, css: str):
    from selenium.webdriver.common.by import By

    return browser.driver.find_element(By.CSS_SELECTOR, css)


def fill(browser, values: dict[str, str]) -> None:
    for field_id, value in values.items():
        element = find(browser, f"#{field_id}")
        element.clear()
        element.send_keys(value)


def shown_json(browser) -> dict:
    """The JSON body the browsable API shows under the response's status line and headers."""
    text = find(browser, ".response-info pre").text
    return json.loads(text[text.index("{") :])


def shown_status(browser) -> str:
    """The status line the browsable API shows, e.g. "HTTP 201 Created"."""
    return find(browser, ".response-info pre").text.splitlines()[0]
