"""The room's shared state, the join link, each session's own models, and no server path on any page."""

import threading
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import new_app_server
from mia_core.workshop.room import Question, Room, check_nickname
from mia_core.storage.store import ModelStore, private_name, workspace_of
from ui.join import join_url, qr_png

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


def test_the_leaderboard_adds_rounds_by_nickname_and_keeps_nicknames_apart():
    room = Room()
    room.record("p1", "Ada", human=7, attack=5, digits=10)
    room.record("p1", "ada", human=3, attack=6, digits=10)  # the same player, the same nickname
    room.record("p2", "Bob", human=9, attack=5, digits=10)
    with pytest.raises(ValueError, match="someone else plays as"):
        room.record("p3", "ADA", human=10, attack=0, digits=10)
    assert [(r.nickname, r.rounds, r.human, r.attack) for r in room.standings()] == [("Bob", 1, 9, 5),
                                                                                    ("Ada", 2, 10, 11)]
    room.reset_leaderboard()
    assert room.standings() == []
    room.record("p3", "Ada", human=1, attack=1, digits=10)  # after a reset the nickname is free again


def test_a_nickname_is_claimed_when_typed_before_any_round_is_played():
    room = Room()
    assert room.claim("p1", " zoe ") == "zoe"
    assert room.claim("p1", "Zoe") == "Zoe"  # the same player again
    with pytest.raises(ValueError, match="someone else plays as 'ZOE'"):
        room.claim("p2", "ZOE")
    assert room.standings() == []  # claiming plays no round


def test_nicknames_are_short_and_plain():
    assert check_nickname("  digit   detective ") == "digit detective"
    for bad in ("", "x" * 21, "<script>", "a@b.com"):
        with pytest.raises(ValueError):
            check_nickname(bad)


def test_the_tally_counts_one_answer_per_player_to_the_open_question():
    room = Room()
    assert room.tally() == {} and not room.answer("p1", "guess", "member")
    room.ask(Question("guess", "Member?", ("member", "not a member")))
    for player, option in [("p1", "member"), ("p2", "member"), ("p1", "not a member"), ("p3", "maybe")]:
        room.answer(player, "guess", option)
    assert room.tally() == {"member": 1, "not a member": 1}
    room.ask(Question("guess", "Member?", ("member", "not a member")))  # asked again: answers kept
    assert room.answer_of("p1") == "not a member"
    room.ask(Question("leaks", "Which?", ("overfitted", "defended")))  # a new question starts empty
    assert room.tally() == {"overfitted": 0, "defended": 0}


