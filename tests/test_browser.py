"""A real browser: start the app on a fresh store, draw a digit on the shipped demo models, see member
probabilities, plant drawn digits, attack, and open every page's link in a new session.

Screenshots of every page land in test-artifacts/ (kept by CI as artifacts)."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from mia_core.drawing.handwriting import pen_path

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium")
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]

if CHROMIUM is None and os.environ.get("CI"):
    pytest.fail("chromium is not installed: the browser test must run in CI (make test installs it)",
                pytrace=False)
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def app_server(env: dict) -> Iterator[str]:
    """`streamlit run app.py` on a free port with `env` added; its URL once it answers its health check."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.address",
         "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"], cwd=ROOT, env={**os.environ, **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the app did not answer its health check within a minute")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module: Playwright's sync API allows one instance at a time."""
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def page(app_url, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 2800})
    yield page
    page.close()


def wait_ready(page, timeout_s: float = 240) -> None:
    """Connected, script finished, no skeletons left (as in Streamlit's own end-to-end tests)."""
    page.wait_for_function(
        """() => {
            const app = document.querySelector("[data-testid='stApp']");
            return app && app.dataset.testConnectionState === 'CONNECTED'
                && app.dataset.testScriptState === 'notRunning'
                && !document.querySelector("[data-testid='stSkeleton']");
        }""", timeout=timeout_s * 1000, polling=100)  # every 100 ms, not every frame: it stays cheap
    settled(page)


def settled(page, quiet_ms: int = 250, most_ms: int = 3000) -> None:
    """Once the page's DOM (and each open shadow root's) has not changed for `quiet_ms` (charts, images and
    components draw after the script has finished), or after `most_ms` at most (a job's status redraws while it
    runs)."""
    page.evaluate("""([quiet, most]) => new Promise(resolve => {
        const done = () => { observer.disconnect(); clearTimeout(timer); clearTimeout(cap); resolve(); };
        const observer = new MutationObserver(() => { clearTimeout(timer); timer = setTimeout(done, quiet); });
        let timer = setTimeout(done, quiet);
        const cap = setTimeout(done, most);
        const what = {subtree: true, childList: true, attributes: true, characterData: true};
        observer.observe(document.body, what);
        for (const el of document.querySelectorAll("*")) {  // components draw inside their own shadow roots
            if (el.shadowRoot) observer.observe(el.shadowRoot, what);
        }
    })""", [quiet_ms, most_ms])


def open_page(page, url: str, path: str = "") -> None:
    page.goto(f"{url}/{path}")
    wait_ready(page)
    assert page.locator("[data-testid='stException']").count() == 0


def test_draw_on_the_shipped_models_and_see_member_probabilities(app_url, page):
    open_page(page, app_url)
    assert page.get_by_text("Demo models are ready").count() == 1  # a fresh clone: nothing to build, no wait
    page.screenshot(path=ARTIFACTS / "1-overview.png", full_page=True)

    open_page(page, app_url, "membership")
    assert page.get_by_text("Draw a digit in the black square").count() == 1  # blank canvas: a hint
    canvas = page.locator("canvas.upper-canvas").first
    box = canvas.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.15
    page.mouse.move(x, y)
    page.mouse.down()
    for dy in (0.35, 0.6, 0.85):  # a "1", stroke by stroke
        page.mouse.move(x + 5, box["y"] + box["height"] * dy, steps=8)
    page.mouse.up()
    page.get_by_text("Member probability", exact=True).wait_for(timeout=60_000)
    wait_ready(page)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.get_by_text("Draw a digit in the black square").count() == 0
    assert page.get_by_text("what the model sees").count() == 1
    page.screenshot(path=ARTIFACTS / "4-membership.png", full_page=True)


def draw(page, path: list[tuple[float, float]]) -> None:
    """One pen stroke along `path` (unit-square points) on the page's canvas."""
    box = page.locator("canvas.upper-canvas").first.bounding_box()
    at = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in path]
    page.mouse.move(*at[0])
    page.mouse.down()
    for point in at[1:]:
        page.mouse.move(*point, steps=6)
    page.mouse.up()


def table_rows(page) -> dict[str, list[str]]:
    """The first st.table's rows, keyed by their first cell."""
    rows = {}
    for row in page.locator("[data-testid='stTable'] tbody tr").all():
        cells = [c.inner_text().strip() for c in row.locator("th, td").all()]
        rows[cells[1] if cells[0].isdigit() else cells[0]] = cells
    return rows


