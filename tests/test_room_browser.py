"""The room in a real browser: the presenter's join card, every screen of the story on a 1280x720 projector with the
room's answers in, the game as a fresh server's first request and played to a score that stays in view, two
attendees training with default names, and the room's pages on a phone and a projector.

Screenshots land in test-artifacts/room-*.png."""

import re
from pathlib import Path

import pytest

import test_browser
from test_browser import ARTIFACTS, app_server, new_session, open_page, opened_inside_the_app, wait_ready
from test_browser import browser  # noqa: F401  (a fixture)
from ui.presenter import SCREENS

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(test_browser.CHROMIUM is None, reason="Debian's chromium is not installed")]


def no_sideways_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def shows_the_join_card(page) -> None:
    """The presenter's first screen: the join card with its QR code and the http link attendees open."""
    card = page.locator(".st-key-join")
    assert card.count() == 1
    assert card.locator("img").count() == 1 and card.locator("img").bounding_box()["width"] >= 150  # the QR code
    link = card.locator("a[href^='http://']").first.get_attribute("href")
    assert link.endswith("/game") and ":" in link.split("//", 1)[1]
    card.locator("h3").first.hover()
    assert card.locator("a[href^='#']").count() == 0  # the link is a heading without an anchor to copy
    assert page.locator("h1").first.inner_text().strip() == "Join the room"
    page.screenshot(path=ARTIFACTS / "room-1-present-join.png")


def fits_the_screen(page) -> bool:
    """Nothing of the page lies below the fold: its main area does not scroll."""
    return page.locator("[data-testid='stMain']").evaluate("(main) => main.scrollHeight <= main.clientHeight + 1")


def answer_on_a_phone(phone, url: str) -> None:
    """An attendee answers the presenter's open question at the top of "Beat the attack"."""
    open_page(phone, url, "game")
    phone.locator(".st-key-room_question button").first.click()
    wait_ready(phone)


