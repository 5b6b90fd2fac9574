"""AppTest of the Membership page's verdict on the shipped demo models: a picked pool digit gets one verdict per
target, right or wrong against its known membership, and the session's tally counts each record once."""

from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest


APP = str(Path(__file__).resolve().parent.parent / "app.py")


def membership(params: dict, *, opened: tuple[str, ...] = ()) -> AppTest:
    """The Membership page at a link with `params`, with the expanders keyed in `opened` open (an expander's
    charts and tables are built only while it is open)."""
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params.update(params)
    at.run()
    for key in opened:
        at.session_state[key] = True
    return at.switch_page("pages/membership.py").run()


def verdict_lines(at: AppTest) -> list[str]:
    """The card's line per target (not the phone's summary of them, which starts with **Verdict**)."""
    return [m.value for m in at.markdown if "flagged" in m.value and m.value.startswith("**demo-")]


def phone_summary(at: AppTest) -> list[str]:
    """A phone's summary, pinned to its screen: its lines."""
    return next(m.value for m in at.markdown if m.value.startswith("**Verdict** at 1% FPR")).split("  \n")


def test_a_picked_digit_gets_a_verdict_per_target_that_says_right_or_wrong(shipped):
    at = membership({"digit": "pick", "pool": "1", "which": "3"})  # a non-member of demo-overfit
    assert not at.exception
    lines = verdict_lines(at)
    assert len(lines) == 2 and lines[0].startswith("**demo-overfit**") and lines[1].startswith("**demo-defended**")
    assert "it is not a member" in lines[0] and ("**RIGHT**" in lines[0]) == ("not flagged" in lines[0])
    assert all("**RIGHT**" in line or "**WRONG**" in line for line in lines)
    summary = phone_summary(at)  # one short line per target
    assert [line.split(":")[0] for line in summary[1:]] == ["**demo-overfit**", "**demo-defended**"]
    assert all(("MEMBER" in line) != ("not flagged" in line) and line.endswith(("RIGHT", "WRONG"))
               for line in summary[1:])
    tally = [c.value for c in at.caption if c.value.startswith("This session, demo-overfit")]
    assert tally and "of 1 non-member; at 1% FPR a coin flip flags about 1 in 100 (0.01 of 1 non-member)" in tally[0]

    at.run()  # a rerun of the same digit is not counted twice
    assert "of 1 non-member;" in next(c.value for c in at.caption if c.value.startswith("This session, demo-overfit"))
    at.slider[0].set_value(4).run()
    assert "of 2 non-members;" in next(c.value for c in at.caption if c.value.startswith("This session, demo-overfit"))


def test_the_card_says_why_the_attack_that_decides_differs_from_target_to_target(shipped):
    at = membership({"digit": "pick", "pool": "0", "which": "0"})  # a member of demo-overfit, in reference models
    assert not at.exception
    lines = verdict_lines(at)
    assert "by LiRA online" in lines[0] and "by RMIA" in lines[1]  # 48 reference models; 2
    rule = [c.value for c in at.caption if c.value.startswith("Decided by")]
    assert rule == ["Decided by the first that can set its threshold: LiRA online (4+ reference models, not a "
                    "drawing), RMIA (2+), LiRA offline (2+), Shadow models, Loss threshold. Reference models: "
                    "demo-overfit 48, demo-defended 2."]


def test_every_attacks_figures_stay_in_the_page_below_the_verdict(shipped):
    at = membership({"digit": "pick", "pool": "0", "which": "0"})
    assert not at.exception
    assert [e.label for e in at.expander] == ["Why this verdict: LiRA's picture of this digit", "Member probability"]
    assert not at.dataframe and not at.get("plotly_chart")  # closed: nothing built
    at = membership({"digit": "pick", "pool": "0", "which": "0"}, opened=("why_verdict", "every_attack"))
    assert len(at.get("plotly_chart")) == 2 + 2  # LiRA's picture per target; every attack; the classes
    table = at.dataframe[0].value  # each attack by the name people read
    assert table["attack"].tolist()[0] == "Shadow models (Shokri)"
    assert "LiRA online (Carlini et al.)" in table["attack"].tolist()
    assert not any("in-sample" in name or "_" in name for name in table["attack"])


