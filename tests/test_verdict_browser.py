"""The verdict as a room sees it: on a 1280x720 projector the canvas, and a drawn digit's verdict card beside it
within 20 s, lie above the fold; on a phone with touch (390x664, an iPhone 13) the whole canvas is in view as the
page opens, and after a stroke a line per target stays at the foot of the screen, clear of the canvas and its
toolbar; every attack's chart keeps its legend clear of a table's toolbar; no sideways scroll; a picked pool digit's
verdict says right or wrong.

Screenshots (the visible screen, not the whole page) land in test-artifacts/."""


import pytest

import test_browser as tb
from mia_core.drawing.handwriting import pen_path

playwright = pytest.importorskip("playwright.sync_api")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(tb.CHROMIUM is None, reason="Debian's chromium is not installed")]
VERDICT = ".st-key-verdict"
PIN = ".st-key-verdict_pin"  # a phone's one line per target, kept in view
CANVAS = "canvas.upper-canvas"  # the layer of the drawing canvas that takes the strokes
PHONE = "iPhone 13"  # Playwright's device: a 390x664 screen under the browser's bars, touch, 3 pixels per point
SAID = ("flagged as a member", "not flagged")


@pytest.fixture(scope="module")
def chromium():
    tb.ARTIFACTS.mkdir(exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=tb.CHROMIUM, args=tb.FLAGS)
        yield p, browser
        browser.close()


def wait_for_verdict(page, timeout_s: float = 20) -> str:
    """The card's text once it holds a verdict (within `timeout_s`) and the run that wrote it has finished (a stroke
    the canvas sends late reruns the page, and the card is written anew)."""
    page.wait_for_function(
        """(said) => {
            const card = document.querySelector('.st-key-verdict');
            return card && said.some(s => card.innerText.includes(s))
                && !card.innerText.includes('Draw a digit');
        }""", arg=list(SAID), timeout=timeout_s * 1000, polling=100)
    tb.wait_ready(page)
    return page.locator(VERDICT).inner_text()


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def on_first_screen(page, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    height = page.viewport_size["height"]
    return box is not None and 0 <= box["y"] and box["y"] + min(box["height"], 60) <= height


def box(page, selector: str) -> dict:
    return page.locator(selector).first.bounding_box()


def bottom(b: dict) -> float:
    return b["y"] + b["height"]


def wholly_in_view(page, selector: str) -> bool:
    b = box(page, selector)
    return b is not None and 0 <= b["y"] and bottom(b) <= page.viewport_size["height"]


def touch_stroke(context, page, path: list[tuple[float, float]]) -> None:
    """One finger stroke along `path` (unit-square points) on the canvas, through the DevTools protocol."""
    box = page.locator("canvas.upper-canvas").first.bounding_box()
    at = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in path]
    cdp = context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": at[0][0], "y": at[0][1]}]})
    for x, y in at[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_projector_a_drawn_digit_gets_its_verdict_above_the_fold(app_url, chromium):
    _, browser = chromium
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    tb.open_page(page, app_url, "membership?digit=draw")
    assert "Draw a digit" in page.locator(VERDICT).inner_text()  # the card is there before any drawing
    assert wholly_in_view(page, CANVAS)  # the whole canvas above the fold, before any scrolling
    tb.draw(page, pen_path(3, seed=0))
    text = wait_for_verdict(page)
    tb.wait_ready(page)
    page.screenshot(path=tb.ARTIFACTS / "verdict-1280x720.png")
    assert all(target in text for target in ("demo-overfit", "demo-defended")), text
    assert "RIGHT" in text or "WRONG" in text  # a drawing is a non-member of every model: the truth is known
    assert wholly_in_view(page, VERDICT) and wholly_in_view(page, CANVAS)  # the canvas and the whole card
    assert page.locator(PIN).is_hidden()  # the card beside the canvas says it all
    assert no_sideways_scroll(page)
    assert page.locator("[data-testid='stException']").count() == 0
    page.close()


def uncovered(page, selector: str, points: list[tuple[float, float]]) -> bool:
    """Whether a finger at each of `points` (unit-square points of the element) touches the element itself."""
    return page.locator(selector).first.evaluate("""(el, points) => points.every(([u, v]) => {
        const box = el.getBoundingClientRect();  // the canvas lives in a shadow root: ask that root what is on top
        return el.contains(el.getRootNode().elementFromPoint(box.left + u * box.width, box.top + v * box.height));
    })""", [list(p) for p in points])


def toolbars_in_view(page) -> list[dict]:
    """The boxes of Streamlit's element toolbars (a table's: search, download...) that are shown."""
    return page.locator("[data-testid='stElementToolbar']").evaluate_all(
        """(bars) => bars.filter(b => parseFloat(getComputedStyle(b).opacity) > 0 && b.offsetParent)
                         .map(b => { const r = b.getBoundingClientRect();
                                     return {x: r.left, y: r.top, width: r.width, height: r.height}; })""")


def overlap(a: dict, b: dict) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] and a["y"] < bottom(b)
            and b["y"] < bottom(a))