def test_presenter_mode_shows_the_join_card_then_every_step_fits_a_projector_with_the_rooms_answers(app_url, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    phone = browser.new_context(viewport={"width": 390, "height": 664}, is_mobile=True, has_touch=True).new_page()
    open_page(page, app_url, "?present=1")
    shows_the_join_card(page)
    for step, screen in enumerate(SCREENS, 1):
        if screen.question:  # one attendee answers it
            answer_on_a_phone(phone, app_url)
            page.get_by_text(re.compile(r"^The room: 1 answer$")).wait_for(timeout=20_000)  # the live tally
            sizes = page.locator(".st-key-tally_chart text").evaluate_all(
                "(texts) => texts.map(t => parseFloat(getComputedStyle(t).fontSize))")
            assert sizes and min(sizes) >= 18, sizes  # read from the back of the room
        if screen.show == "guess":  # the answer revealed: the longest version of the screen
            page.get_by_text("Reveal the answer").click()
            wait_ready(page)
        assert page.locator("[data-testid='stException']").count() == 0
        page.screenshot(path=ARTIFACTS / f"room-present-step-{step}.png")
        assert fits_the_screen(page), step
        if step > 1:  # every later screen: the whole join card in the sidebar, its code and its note
            card = page.locator("[data-testid='stSidebar'] .st-key-join")
            assert card.bounding_box()["y"] + card.bounding_box()["height"] <= 720, step
            note = card.get_by_text("no sign-up").bounding_box()
            assert note["y"] + note["height"] <= 720 and card.locator("img").count() == 1, step
        if step < len(SCREENS):
            page.get_by_role("button", name="Next").click()
            page.wait_for_timeout(300)  # the rerun starts
            wait_ready(page)
    assert page.get_by_role("button", name="Next").is_disabled()
    phone.context.close()
    page.close()


def play_a_round(page) -> float:
    """Guess "member" for every digit and send the guesses; returns how far the page was scrolled then."""
    for radio in page.locator("[data-testid='stRadio']").all():
        radio.get_by_text("member", exact=True).click()
    send = page.get_by_role("button", name="Show the attack's verdicts and the truth")
    send.scroll_into_view_if_needed()
    sent_at = page.locator("[data-testid='stMain']").evaluate("(main) => main.scrollTop")
    send.click()
    page.locator("[data-testid='stMetric']").first.wait_for(timeout=60_000)
    wait_ready(page)
    return sent_at


@pytest.fixture(scope="module")
def fresh_server(tmp_path_factory):
    """A server of this file's own on an empty store, running jobs in its own process (no worker processes to
    start): its URL and store. Its first request is the game's, the first test below that uses it."""
    store = tmp_path_factory.mktemp("fresh_store")
    with app_server({"MIA_STORE_DIR": str(store), "MIA_EXECUTOR": "inline"}) as url:
        yield url, store


def test_the_game_as_a_fresh_servers_first_request_plays_a_round_to_a_score(fresh_server, browser):
    url, _ = fresh_server
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(f"{url}/game")
    page.locator("h1", has_text="Beat the attack").first.wait_for(timeout=60_000)
    wait_ready(page)
    assert page.locator("[data-testid='stSidebarNavLink']").count() >= 4  # inside the app's navigation
    assert page.get_by_text("Salem et al. 2023").count() == 1
    page.get_by_label("Your nickname").fill("ada")
    page.get_by_label("Your nickname").press("Enter")
    wait_ready(page)
    assert page.locator("[data-testid='stRadio']").count() == 10
    page.screenshot(path=ARTIFACTS / "room-8-game-round.png", full_page=True)
    play_a_round(page)
    metrics = page.locator("[data-testid='stMetric']")
    you, attack = metrics.nth(0).inner_text(), metrics.nth(1).inner_text()
    assert "/ 10" in you and "/ 10" in attack and "Attack:" in attack
    assert page.locator("[data-testid='stException']").count() == 0
    page.get_by_role("cell", name="ada", exact=True).wait_for()  # on the room's leaderboard
    page.screenshot(path=ARTIFACTS / "room-9-game-score.png", full_page=True)
    page.close()


def in_view(page, selector: str) -> bool:
    """The element's middle is on the screen, and nothing (the app's header) covers it there."""
    return page.locator(selector).first.evaluate("""(el) => {
        const box = el.getBoundingClientRect(), x = box.left + box.width / 2, y = box.top + box.height / 2;
        return 0 <= y && y <= window.innerHeight && el.contains(document.elementFromPoint(x, y));
    }""")


@pytest.mark.parametrize("width, height", [(390, 664), (1280, 720)])
def test_the_score_of_a_round_is_in_view_once_the_guesses_are_sent(app_url, browser, width, height):
    phone = width < 640
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=phone, has_touch=phone)
    page = context.new_page()
    open_page(page, app_url, "game")
    sent_at = play_a_round(page)  # pressed at the foot of the round's digits
    # where the page stays when the outcome replaces the form (a browser keeps the scroll, unless the page shrank)
    page.locator("[data-testid='stMain']").evaluate("(main, top) => { main.scrollTop = top; }", sent_at)
    page.wait_for_timeout(300)
    page.screenshot(path=ARTIFACTS / f"room-game-score-{width}x{height}.png")
    assert in_view(page, "[data-testid='stMetric'] >> nth=0") and in_view(page, "[data-testid='stMetric'] >> nth=1")
    assert no_sideways_scroll(page)
    context.close()


@pytest.mark.parametrize("path", ["game", "", "targets", "?present=1"])
def test_room_pages_fit_a_phone_in_one_column(app_url, browser, path):
    context = browser.new_context(viewport={"width": 390, "height": 664}, has_touch=True, is_mobile=True,
                                  device_scale_factor=2)  # an iPhone 13's viewport
    page = context.new_page()
    open_page(page, app_url, path)
    assert no_sideways_scroll(page), path
    page.screenshot(path=ARTIFACTS / f"room-phone-{path.strip('?=') or 'overview'}.png", full_page=True)
    context.close()