@pytest.mark.slow
def test_planting_the_sample_drawings_shows_each_attacks_auc_beside_its_baseline_and_keeps_nothing(shipped):
    """The Membership page's second half: the session's drawings, one press, every attack's view of them beside
    the same drawings on the target trained without them; nothing written to the store, and forgotten on request."""
    at = membership({"mode": "plant"})
    assert not at.exception and at.info[0].value.startswith("No drawings yet")
    assert next(b for b in at.button if b.label == "Train a target with my planted digits").disabled  # nothing yet
    next(b for b in at.button if b.label == "Use the sample drawings").click().run()
    drawings = at.session_state["plant_drawings"]
    assert [d["label"] for d in drawings] == [*range(10), *range(10)]  # the same digits on both sides
    assert [d["planted"] for d in drawings] == [True] * 10 + [False] * 10
    next(b for b in at.button if b.label == "Train a target with my planted digits").click().run()
    assert not at.exception
    assert list(at.table[0].value.columns)[1:] == ["planted: mean P(member)", "kept out: mean P(member)",
                                                   "AUC, planted vs kept out [95%]"]
    assert "LiRA offline (Carlini et al.)" in at.table[0].value["attack"].tolist()
    baseline = at.table[1].value
    assert list(baseline.columns) == ["attack", "AUC with your drawings planted [95%]",
                                      "baseline AUC (target without them) [95%]"]
    assert "LiRA online (Carlini et al.)" in baseline["attack"].tolist()
    words = " ".join(m.value for m in at.markdown)
    assert "At 1% FPR, RMIA (Zarifzadeh et al.) flagged" in words and "the coin-flip band" in words  # a drawing: RMIA decides
    assert "corrected for picking the best of" in words
    frame = at.dataframe[0].value
    assert set(frame["verdict (RMIA (Zarifzadeh et al.), 1% FPR)"]) <= {"flagged", "not flagged"}
    # the drawings and their target stayed in the session: no file anywhere in the store (a progress folder, empty)
    assert [p for p in shipped.rglob("*") if p.is_file()] == []
    next(b for b in at.button if b.label == "Forget my drawings").click().run()
    assert "plant_result" not in at.session_state and not at.table


def test_the_defences_page_says_in_a_sentence_what_each_run_changed(shipped):
    from mia_core.service import DefenceRun

    def row(auc, low, high, accuracy, **settings):
        return DefenceRun(settings={"dropout": 0.0, "weight_decay": 0.0, "label_smoothing": 0.0, "early_stopping": 0,
                                    "dp_epsilon": None, "split_models": None, "labels_only": False, **settings},
                          seed=0, members=200, train_accuracy=accuracy + 0.1, test_accuracy=accuracy, gap=0.1,
                          epsilon=None, attacks={}, best_attack="rmia", best_auc=auc, best_auc_ci=(low, high),
                          best_tpr=0.02, best_accuracy=0.6, seconds=1.0)

    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.session_state["defence_runs"] = [row(0.642, 0.60, 0.68, 0.901),
                                        row(0.649, 0.61, 0.69, 0.939, dropout=0.5, weight_decay=1e-3),
                                        row(0.50, 0.46, 0.54, 0.105, dp_epsilon=3.0)]
    at.session_state["defence_last_result"] = {"not_run": {}}
    at.switch_page("pages/defences.py").run()
    assert not at.exception
    said = [m.value for m in at.markdown if m.value.startswith("Run ")]
    assert len(said) == 3
    assert "each inside the other's interval: no measurable change" in said[1]
    assert "**This model is useless**" in said[2]
    from mia_core.attacks import LABELS
    from mia_core.config import preset

    ran = [LABELS[a] for a in preset("overfit").attacks if a != "seed_in_sample"]
    assert ", ".join(ran) in at.caption[0].value and "dp preset's recipe" in at.caption[0].value  # what ran, named