def test_plant_two_drawn_digits_keep_the_same_two_out_and_see_each_attack_beside_its_baseline(app_url, page):
    open_page(page, app_url, "membership?mode=plant")
    page.get_by_role("button", name="Plant it").click()  # nothing drawn yet: a message, nothing added
    page.get_by_text("Draw a digit in the black square first").wait_for()
    plan = [(label, True) for label in range(2)] + [(label, False) for label in range(2)]  # the same digits each side
    for i, (label, planted) in enumerate(plan):
        for _ in range(3):  # a canvas that has only just replaced the last one may miss a stroke: draw again
            draw(page, pen_path(label, seed=i))
            wait_ready(page)  # each stroke, and each choice below, reruns the page: act once it has
            if page.get_by_text("what the target would learn").count():
                break
        page.locator("[data-testid='stSelectbox']").first.click()
        page.get_by_role("option", name=str(label), exact=True).click()
        wait_ready(page)
        page.get_by_role("button", name="Plant it" if planted else "Keep it out").click()
        page.get_by_text(f"#{i + 1}: a {label}").wait_for(timeout=30_000)
        wait_ready(page)
    page.screenshot(path=ARTIFACTS / "9-plant-drawn.png", full_page=True)

    page.get_by_role("button", name="Train a target with my planted digits").click()
    page.get_by_text("Your target", exact=True).wait_for(timeout=300_000)
    wait_ready(page)
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=ARTIFACTS / "10-plant-result.png", full_page=True)
    # each drawing's verdict at 1% FPR, and each attack beside its baseline: the same drawings on the target
    # trained without them
    page.get_by_text("the coin-flip band's top corrected for picking the best of").first.wait_for()
    page.get_by_text("the same drawings on the target trained without them").first.wait_for()
    assert page.get_by_text("baseline AUC (target without them) [95%]").count() == 1
    assert page.get_by_text("flagged", exact=False).count() >= 1
    page.get_by_text("LiRA's picture of each drawing").click()
    wait_ready(page)
    page.set_viewport_size({"width": 1280, "height": 720})  # on a projector: the result fits its width
    wait_ready(page)
    page.screenshot(path=ARTIFACTS / "verdict-plant.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1400, "height": 2800})

    page.get_by_role("button", name="Forget my drawings").click()
    page.get_by_text("No drawings yet").wait_for()
    assert page.get_by_text("Your target").count() == 0


def test_attack_page_runs_and_charts(app_url, page):
    open_page(page, app_url, "attack")
    page.get_by_role("button", name="Run the attack").click()
    page.get_by_text("Most exposed training digits").wait_for(timeout=300_000)
    wait_ready(page)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator(".js-plotly-plot").count() >= 4  # per-run metrics, ROC, histograms, exposed digits
    page.screenshot(path=ARTIFACTS / "3-attack-run.png", full_page=True)


NAVIGATION = ["Overview", "Beat the attack", "Targets", "Attack", "Membership test", "Defences", "Experiments"]
LINKS = {"": "Was this digit in the training set?", "game": "Beat the attack", "targets": "Targets", "attack": "Attack",
         "membership": "Membership test", "defences": "Defences", "experiments": "Experiments"}
SHOTS = {"targets": "2-targets.png", "attack": "3-attack.png", "defences": "6-defences.png",
         "experiments": "5-experiments.png"}


def new_session(browser, url: str, path: str):
    """A new browser session's first request: `url/path`, in a page of its own."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/{path}")
    return page


def opened_inside_the_app(page, path: str, screenshot: str | None = None, navigation: list[str] = NAVIGATION) -> None:
    """The page's title, inside the app's `navigation`, without an exception; then the page is closed."""
    page.locator("h1", has_text=LINKS[path]).first.wait_for(timeout=60_000)  # after the page's rerun into the app
    wait_ready(page)
    links = page.locator("[data-testid='stSidebarNavLink']")
    assert [links.nth(i).inner_text().split("\n")[-1].strip() for i in range(links.count())] == navigation
    assert page.locator("h1").first.inner_text().strip() == LINKS[path]
    assert page.locator("[data-testid='stException']").count() == 0, path
    if screenshot:
        page.screenshot(path=ARTIFACTS / screenshot, full_page=True)
    page.close()


def test_every_page_link_opens_inside_the_app_in_a_new_session(app_url, browser):
    """Each page's link, as a new attendee's first request to a running server: all of them at once, as a room
    opens them."""
    pages = {path: new_session(browser, app_url, path) for path in LINKS}
    for path, page in pages.items():
        opened_inside_the_app(page, path, SHOTS.get(path))
