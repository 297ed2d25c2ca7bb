"""Helpers for the browser end-to-end tests (tests/e2e/test_browser.py): Debian's Chromium through Selenium."""