def test_a_digits_verdict_never_waits_on_a_job_and_each_attacker_loads_once_per_server(shipped, monkeypatch):
    """The answer is computed in the session's thread, whatever the job runner has queued: the page submits no
    job and waits on none. Two sessions (two workspaces) share each shipped target's loaded attacker, and loading
    it writes nothing."""
    from mia_core import jobs, service

    def no_jobs(*args, **kwargs):
        raise AssertionError("the Membership page's answer went through the job runner")

    st.cache_resource.clear()  # the shipped models as yet unloaded: each load below is counted
    monkeypatch.setattr(jobs.runner.JobRunner, "submit", no_jobs)
    monkeypatch.setattr(jobs.runner.Job, "wait", no_jobs)
    monkeypatch.setattr(jobs.runner.Job, "result", no_jobs)
    loads = []
    load = service.Service.load
    monkeypatch.setattr(service.Service, "load", lambda self, name: loads.append(name) or load(self, name))
    first = membership({"digit": "pick", "pool": "1", "which": "3"})
    second = membership({"digit": "pick", "pool": "0", "which": "5"})
    assert not first.exception and not second.exception
    assert len(verdict_lines(first)) == len(verdict_lines(second)) == 2
    assert first.session_state["workspace"] != second.session_state["workspace"]
    assert sorted(loads) == ["demo-defended", "demo-overfit"]
    assert not shipped.exists()  # nothing written on a fresh clone: not even the model store's folder


def test_a_link_names_the_same_digit_on_every_server_and_one_the_page_does_not_have_says_so(shipped):
    at = membership({"digit": "pick", "pool": "1", "which": "7"})  # the link docs/workshop.md hands out
    assert not any("does not have" in i.value for i in at.info)
    assert ("**Ground truth:** digit 6; demo-overfit: **non-member (held out)**; demo-defended: **member**"
            in [m.value for m in at.markdown])  # dataset digit 6843: the pools are shuffled by the target's seed
    for which in ("99999", "abc"):
        at = membership({"digit": "pick", "pool": "1", "which": which})
        assert not at.exception
        assert any("asked for a digit this page does not have" in i.value for i in at.info), which
        assert at.query_params["which"] in ("0", ["0"])


def test_the_verdicts_place_says_why_a_tap_gets_no_verdict():
    from mia_core.drawing.preprocess import to_mnist
    from mia_core.service import EmptyDrawing
    from ui.verdict import canvas_hint

    def hint(canvas) -> str:
        with pytest.raises(EmptyDrawing) as refused:
            to_mnist(canvas)
        return canvas_hint(refused.value)

    canvas = np.zeros((280, 280, 4), dtype=np.uint8)
    assert hint(canvas).startswith("Draw a digit in the black square")  # nothing drawn yet
    ys, xs = np.indices((280, 280))
    canvas[(ys - 140) ** 2 + (xs - 140) ** 2 <= 9 ** 2] = 255  # one tap of the 18 px pen
    assert hint(canvas).startswith("A dot is not a digit")


def test_why_this_verdict_names_the_attack_that_decided_and_its_threshold():
    from mia_core.service import LABELS, MembershipReport
    from ui.verdict import who_decided

    def drawing_report(references: int) -> MembershipReport:  # RMIA's score 1.0 under its threshold 2.0
        return MembershipReport(image=np.zeros((28, 28), np.uint8), probabilities=np.full(10, 0.1), label=3,
                                member_probability={"rmia": 0.8, "lira_online": 0.9}, references=references,
                                statistic={"rmia": 1.0, "lira_online": 5.0},
                                threshold={"rmia": 2.0, "lira_online": 4.0}, unseen=True)  # a drawing: online LiRA has no "in" models for it

    said = who_decided({"demo-overfit": drawing_report(8), "demo-defended": drawing_report(2)})
    assert said.startswith(f"The verdict's attack: for demo-overfit, {LABELS['rmia']}, not LiRA; for demo-defended, "
                           f"{LABELS['rmia']}, not LiRA.")
    assert "threshold at 1% FPR, not when a member probability passes 0.5" in said
