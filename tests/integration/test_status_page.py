"""
The status page in a real browser: a running service fills the state store, headless Chromium reads the page.

The service (`python -m worker run`, embedded mode) polls a local feed whose
articles give three new records, one duplicate and one dead letter (a 404
page), and a second source that answers 404.  `python -m worker status`
serves the page; Selenium drives the distribution's chromedriver and the test
checks what a person sees against what the store holds.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import CLI, free_port, wait_for
from tests.integration.httpserver import HTTPTestServer, Response, static
from tests.integration.test_service import start, stop
from tests.support.corpus import article_page, rss_feed
from worker.app.status import MINUTES, minute_label
from worker.config import Settings
from worker.state.redis import RedisStore
from worker.state.sqlite import SQLiteStore

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOT = Path("/tmp/status-page.png")  # looked at by hand, never committed

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not CHROMEDRIVER.exists(),
        reason="no /usr/bin/chromedriver: apt-get install chromium chromium-driver (.ci/run does)",
    ),
]

# Every switch that keeps a headless Chromium from reaching out or needing a sandbox (root in CI).
CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,2200",
)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Start headless Chromium through the distribution's chromedriver, with a fresh profile."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (*CHROMIUM_ARGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(arg)
    service = Service(executable_path=str(CHROMEDRIVER), log_output=str(tmp_path / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def serve_site(server: HTTPTestServer) -> tuple[str, str]:
    """Serve a feed (3 articles, a copy of one, a missing page) and a missing feed; return both URLs."""
    base = server.url("").rstrip("/")
    server.route("/feed.xml", static(rss_feed(base, [1, 2, 3, 4, 5]), content_type="application/rss+xml"))
    for i in (1, 2, 3):
        server.route(f"/article/{i}", static(article_page(i), content_type="text/html; charset=utf-8"))
    # The same bytes as article 1 under another URL: a duplicate.
    server.route("/article/4", static(article_page(1), content_type="text/html; charset=utf-8"))
    server.route("/article/5", lambda _: Response(status=404, body=b"gone"))
    server.route("/missing.xml", lambda _: Response(status=404, body=b"no feed here"))
    return server.url("/feed.xml"), server.url("/missing.xml")


@pytest.fixture
def service(
    cli: CLI, base_env: dict[str, str], http_server: HTTPTestServer, tmp_path: Path
) -> Iterator[tuple[dict[str, str], SQLiteStore]]:
    """Register both sources and run the service until the store holds everything; yield its env and store."""
    feed, missing = serve_site(http_server)
    env = {**base_env, "INGEST_TICK_S": "1", "INGEST_NER_LANGUAGES": ""}
    (tmp_path / "schedules").mkdir()
    for url, name in ((feed, "Example Times"), (missing, "Broken Feed")):
        added = cli("sources", "add", url, "--no-check", "--name", name, env=env)
        assert 0 == added.returncode, added.stderr
    log = tmp_path / "run.log"
    proc = start([sys.executable, "-m", "worker", "run", "--concurrency", "1"], env, log)
    store = SQLiteStore(Path(env["INGEST_STATE_DIR"]) / "state.sqlite3")

    def settled() -> bool:
        counts = store.counters()
        broken = store.get_feed(missing) or {}
        return (
            counts.get("articles_new") == 3
            and counts.get("articles_duplicate") == 1
            and len(store.dead_letters()) == 1
            and broken.get("errors", 0) >= 1
        )

    try:
        assert wait_for(settled, timeout=180), log.read_text(errors="replace")[-4000:]
        yield env, store
    finally:
        stop(proc)
        store.close()


@pytest.fixture
def status_url(service: tuple[dict[str, str], SQLiteStore], tmp_path: Path) -> Iterator[str]:
    """Start `python -m worker status` on a free port; return the page's URL once it answers."""
    env, _ = service
    port = free_port()
    log = tmp_path / "status.log"
    proc = start([sys.executable, "-m", "worker", "status", "--port", str(port)], env, log)
    try:
        assert wait_for(lambda: "status page on" in log.read_text(errors="replace"), timeout=60), (
            log.read_text()
        )
        yield f"http://127.0.0.1:{port}/"
    finally:
        stop(proc)


def text_of(driver: Any, css: str) -> list[str]:
    """Return the visible text of every element matching `css`."""
    from selenium.webdriver.common.by import By

    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, css)]