def test_phone_a_touch_drawn_digit_gets_its_verdict_with_the_whole_canvas_in_view(app_url, chromium):
    p, browser = chromium
    phone = "iphone13"
    context = browser.new_context(**p.devices[PHONE])
    page = context.new_page()
    tb.open_page(page, app_url, "membership?digit=draw")
    page.wait_for_function("""() => [...document.querySelectorAll('.st-key-drawing *')].some(h => h.shadowRoot
        && h.shadowRoot.querySelector('canvas.upper-canvas')
        && h.shadowRoot.querySelector('canvas.upper-canvas').getBoundingClientRect().width <= 240)""",
                           timeout=20_000)  # a phone's smaller canvas, once the page's styles reach it
    assert wholly_in_view(page, CANVAS)  # as the page opens, without a scroll
    touch_stroke(context, page, pen_path(7, seed=1))
    text = wait_for_verdict(page)
    tb.wait_ready(page)
    page.screenshot(path=tb.ARTIFACTS / f"verdict-phone-{phone}.png")
    assert "demo-overfit" in text, text
    pin = page.locator(PIN)  # right after drawing, without scrolling: one line per target at the screen's foot
    assert on_first_screen(page, PIN) and pin.bounding_box()["height"] <= 0.25 * page.viewport_size["height"]
    lines = pin.inner_text().strip().splitlines()
    assert len(lines) == 3 and all(("MEMBER" in line) != ("not flagged" in line) for line in lines[1:]), lines
    pin_top = pin.bounding_box()["y"]
    canvas = box(page, CANVAS)  # the whole canvas in view and clear of the pin: the next digit needs no scroll
    assert 0 <= canvas["y"] and bottom(canvas) <= pin_top, (canvas, pin_top)
    for name in ("Undo", "Reset canvas & history"):  # clear and undo visible, above the pin, without a hover
        button = page.get_by_role("button", name=name).first
        b = button.bounding_box()
        assert b is not None and 0 <= b["y"] and bottom(b) <= pin_top, (name, b, pin_top)
        assert button.evaluate("(b) => getComputedStyle(b.closest('.dc-toolbar')).opacity") == "1"
    corners = [(0.02, 0.02), (0.98, 0.02), (0.5, 0.5), (0.02, 0.98), (0.98, 0.98)]
    assert uncovered(page, CANVAS, corners)  # the whole canvas takes the next stroke
    assert box(page, VERDICT)["y"] > canvas["y"]
    assert no_sideways_scroll(page)
    for title, charts in (("Why this verdict", 1), ("Member probability", 3)):  # built when opened; one column
        page.locator("[data-testid='stExpander'] summary", has_text=title).first.click()  # its header, not a caption
        page.locator(".js-plotly-plot").nth(charts).wait_for(timeout=60_000)
        tb.wait_ready(page)
    assert page.locator(".js-plotly-plot").count() >= 3  # LiRA's picture per target, every attack, the classes
    widths = page.locator(".js-plotly-plot").evaluate_all("(plots) => plots.map(p => p.getBoundingClientRect().right)")
    assert max(widths) <= page.viewport_size["width"]
    every_attack = page.locator(".js-plotly-plot").nth(2)
    every_attack.scroll_into_view_if_needed()
    b = every_attack.bounding_box()
    page.touchscreen.tap(b["x"] + b["width"] / 2, b["y"] + b["height"] / 3)  # a thumb on the chart
    page.wait_for_timeout(500)
    legend = every_attack.locator("g.legend").bounding_box()
    assert not any(overlap(legend, bar) for bar in toolbars_in_view(page)), legend  # every attack's name readable
    assert every_attack.locator(".modebar").count() == 0  # no chart toolbar to cover it either
    ticks = every_attack.locator(".xtick text").evaluate_all(
        "(ticks) => ticks.filter(t => getComputedStyle(t).display !== 'none').map(t => t.textContent)")
    assert ticks == ["0", "0.25", "0.5", "0.75", "1"], ticks  # the member probability's axis, end to end
    for i, name in ((0, "lira"), (2, "attacks")):
        page.locator(".js-plotly-plot").nth(i).screenshot(path=tb.ARTIFACTS / f"verdict-phone-{phone}-{name}.png")
    assert no_sideways_scroll(page)
    context.close()


def test_a_picked_pool_digit_says_whether_the_attack_was_right(app_url, chromium):
    _, browser = chromium
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    tb.open_page(page, app_url, "membership?digit=pick&pool=1&which=3")
    text = wait_for_verdict(page)
    page.screenshot(path=tb.ARTIFACTS / "verdict-picked.png")
    assert text.count("RIGHT") + text.count("WRONG") == 2, text  # one per demo target
    assert on_first_screen(page, VERDICT)
    tb.open_page(page, app_url, "membership?digit=pick&pool=0&which=0")  # a member of demo-overfit
    wait_for_verdict(page)
    page.get_by_text("Why this verdict").first.click()
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)  # built when opened
    tb.wait_ready(page)
    picture = page.locator(".js-plotly-plot").first
    picture.scroll_into_view_if_needed()
    assert "reference models with it" in picture.inner_text()  # a pool digit: the models that trained on it too
    picture.screenshot(path=tb.ARTIFACTS / "verdict-lira-picture.png")
    page.close()