def test_many_threads_answer_at_once_and_every_answer_counts():
    room = Room()
    room.ask(Question("q", "?", ("a", "b")))
    threads = [threading.Thread(target=lambda i=i: (room.answer(f"p{i}", "q", "ab"[i % 2]),
                                                    room.record(f"p{i}", f"n{i}", human=1, attack=0, digits=1)))
               for i in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert room.tally() == {"a": 100, "b": 100} and len(room.standings()) == 200


def test_the_join_link_uses_the_address_the_room_can_reach():
    assert join_url("0.0.0.0", 8501, lan="192.168.1.20") == ("http://192.168.1.20:8501/game", True)
    assert join_url("10.0.0.5", 80, lan="192.168.1.20") == ("http://10.0.0.5/game", True)
    assert join_url("localhost", 8501, lan="192.168.1.20") == ("http://192.168.1.20:8501/game", False)
    assert join_url("127.0.0.1", 8501, lan=None) == ("http://127.0.0.1:8501/game", False)
    assert join_url("", 8501, lan=None, override="https://room.example.org/") == ("https://room.example.org/game",
                                                                                 True)
    assert qr_png("http://192.168.1.20:8501/game")[:8] == b"\x89PNG\r\n\x1a\n"


def test_two_workspaces_train_the_same_name_apart_and_see_only_their_own(tmp_path, tiny_overfit, digits):
    from mia_core.experiment.run import train_target

    base = ModelStore(tmp_path / "store")
    ada, bob, presenter = base.view("ada123"), base.view("bob456"), base.view(None)
    target = train_target(tiny_overfit.with_train(epochs=1), digits)
    for view in (ada, bob):
        view.check_writable("overfit-seed0")  # a default name: free for each of them
        base.save(view.stored("overfit-seed0"), target, digits=digits)
    presenter.check_writable("shared-one")
    base.save(presenter.stored("shared-one"), target, digits=digits)
    assert ada.names() == bob.names() == ["overfit-seed0", "shared-one"]
    assert presenter.names() == ["shared-one"]
    assert ada.path("overfit-seed0") != bob.path("overfit-seed0")
    assert workspace_of(ada.stored("overfit-seed0")) == "ada123" and ada.stored("overfit-seed0") == private_name(
        "overfit-seed0", "ada123")
    with pytest.raises(ValueError, match="already stored in the model store: choose another name"):
        ada.check_writable("overfit-seed0")
    with pytest.raises(ValueError, match="shared model, which only the presenter replaces"):
        ada.check_writable("shared-one", overwrite=True)
    with pytest.raises(ValueError, match="may not contain"):
        ada.meta("overfit-seed0--by-bob456")  # another workspace's model is not reachable by its stored name
    assert str(tmp_path) not in str(pytest.raises(Exception, ada.meta, "ghost").value)


PAGES = ["pages/overview.py", "pages/game.py", "pages/present.py", "pages/targets.py", "pages/attack.py",
         "pages/membership.py", "pages/defences.py", "pages/experiments.py"]


def texts(node) -> list[str]:
    """Every string an AppTest element tree holds (values, labels, captions, table cells)."""
    found = []
    for element in getattr(node, "children", {}).values() if hasattr(node, "children") else []:
        found += texts(element)
    proto = getattr(node, "proto", None)
    if proto is not None:
        found.append(str(proto))
    return found


@pytest.mark.parametrize("page, role", [(p, "presenter") for p in PAGES]
                         + [(p, "attendee") for p in PAGES if p != "pages/present.py"])  # not served to attendees
def test_no_page_shows_a_server_path(tmp_path, monkeypatch, page, role):
    """The model store's, the checkout's and the home folder's absolute paths appear in no page's text, for the
    presenter (the story, every research page) and for an attendee (their own workspace)."""
    store = tmp_path / "store-for-path-test"
    monkeypatch.setenv("MIA_STORE_DIR", str(store))
    monkeypatch.setenv("MIA_EXECUTOR", "inline")
    new_app_server()
    at = AppTest.from_file(APP, default_timeout=300)
    if role == "presenter":
        at.query_params["present"] = "1"
    at.run()
    if page != "pages/present.py":
        at.switch_page(page).run()
    assert not at.exception, page
    shown = "\n".join(texts(at._tree))
    assert len(shown) > 200, page  # the page's text was read
    for path in (str(store), str(ROOT), str(Path.home())):
        assert path not in shown, (page, path)
    new_app_server()


def test_an_attendees_answer_reaches_the_presenters_tally(monkeypatch, tmp_path):
    monkeypatch.setenv("MIA_STORE_DIR", str(tmp_path / "store"))
    new_app_server()
    presenter = AppTest.from_file(APP, default_timeout=300)
    presenter.query_params.update({"present": "1", "step": "3"})  # "member or not?": the room is asked
    presenter.run()
    assert not presenter.exception and presenter.title[0].value == "Your turn: member or not?"
    attendee = AppTest.from_file(APP, default_timeout=300).run()
    attendee.switch_page("pages/game.py").run()
    assert any("The presenter asks" in m.value for m in attendee.markdown), [m.value for m in attendee.markdown]
    next(b for b in attendee.button if b.label == "member").click().run()
    assert any("Your answer: member" in c.value for c in attendee.caption)
    presenter.run()
    assert any("**The room:** 1 answer" == m.value for m in presenter.markdown)
    attendee.switch_page("pages/targets.py").run()  # attendees see the research pages unless the server hides them
    assert not attendee.exception
    new_app_server()



def test_a_sessions_workspace_lives_in_its_address_and_survives_a_reload(monkeypatch, tmp_path):
    """Each new session gets its own random workspace, written into the URL (`ws=`); a reload (a new session with
    that URL) finds the same one. A URL's `ws` that is no workspace's name is replaced; the presenter has none."""
    monkeypatch.setenv("MIA_STORE_DIR", str(tmp_path / "store"))
    new_app_server()
    first, second = (AppTest.from_file(APP, default_timeout=300).run() for _ in range(2))
    spaces = [at.query_params["ws"] for at in (first, second)]
    assert spaces[0] != spaces[1] and all(at.session_state["workspace"] == ws for at, ws in zip((first, second), spaces))
    reload = AppTest.from_file(APP, default_timeout=300)
    reload.query_params["ws"] = spaces[0]
    reload.run()
    reload.switch_page("pages/targets.py").run()
    assert reload.session_state["workspace"] == spaces[0] and reload.query_params["ws"] == spaces[0]
    assert any(spaces[0] in e.label for e in reload.expander)  # "Your models are yours: workspace ..."
    odd = AppTest.from_file(APP, default_timeout=300)
    odd.query_params["ws"] = "../../etc"
    odd.run()
    assert odd.query_params["ws"] not in ("../../etc", spaces[0]) and odd.session_state["workspace"] == odd.query_params["ws"]
    presenter = AppTest.from_file(APP, default_timeout=300)
    presenter.query_params["present"] = "1"
    presenter.run()
    assert "ws" not in presenter.query_params
    new_app_server()


def test_a_reload_plays_on_as_the_same_player_under_its_nickname(monkeypatch, tmp_path):
    """The player is the workspace the URL names: a reload (a new session at the same link) keeps the nickname it
    claimed; a session with another workspace is still refused it."""
    monkeypatch.setenv("MIA_STORE_DIR", str(tmp_path / "store"))
    new_app_server()

    def claims(ws: str) -> list[str]:
        at = AppTest.from_file(APP, default_timeout=300)
        at.query_params["ws"] = ws
        at.run()
        at.switch_page("pages/game.py").run()
        at.text_input(key="nickname").input("reload-tester").run()
        assert not at.exception
        return [e.value for e in at.error]

    assert claims("abc123") == []
    assert claims("abc123") == []  # the reload
    assert claims("xyz789") == ["someone else plays as 'reload-tester': choose another nickname."]
    new_app_server()


def test_the_presenters_link_counts_screens_from_one_as_the_screen_does(monkeypatch, tmp_path):
    monkeypatch.setenv("MIA_STORE_DIR", str(tmp_path / "store"))
    new_app_server()
    presenter = AppTest.from_file(APP, default_timeout=300)
    presenter.query_params.update({"present": "1", "step": "99"})
    presenter.run()
    assert [i.value for i in presenter.info] == ["This page did not understand the link's `step=99`: it uses step 1 "
                                                 "instead."]
    assert presenter.title[0].value == "Join the room"
    next(b for b in presenter.button if b.label == "Next").click().run()
    assert presenter.title[0].value == "Was your record in the training data?"
    assert presenter.query_params["step"] == "2"  # "2 of 7"
    new_app_server()