class TestStatusPage:
    def test_a_person_sees_sources_throughput_and_dead_letters(
        self, browser: Any, status_url: str, service: tuple[dict[str, str], SQLiteStore]
    ) -> None:
        """Each source with its state and error, the hour's charts and figures, dead letters by reason."""
        from selenium.webdriver.common.by import By

        _, store = service
        first = int(time.time() // 60) - MINUTES + 1
        new = store.timeline("articles_new", first)
        duplicate = store.timeline("articles_duplicate", first)
        broken = store.get_feed(next(u for u in store.feed_urls() if u.endswith("/missing.xml"))) or {}
        [letter] = store.dead_letters()

        browser.get(status_url)
        rows = browser.find_elements(By.CSS_SELECTOR, "#sources tbody tr")
        cells = [[c.text for c in r.find_elements(By.CSS_SELECTOR, "th, td")] for r in rows]
        browser.find_element(By.CSS_SELECTOR, "#minutes summary").click()
        minutes = [r.split() for r in text_of(browser, "#minutes tbody tr")]
        browser.save_screenshot(str(SCREENSHOT))

        assert "News ingest status" == browser.find_element(By.TAG_NAME, "h1").text
        # The failing source first, with its status word, code and error; the healthy one after it.
        assert [["Broken Feed", "feed"], ["Example Times", "feed"]] == [c[0].splitlines() for c in cells]
        assert ["failing HTTP 404", broken["last_error"]] == cells[0][2].splitlines()
        assert str(broken["errors"]) == cells[0][6]
        assert "ok HTTP 200" == cells[1][2]
        assert cells[1][4].endswith("ago") or cells[1][4] == "just now"
        assert cells[0][4] == "none in 30 days"
        # The charts: bars whose figures add up to the store's, and the same figures as text.
        new_bars = browser.find_elements(By.CSS_SELECTOR, "#chart-new rect.bar")
        assert sum(new.values()) == sum(int(b.get_attribute("data-value")) for b in new_bars) == 3
        assert browser.find_elements(By.CSS_SELECTOR, "#chart-duplicates rect.bar")
        assert text_of(browser, "#caption-new")[0].startswith("New articles: 3 in the last hour")
        assert text_of(browser, "#caption-duplicates") == [
            "Duplicate rate: 1 duplicate of 4 processed articles (25.0%)."
        ]
        assert ["3"] == text_of(browser, "#card-new .figure")
        assert MINUTES == len(minutes)
        shown = {m[0]: (int(m[1]), int(m[2])) for m in minutes if m[1:3] != ["0", "0"]}
        expected = {
            minute_label(m): (new.get(m, 0), duplicate.get(m, 0)) for m in sorted(set(new) | set(duplicate))
        }
        assert expected == shown
        # Dead letters by reason: the 404 page, counted once, its URL among the newest.
        [dead_row] = browser.find_elements(By.CSS_SELECTOR, "#dead tbody tr")
        reason, count, stages, newest = (c.text for c in dead_row.find_elements(By.CSS_SELECTOR, "th, td"))
        assert (letter.reason, "1", "fetch") == (reason, count, stages)
        assert newest.endswith("fetch · Example Times · " + letter.payload["url"])

    def test_the_page_reads_a_redis_store_too(
        self, browser: Any, base_env: dict[str, str], redis_url: str, tmp_path: Path
    ) -> None:
        """With REDIS_URL the page shows Redis: the subscribed sources, the hour, the dead letters."""
        from selenium.webdriver.common.by import By

        store = RedisStore(redis_url, prefix=Settings.model_fields["key_prefix"].default)
        now = time.time()
        spec = {
            "kind": "feed",
            "name": "Redis Feed",
            "location": "http://h/r.xml",
            "tz": "UTC",
            "interval_s": None,
        }
        store.put_feed(
            "http://h/r.xml",
            {
                "spec": spec,
                "last_polled": int(now),
                "last_status": 503,
                "errors": 10,
                "disabled": "10 consecutive errors",
            },
        )
        # Read once by `ingest`, never subscribed: not a source of the page, as not of `sources list`.
        store.put_feed(
            "http://h/once.xml", {"spec": {**spec, "name": "Once", "location": "http://h/once.xml"}}
        )
        store.record("articles_new", int(now // 60), 7)
        store.dead_letter("ParseError: not an article", "clean", "Redis Feed", {"url": "http://h/a"})
        env = {**base_env, "REDIS_URL": redis_url}
        port = free_port()
        log = tmp_path / "status.log"
        proc = start([sys.executable, "-m", "worker", "status", "--port", str(port)], env, log)
        try:
            assert wait_for(lambda: "status page on" in log.read_text(errors="replace"), timeout=60), (
                log.read_text()
            )
            browser.get(f"http://127.0.0.1:{port}/")
            [row] = browser.find_elements(By.CSS_SELECTOR, "#sources tbody tr")
            cells = [c.text for c in row.find_elements(By.CSS_SELECTOR, "th, td")]
            mode = browser.find_element(By.CSS_SELECTOR, ".meta").text
            bars = browser.find_elements(By.CSS_SELECTOR, "#chart-new rect.bar")
            dead = text_of(browser, "#dead tbody th")
        finally:
            stop(proc)
            store.close()

        assert mode.startswith("State store: Redis ·")
        assert ["Redis Feed", "feed"] == cells[0].splitlines()
        assert ("disabled HTTP 503", "not scheduled", "10 consecutive errors") == (
            cells[2],
            cells[5],
            cells[7],
        )
        assert ["7"] == [b.get_attribute("data-value") for b in bars]
        assert ["ParseError: not an article"] == dead
