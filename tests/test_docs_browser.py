"""The whole docs site, built and opened in a real headless Chromium (Debian's ``chromium``).

Builds ``docs/`` (a copy, so the checkout is not touched) with ``dmzoo gallery build``,
with the first-party plugins, the installed ``acme`` test plugin and the in-process
``gallerytest`` plugin (real data from a loopback server, prepared through storage).
Then, over loopback: one card per datamodule, the filter works, every image loads, no
console error on any page, every internal link (and #fragment) resolves, the site needs
no network. Screenshots are saved under ``artifacts/docs/``.
"""

from __future__ import annotations

import contextlib
import functools
import io
import shutil
import threading
from collections import deque
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit
from urllib.request import urlopen

import pytest

from dmzoo.cli.main import main
from dmzoo.registry import get_registry, reset_registry
from support import gallery_plugin
from support.environment import isolate_dmzoo
from support.http_server import FileServer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    # Sphinx's own napoleon extension trips its own deprecation; not ours to fix
    pytest.mark.filterwarnings("ignore:The mapping interface for autodoc options"),
]

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "artifacts" / "docs"
CHROME_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--window-size=1300,1000")


class Site:
    def __init__(self, base: str, root: Path, keys: list[tuple[str, str]], tasks: dict[str, str]):
        self.base, self.root, self.keys, self.tasks = base, root, keys, tasks


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("docs")
    src = tmp / "repo" / "docs"
    shutil.copytree(REPO / "docs", src, ignore=shutil.ignore_patterns("_build", "gallery"))
    (tmp / "repo" / "examples").symlink_to(REPO / "examples")  # literalinclude'd by the guide
    out = tmp / "site"
    with pytest.MonkeyPatch.context() as mp, FileServer(tmp / "srv") as data_server:
        isolate_dmzoo(mp, tmp / "home")
        gallery_plugin.register(data_server)
        registry = get_registry()
        keys = registry.datamodule_keys()
        tasks = {f"{ns}/{n}": registry.default_version(ns, n).task for ns, n in keys}
        messages = io.StringIO()
        with contextlib.redirect_stderr(messages):
            rc = main(["gallery", "build", str(out), "--source", str(src), "-q",
                       "--prepare", "gallerytest/pen_digits", "--data-dir", str(tmp / "data")])
        reset_registry()
    log = messages.getvalue()
    assert rc == 0, log
    # the generated pages and the hand-written guide build clean (autodoc'd docstrings of
    # other modules are not judged here)
    ours = [line for line in log.splitlines() if "WARNING" in line and "docstring of" not in line]
    assert ours == [], log
    handler = functools.partial(_QuietHandler, directory=str(out))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Site(f"http://127.0.0.1:{server.server_port}/", out, keys, tasks)
    server.shutdown()
    server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver_path):
        pytest.skip("the browser tests need Debian's headless chromium and chromedriver, which "
                    "are not installed: run (as root) apt-get install -y chromium "
                    "chromium-driver, as .ci/run does where it can")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    profile = Path(__import__("tempfile").mkdtemp(prefix="dmzoo-chromium-"))
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


# -- helpers -----------------------------------------------------------------------------
class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.assets: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key):
                self.ids.add(a[key])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag in ("img", "script") and a.get("src"):
            self.assets.append(a["src"])
        elif tag == "link" and a.get("href"):
            self.assets.append(a["href"])


def crawl(base: str) -> tuple[dict[str, _Links], list[str]]:
    """Every HTML page reachable from the index; returns pages and broken link messages."""
    pages: dict[str, _Links] = {}
    broken: list[str] = []
    fragments: list[tuple[str, str, str]] = []
    queue = deque([urljoin(base, "index.html")])
    seen = set(queue)
    while queue:
        url = queue.popleft()
        with urlopen(url) as response:
            body = response.read().decode("utf-8")
        parser = _Links()
        parser.feed(body)
        pages[url] = parser
        for ref in parser.links + parser.assets:
            target = urljoin(url, ref)
            if not target.startswith(base):
                continue  # external (homepages, citations): not this site's to resolve
            clean, fragment = urldefrag(target)
            clean = clean.split("?")[0]
            if fragment:
                fragments.append((url, clean, fragment))
            if clean in seen:
                continue
            seen.add(clean)
            try:
                with urlopen(clean) as response:
                    status = response.status
            except OSError as exc:
                broken.append(f"{url} -> {ref}: {exc}")
                continue
            if status != 200:
                broken.append(f"{url} -> {ref}: HTTP {status}")
            elif clean.endswith(".html"):
                queue.append(clean)
    for page, target, fragment in fragments:
        if target in pages and fragment not in pages[target].ids:
            broken.append(f"{page} -> {target}#{fragment}: no such anchor")
    return pages, broken


def severe_logs(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def broken_images(driver) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.images)"
        ".filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src);")


def visible_cards(driver) -> list[str]:
    """The datamodules of the shown sphinx-design cards (grid items), by their links."""
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('.dmzoo-card'))"
        ".filter(c => !c.hidden && c.offsetParent !== null)"
        ".map(c => c.querySelector('a.sd-stretched-link').getAttribute('href')"
        ".replace(/\\.html$/, ''));")