def test_two_attendees_train_with_the_default_name_and_neither_sees_a_server_path(fresh_server, browser):
    url, store = fresh_server
    pages = [browser.new_context(viewport={"width": 1280, "height": 1400}).new_page() for _ in range(2)]
    for page in pages:
        open_page(page, url, "targets")
    for page in pages:  # the smallest training set for one epoch: this is about names, not training
        for label, smallest in (("Training-set size", "50"), ("Epochs", "1")):
            slider = page.locator("[data-testid='stSlider']", has_text=label)
            slider.get_by_role("slider").press("Home")
            assert slider.get_by_test_id("stSliderThumbValue").inner_text() == smallest
    for page in pages:  # both press at once, with the name the form offers
        assert page.get_by_label("Save as").first.input_value() == "overfit-seed0"
        page.get_by_role("button", name="Train target").click()
    for i, page in enumerate(pages):
        page.get_by_text("overfit-seed0: train accuracy").wait_for(timeout=300_000)
        wait_ready(page)
        text = page.locator("[data-testid='stMain']").inner_text()
        assert "already stored" not in text and "Cannot train" not in text
        for path in (str(store), str(test_browser.ROOT), str(Path.home())):
            assert path not in text
        page.screenshot(path=ARTIFACTS / f"room-10-attendee-{i + 1}-trained.png", full_page=True)
    stored = sorted(p.name for p in store.iterdir() if not p.name.startswith("."))
    assert len(stored) == 2 and all(name.startswith("overfit-seed0--by-") for name in stored)
    # Each keeps its workspace in the page's address: on another page, and after a reload, its model is listed.
    workspaces = [page.url.split("ws=")[1].split("&")[0] for page in pages]
    assert len(set(workspaces)) == 2 and sorted(f"overfit-seed0--by-{w}" for w in workspaces) == stored
    for page, ws in zip(pages, workspaces):
        page.locator("[data-testid='stSidebarNavLink']", has_text="Overview").click()
        page.get_by_text("Stored models:").wait_for()
        page.reload()
        wait_ready(page)
        assert f"ws={ws}" in page.url
        assert "overfit-seed0" in page.get_by_text("Stored models:").inner_text()
    for page in pages:
        page.context.close()


def nav_titles(page) -> list[str]:
    links = page.locator("[data-testid='stSidebarNavLink']")
    return [links.nth(i).inner_text().split("\n")[-1].strip() for i in range(links.count())]


def test_attendee_mode_hides_the_research_pages_and_the_presenter_keeps_them(tmp_path, browser):
    """The presenter hands out the Membership page's link before anyone opened the app: as the server's first
    request it opens inside the attendee's navigation (the game's link is played as one above)."""
    with app_server({"MIA_STORE_DIR": str(tmp_path / "store"), "MIA_ATTENDEE_MODE": "1"}) as url:
        opened_inside_the_app(new_session(browser, url, "membership"), "membership", "8-first-request-membership.png",
                              navigation=["Overview", "Beat the attack", "Membership test", "Defences"])
        attendee = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
        open_page(attendee, url, "game")
        assert nav_titles(attendee) == ["Overview", "Beat the attack", "Membership test", "Defences"]
        attendee.goto(f"{url}/targets")  # a research page's link: not served to an attendee
        wait_ready(attendee)
        assert attendee.locator("h1", has_text="Targets").count() == 0
        presenter = browser.new_context(viewport={"width": 1280, "height": 720}).new_page()
        open_page(presenter, url, "?present=1")
        assert nav_titles(presenter) == ["Presenter", "Overview", "Beat the attack", "Targets", "Attack",
                                         "Membership test", "Defences", "Experiments"]
        attendee.context.close()
        presenter.context.close()
