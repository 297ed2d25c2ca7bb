"""Headless Chromium from Debian's packages, driven by Selenium through Debian's chromedriver; never a downloaded build."""

import os
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
)


def missing() -> str | None:
    """Why the browser tests cannot run here, or None when Chromium and chromedriver are installed."""
    absent = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        absent.append("the selenium package (requirements/dev.txt)")
    if absent:
        return f"not installed: {', '.join(absent)} (apt-get install chromium chromium-driver)"
    return None


def artifacts_dir() -> Path:
    """Where screenshots go: $ARTIFACTS_DIR, else var/screenshots/ (git-ignored)."""
    path = Path(os.environ.get("ARTIFACTS_DIR") or ROOT / "var" / "screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


class Browser:
    """One headless Chromium with a fresh profile; removed with its profile on quit()."""

    def __init__(self):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        # Selenium Manager must not look for (or fetch) a browser: both paths are given.
        os.environ.setdefault("SE_OFFLINE", "true")
        self.profile = tempfile.mkdtemp(prefix="chromium-profile-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (*FLAGS, f"--user-data-dir={self.profile}"):
            options.add_argument(flag)
        self.driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(30)

    def screenshot(self, name: str) -> Path:
        path = artifacts_dir() / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def quit(self) -> None:
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)