def settles_to(driver, probe, expected, timeout: float = 10.0):
    """Wait until ``probe()`` equals ``expected`` (input events are dispatched asynchronously
    by chromedriver); return the last value, so the caller's assert shows what was seen."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    seen = []
    try:
        WebDriverWait(driver, timeout, poll_frequency=0.05).until(
            lambda _: seen.append(probe()) or seen[-1] == expected)
    except TimeoutException:
        pass
    return seen[-1]


def diagnose(driver) -> str:
    """What the browser shows, for a failure message (and a screenshot to look at)."""
    screenshot(driver, "failure")
    state = driver.execute_script(
        "return [document.readyState, document.querySelectorAll('.dmzoo-card').length,"
        " Array.from(document.querySelectorAll('.dmzoo-card')).filter(c => c.hidden).length,"
        " document.getElementById('dmzoo-count') && document.getElementById('dmzoo-count').textContent];")
    return f"url={driver.current_url} title={driver.title!r} state={state} logs={severe_logs(driver)}"


def screenshot(driver, name: str) -> Path:
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1300, min(max(height + 40, 800), 6000))
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(1300, 1000)
    return path


# -- tests -------------------------------------------------------------------------------
def test_index_shows_one_card_per_datamodule(site, browser):
    browser.get(site.base + "gallery/index.html")
    expected = sorted(f"{ns}/{n}" for ns, n in site.keys)
    seen = settles_to(browser, lambda: sorted(visible_cards(browser)), expected)
    assert seen == expected, diagnose(browser)
    count = browser.find_element("id", "dmzoo-count").text
    assert count == f"{len(expected)} of {len(expected)} datamodules"
    assert not broken_images(browser)
    assert screenshot(browser, "gallery-index").stat().st_size > 10_000
    assert severe_logs(browser) == []


def test_filter_by_task_namespace_and_text(site, browser):
    from selenium.webdriver.support.ui import Select

    browser.get(site.base + "gallery/index.html")
    cards = lambda: sorted(visible_cards(browser))  # noqa: E731
    task = Select(browser.find_element("id", "dmzoo-task"))
    task.select_by_value("image-classification")
    images = sorted(k for k, t in site.tasks.items() if t == "image-classification")
    assert settles_to(browser, cards, images) == images
    namespace = Select(browser.find_element("id", "dmzoo-namespace"))
    namespace.select_by_value("gallerytest")
    ours = ["gallerytest/broken_plot", "gallerytest/never_prepared", "gallerytest/pen_digits"]
    assert settles_to(browser, cards, ours) == ours
    query = browser.find_element("id", "dmzoo-q")
    query.send_keys("pen_digits")
    assert settles_to(browser, cards, ["gallerytest/pen_digits"]) == ["gallerytest/pen_digits"]
    assert "namespace=gallerytest" in browser.current_url  # a filtered view can be linked to
    screenshot(browser, "gallery-filtered")
    query.send_keys(" no-such-word")
    assert settles_to(browser, cards, []) == []
    assert browser.find_element("id", "dmzoo-empty").is_displayed()
    assert browser.find_element("id", "dmzoo-count").text.startswith("0 of ")
    query.clear()
    task.select_by_value("")
    namespace.select_by_value("")
    browser.execute_script("document.getElementById('dmzoo-q').dispatchEvent(new Event('input'))")
    everything = sorted(f"{ns}/{n}" for ns, n in site.keys)
    assert settles_to(browser, cards, everything) == everything
    browser.get(site.base + "gallery/index.html?namespace=acme")  # filters from the URL
    assert visible_cards(browser) == ["acme/toy"]
    assert severe_logs(browser) == []


def test_datamodule_pages_show_real_samples_or_say_why_not(site, browser):
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(site.base + "gallery/gallerytest/pen_digits.html")
    has_grid = lambda: any("pen_digits" in alt and width > 100 for alt, width in  # noqa: E731
                           browser.execute_script("return Array.from(document.images)"
                                                  ".map(i => [i.alt, i.naturalWidth]);"))
    assert settles_to(browser, has_grid, True), diagnose(browser)
    assert len(browser.find_elements("css selector", ".dmzoo-bar")) == 10
    button = browser.find_element("css selector", "div.highlight-bibtex button.dmzoo-copy")
    button.click()
    WebDriverWait(browser, 10).until(lambda _: button.text == "Copied")  # clipboard is async
    screenshot(browser, "page-prepared")
    browser.get(site.base + "gallery/gallerytest/never_prepared.html")
    body = browser.find_element("tag name", "body").text
    assert "was not prepared when this page was built" in body
    assert browser.execute_script("return document.images.length") == 0
    screenshot(browser, "page-not-prepared")
    assert severe_logs(browser) == []


def test_every_page_loads_its_images_without_console_errors(site, browser):
    pages, _ = crawl(site.base)
    assert any(url.endswith("gallery/dmzoo/mnist.html") for url in pages)
    problems = []
    for url in sorted(pages):
        browser.get(url)
        problems += [f"{url}: broken image {src}" for src in broken_images(browser)]
        problems += [f"{url}: console: {msg}" for msg in severe_logs(browser)]
    assert problems == []


def test_every_internal_link_resolves_and_nothing_is_fetched_from_the_network(site):
    pages, broken = crawl(site.base)
    assert broken == []
    expected = {"index.html", "quickstart.html", "concepts.html", "write_plugin.html", "cli.html",
                "api.html", "benchmarks.html", "building_docs.html", "gallery/index.html"}
    expected |= {f"gallery/{ns}/{n}.html" for ns, n in site.keys}
    assert expected <= {url[len(site.base):] for url in pages}
    external = [f"{url}: {asset}" for url, parsed in pages.items() for asset in parsed.assets
                if urlsplit(urljoin(url, asset)).netloc not in ("", urlsplit(site.base).netloc)]
    assert external == []  # no CDN: the site works offline


def test_cli_reference_page_is_generated_from_the_parser(site):
    """sphinx-argparse's page in the full site (tests/test_gallery.py checks every option)."""
    html = (site.root / "cli.html").read_text()
    for command in ("list", "info", "cache-list", "gallery-build", "new-plugin"):
        assert f'<section id="dmzoo-{command}">' in html, command
    assert "<kbd>--prepare</kbd>" in html and "dmzoo gallery build" in html
