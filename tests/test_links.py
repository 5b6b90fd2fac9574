"""A page's settings in its link: each value a widget can take is taken, anything else falls back to the widget's
default, and the page says so in one info line, naming the link's value and what it uses instead; never a traceback
or a server path."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest


APP = str(Path(__file__).resolve().parent.parent / "app.py")


def read_a_link() -> None:
    """A page that reads one setting of each kind from its link, prints what it uses, and says what it refused."""
    import streamlit as st

    from ui.links import LinkSettings

    link = LinkSettings()
    used = {"dropout": link.number("dropout", 0.0, 0.8, 0.0, step=0.05),
            "weight_decay": link.choice("weight_decay", [0.0, 1e-4, 1e-3], 0.0),
            "dp": link.flag("dp"),
            "targets": link.names("targets", ["demo-overfit", "demo-defended"], ["demo-overfit"])}
    st.json(used)
    link.say_what_was_refused()


def opened_with(params: dict) -> AppTest:
    at = AppTest.from_function(read_a_link)
    at.query_params.update(params)
    return at.run()


def test_a_link_the_page_understands_opens_its_settings_without_a_word():
    at = opened_with({"dropout": "0.25", "weight_decay": "1e-3", "dp": "true", "targets": "demo-defended"})
    assert not at.exception and not at.info
    assert at.json[0].value == ('{"dropout": 0.25, "weight_decay": 0.001, "dp": true, '
                                '"targets": ["demo-defended"]}')


@pytest.mark.parametrize("params, said", [
    ({"dropout": "abc"}, "the link's `dropout=abc`: it uses dropout 0 instead."),
    ({"dropout": "0.27"}, "the link's `dropout=0.27`: it uses dropout 0.25 instead."),  # off the slider's grid
    ({"dropout": "9"}, "the link's `dropout=9`: it uses dropout 0 instead."),  # off the slider's range
    ({"weight_decay": "0.5"}, "the link's `weight_decay=0.5`: it uses weight_decay 0 instead."),
    ({"dp": "maybe"}, "the link's `dp=maybe`: it uses dp off instead."),
    ({"targets": "demo-defended,nope"}, "the link's `targets=demo-defended,nope`: it uses targets demo-defended "
                                        "instead."),
    ({"dropout": "abc", "dp": "2"}, "the link's `dropout=abc`, `dp=2`: it uses dropout 0, dp off instead."),
])
def test_a_value_the_page_cannot_take_is_said_in_one_line_with_what_is_used_instead(params, said):
    at = opened_with(params)
    assert not at.exception
    assert [i.value for i in at.info] == [f"This page did not understand {said}"]


def test_a_hand_edited_value_is_shown_safely_and_short():
    at = opened_with({"dropout": "<b>`x`</b>/etc/passwd" + "9" * 40})
    text = at.info[0].value
    assert "<" not in text and "/etc" not in text and text.count("`") == 2  # one code span: the value cannot break out
    assert len(text) < 120


def page_at(page: str, params: dict) -> AppTest:
    """The app's `page` opened at a link with `params`, run once, without an exception."""
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params.update(params)
    at.switch_page(page).run()
    assert not at.exception
    return at


def test_the_defences_page_says_which_value_of_its_link_it_did_not_understand(shipped):
    at = page_at("pages/defences.py", {"dropout": "abc", "seed": "3"})
    assert [i.value for i in at.info if "link" in i.value] == [
        "This page did not understand the link's `dropout=abc`: it uses dropout 0 instead."]
    assert at.slider[0].value == 0.0 and at.number_input[0].value == 3  # the rest of the link is taken


def test_the_membership_page_says_which_value_of_its_link_it_did_not_understand(shipped):
    at = page_at("pages/membership.py", {"digit": "scribble", "targets": "demo-overfit,gone"})
    assert [i.value for i in at.info if "link" in i.value] == [
        "This page did not understand the link's `targets=demo-overfit,gone`, `digit=scribble`: it uses targets "
        "demo-overfit, digit draw instead."]
    assert at.multiselect[0].value == ["demo-overfit"]
