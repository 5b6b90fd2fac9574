"""AppTest: every page renders, its widgets are there, and a small train-and-attack run completes."""

import json
import shutil
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from conftest import new_app_server
from mia_core.attacks import LABELS
from mia_core.cli import main as cli
from mia_core.storage.targets import demo_configs

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGES = ["pages/targets.py", "pages/attack.py", "pages/membership.py", "pages/defences.py", "pages/experiments.py"]


@pytest.fixture
def app_env(tmp_path, monkeypatch):
    """A fresh model store with no shipped models (as with data other than the embedded digits), jobs run in
    this process (the browser tests run the server's worker processes), and the small demo build."""
    monkeypatch.setenv("MIA_STORE_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("MIA_EXECUTOR", "inline")
    monkeypatch.setenv("MIA_DEMO_SMALL", "1")
    monkeypatch.setattr("mia_core.storage.store.SHIPPED_ROOT", tmp_path / "nothing shipped")
    new_app_server()
    st.cache_data.clear()
    yield tmp_path
    new_app_server()


def test_pages_enter_the_engine_through_the_service_module_only():
    import ast

    root = Path(APP).parent
    for path in [root / "app.py", *(root / "pages").glob("*.py"), *(root / "ui").glob("*.py")]:
        imported = {node.module for node in ast.walk(ast.parse(path.read_text()))
                    if isinstance(node, ast.ImportFrom) and node.module}
        imported |= {alias.name for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Import)
                     for alias in node.names}
        engine = {m for m in imported if m.startswith("mia_core")}
        assert engine <= {"mia_core.service"}, (path.name, engine)


def open_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300).run()
    assert not at.exception
    return at


def test_every_page_renders_on_an_empty_store(app_env):
    at = open_app()
    assert at.title[0].value == "Was this digit in the training set?"
    assert at.button[0].label == "Build the demo models"
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, page
    at.switch_page("pages/targets.py").run()
    assert {s.key for s in at.slider} >= {"train_size", "epochs", "dropout"}
    assert at.select_slider(key="weight_decay").value == 0.0


def test_the_shipped_demo_models_answer_at_once(tmp_path, monkeypatch):
    monkeypatch.setenv("MIA_STORE_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("MIA_EXECUTOR", "inline")
    new_app_server()
    at = open_app()
    assert "ready" in at.success[0].value and not at.button  # nothing to build on a fresh clone
    at.session_state["every_attack"] = True  # the expander with every attack's table, open
    at.switch_page("pages/membership.py").run()
    at.radio(key="digit_source").set_value("Pick an MNIST digit").run()
    assert not at.exception
    assert list(at.dataframe[0].value.columns) == ["attack", "demo-overfit", "demo-defended"]
    assert not (tmp_path / "store").exists()  # reading the shipped models wrote nothing
    new_app_server()


@pytest.mark.slow
def test_build_demo_then_membership_and_attack(app_env, small_demo, monkeypatch):
    asked = []

    def small_demo_build(store, digits, *, configs, **_):
        """What the button's job builds with MIA_DEMO_SMALL=1, the small demo, is `small_demo`'s build (the same
        `build_demo` on the same configurations): its copy."""
        asked.append(configs)
        shutil.copytree(small_demo.folder, store.root, dirs_exist_ok=True)
        return small_demo.results

    monkeypatch.setattr("mia_core.jobs.tasks.build_demo", small_demo_build)
    at = open_app()
    at.button[0].click().run()
    assert not at.exception
    assert "ready" in at.success[0].value
    assert asked == [demo_configs(small=True)]
    assert {"demo-overfit", "demo-defended"} <= {p.name for p in (app_env / "store").iterdir()}

    at.switch_page("pages/membership.py").run()
    assert not at.exception
    assert "Draw a digit" in at.info[0].value  # the canvas starts empty: a hint, not a prediction
    at.session_state["every_attack"] = True  # the expander with every attack's table, open
    at.radio(key="digit_source").set_value("Pick an MNIST digit").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table.columns) == ["attack", "demo-overfit", "demo-defended"]
    assert {LABELS[a] for a in ("shadow", "loss", "lira_online", "lira_offline", "rmia")} <= set(table["attack"])
    assert ((table[["demo-overfit", "demo-defended"]] >= 0) & (table[["demo-overfit", "demo-defended"]] <= 1)).all().all()
    assert "Ground truth" in at.markdown[-1].value or any("Ground truth" in m.value for m in at.markdown)
    at.selectbox[0].set_value(at.selectbox[0].options[1]).run()  # non-members of the first target
    at.slider[0].set_value(7).run()
    truth = next(m.value for m in at.markdown if "Ground truth" in m.value)
    assert at.query_params["digit"] == "pick" and at.query_params["pool"] == "1" and at.query_params["which"] == "7"

    link = AppTest.from_file(APP, default_timeout=300)  # another attendee opens the same link
    link.query_params.update(dict(at.query_params))
    link.switch_page("pages/membership.py").run()
    assert not link.exception
    assert next(m.value for m in link.markdown if "Ground truth" in m.value) == truth

    at.switch_page("pages/attack.py").run()
    at.slider[0].set_value(1)
    at.button[0].click().run()
    assert not at.exception
    rows = at.dataframe[0].value
    assert list(rows["attack"]) == ["shadow", "loss", "confidence", "entropy", "modified_entropy"]  # no in-sample fit
    assert set(rows["run"]) == {1}
    at.button[0].click().run()  # a second run adds rows
    assert set(at.dataframe[0].value["run"]) == {1, 2}


@pytest.mark.slow
def test_target_trained_in_the_app_matches_the_command_line(app_env):
    at = open_app()
    at.switch_page("pages/targets.py").run()
    at.slider(key="train_size").set_value(100)
    at.slider(key="epochs").set_value(5)
    at.slider(key="dropout").set_value(0.0)
    at.select_slider(key="weight_decay").set_value(0.0)
    at.text_input(key="model_name").set_value("small")
    at.button(key="FormSubmitter:train-Train target").click().run()
    assert not at.exception and not at.error
    assert "small" in at.dataframe[0].value["name"].tolist()

    at.switch_page("pages/attack.py").run()
    at.selectbox[0].set_value("small")
    at.slider[0].set_value(2)
    at.button[0].click().run()
    assert not at.exception
    app_rows = at.dataframe[0].value.set_index("attack")

    out = app_env / "cli.json"
    cli(["run", "--train-size", "100", "--epochs", "5", "--dropout", "0", "--weight-decay", "0", "--shadows", "2",
         "--seed", "0", "--attacks", ",".join(app_rows.index), "--executor", "inline", "--quiet", "--json", str(out)])
    expected = json.loads(out.read_text())["attacks"]
    assert set(app_rows.index) <= set(expected)  # the app ran the realistic attacks, the command line those and more
    for attack in app_rows.index:
        m = expected[attack]
        assert app_rows.loc[attack, "auc"] == pytest.approx(m["auc"])
        assert app_rows.loc[attack, "accuracy"] == pytest.approx(m["accuracy"])
        assert app_rows.loc[attack, "tpr_at_1pct_fpr"] == pytest.approx(m["tpr_at_fpr"]["0.01"])


def test_impossible_training_config_is_an_error_message(app_env):
    at = open_app()
    at.switch_page("pages/targets.py").run()
    at.text_input(key="model_name").set_value("../escape")
    at.button(key="FormSubmitter:train-Train target").click().run()
    assert not at.exception
    assert "Cannot train this target" in at.error[0].value and "model name" in at.error[0].value


def demo_with_a_corrupt_file(app_env, small_demo, model: str, file: str) -> AppTest:
    """The small demo in the store (as the Overview page's button builds it: test_build_demo_then_membership_and_attack),
    one stored file overwritten with junk (as a crash or a user might), opened by a server that has loaded no model
    yet (another test may have loaded the small demo's, stamp and all)."""
    st.cache_resource.clear()
    shutil.copytree(small_demo.folder, app_env / "store")
    (app_env / "store" / model / file).write_bytes(b"junk")
    return open_app()


@pytest.mark.slow
def test_corrupt_model_is_an_error_message_not_a_trace(app_env, small_demo):
    at = demo_with_a_corrupt_file(app_env, small_demo, "demo-overfit", "target.pt")
    at.switch_page("pages/attack.py").run()
    at.selectbox[0].set_value("demo-overfit")
    at.button[0].click().run()
    assert not at.exception
    assert "target.pt: not a valid weights file" in at.error[0].value


@pytest.mark.slow
def test_experiments_page_runs_a_small_reproduction(app_env, monkeypatch):
    import mia_core.config as config

    for name, dropout in (("overfit", 0.0), ("defended", 0.5)):  # the tables' two settings, seconds-long
        monkeypatch.setitem(config.PRESETS, name, config.ExperimentConfig(
            train_size=60, shadows=1, train=config.TrainConfig(epochs=3, dropout=dropout)))
    at = open_app()
    at.switch_page("pages/experiments.py").run()
    assert any("The shipped tables" in c.value for c in at.caption)
    at.multiselect[0].set_value([5])
    at.button[0].click().run()
    assert not at.exception
    assert {r["epochs"] for r in at.session_state["experiment_rows"]} == {5}  # this session's own tables
    assert any("Overfitted target" in m.value for m in at.markdown)
    assert not any(app_env.rglob("results.csv"))  # nothing written for other sessions to read


def test_defences_page_trains_a_defended_target_and_charts_it(app_env, monkeypatch):
    import mia_core.config as config

    small = config.ExperimentConfig(train_size=60, shadows=1, attacks=("loss", "shadow"),
                                    train=config.TrainConfig(epochs=3))
    monkeypatch.setitem(config.PRESETS, "overfit", small)  # the page builds on this preset: make it seconds-long
    at = open_app()
    at.switch_page("pages/defences.py").run()
    assert not at.exception
    at.slider[0].set_value(0.5)  # dropout
    at.button(key="FormSubmitter:defend-Train and attack").click().run()
    assert not at.exception and not at.error
    runs = at.dataframe[0].value
    assert runs["settings"].tolist() == ["dropout=0.5, weight_decay=0, label_smoothing=0, early_stopping=0"]
    shown = at.session_state["defence_last_result"]["attacks"]  # the job's figures, as the table shows them
    assert runs["best AUC"][0] == max(shown[a]["auc"] for a in ("loss", "shadow"))
    assert len(at.get("plotly_chart")) == 1  # the privacy-utility chart


def test_defences_page_switches_on_split_ai(app_env, monkeypatch):
    import mia_core.config as config

    small = config.ExperimentConfig(train_size=60, shadows=1, attacks=("loss",), train=config.TrainConfig(epochs=3))
    monkeypatch.setitem(config.PRESETS, "overfit", small)
    monkeypatch.setitem(config.PRESETS, "split", small.with_train(split_models=3, split_held_out=1))
    at = open_app()
    at.switch_page("pages/defences.py").run()
    at.toggle[0].set_value(True)  # Split-AI
    at.button(key="FormSubmitter:defend-Train and attack").click().run()
    assert not at.exception and not at.error
    assert "split_models=3" in at.dataframe[0].value["settings"][0]


@pytest.mark.slow
def test_defences_page_hides_confidences_and_audits_epsilon(app_env, monkeypatch):
    import mia_core.config as config

    small = config.ExperimentConfig(train_size=60, shadows=1, attacks=("loss",), non_members=200, test_size=200,
                                    train=config.TrainConfig(epochs=3))  # labels only: each record is asked many times
    monkeypatch.setitem(config.PRESETS, "overfit", small)
    at = open_app()
    at.switch_page("pages/defences.py").run()
    at.toggle[2].set_value(True)  # the API answers with labels only
    at.button(key="FormSubmitter:defend-Train and attack").click().run()
    assert not at.exception and not at.error
    assert any("Not run on the last target: loss, which reads the target's confidence scores" in c.value
               for c in at.caption)
    assert "labels only" in at.dataframe[0].value["settings"][0]
    at.slider[-1].set_value(50)  # canaries
    at.button(key="FormSubmitter:audit-Audit the settings above").click().run()
    assert not at.exception and not at.error
    shown = {m.label: m.value for m in at.metric}
    audit = at.session_state["epsilon_audit"]
    assert audit["canaries"] == 50
    assert shown["Epsilon proved by the audit"] == f"{audit['epsilon_lower_bound']:.2f}"
    assert shown["Most these canaries could prove"] == f"{audit['epsilon_ceiling']:.2f}"
    assert shown["Promised by DP-SGD's accountant"] == "no promise (no DP)"
    assert any("no finite epsilon is promised" in m.value for m in at.markdown)


def test_a_sweep_run_on_the_defences_page_is_charted_at_once(app_env, monkeypatch):
    import mia_core.config as config

    small = config.ExperimentConfig(train_size=60, shadows=1, attacks=("loss",), train=config.TrainConfig(epochs=3))
    monkeypatch.setitem(config.PRESETS, "overfit", small)
    at = open_app()
    at.switch_page("pages/defences.py").run()
    at.multiselect[0].set_value([0.5])  # dropout values
    at.multiselect[1].set_value([0.0])  # L2 values
    at.button(key="FormSubmitter:sweep-Run the sweep").click().run()
    assert not at.exception and not at.error
    assert [run.settings for run in at.session_state["defence_sweep"]] == [{"dropout": 0.5, "weight_decay": 0.0}]
    assert "this session's sweep" in at.get("plotly_chart")[0].proto.spec  # charted beside the shipped sweeps
    assert not any(app_env.rglob("sweep.csv"))  # a session's sweep is its own: no shared file written


@pytest.mark.slow
def test_a_defences_link_opens_its_settings_and_a_run_writes_them_back(app_env, monkeypatch):
    import mia_core.config as config

    small = config.ExperimentConfig(train_size=60, shadows=1, attacks=("loss",), non_members=200, test_size=200,
                                    train=config.TrainConfig(epochs=3))  # labels only: each record is asked many times
    monkeypatch.setitem(config.PRESETS, "overfit", small)
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params.update({"dropout": "0.25", "weight_decay": "0.001", "seed": "7", "labels_only": "1",
                            "epsilon": "banana"})  # a hand-edited link: the bad value falls back
    at.switch_page("pages/defences.py").run()
    assert not at.exception
    assert at.slider[0].value == 0.25 and at.select_slider[0].value == 0.001 and at.number_input[0].value == 7
    assert at.toggle[2].value is True  # labels only
    assert next(s for s in at.slider if s.label == "Target epsilon").value == 3.0  # "banana": the default
    at.slider[0].set_value(0.5)
    at.button(key="FormSubmitter:defend-Train and attack").click().run()
    assert not at.exception and not at.error
    assert at.query_params["dropout"] == "0.5" and at.query_params["seed"] == "7"
    assert at.query_params["labels_only"] == "1" and at.query_params["dp"] == "0"


@pytest.mark.slow
def test_corrupt_weights_on_the_membership_page_are_a_message(app_env, small_demo):
    at = demo_with_a_corrupt_file(app_env, small_demo, "demo-defended", "shadows.pt")
    at.switch_page("pages/membership.py").run()
    assert not at.exception
    assert "shadows.pt: not a valid weights file" in at.error[0].value


def test_an_uploaded_model_is_checked_then_queried_as_a_black_box(app_env, monkeypatch):
    """Targets page: a pickle renamed .safetensors is refused with a message and stores nothing; real weights
    are kept with the attacker's models, and the Membership page queries them."""
    import pickle
    from dataclasses import replace

    from safetensors.torch import save as to_bytes

    import mia_core.service
    from mia_core.models import build_model

    small = mia_core.service.brought_config
    monkeypatch.setattr(mia_core.service, "brought_config", lambda guess, **kw: replace(
        small(guess, **kw).with_train(epochs=3), train_size=100, shadows=1, references=2))
    good = to_bytes({k: v.contiguous() for k, v in build_model("lenet5").state_dict().items()})
    seed_lenet = to_bytes({k: v.contiguous() for k, v in build_model("seed_lenet").state_dict().items()})
    at = open_app()
    at.switch_page("pages/targets.py").run()

    def upload(data: bytes):
        next(u for u in at.file_uploader if u.label == "Weights (.safetensors)").set_value(
            ("model.safetensors", data, "application/octet-stream"))
        next(b for b in at.button if b.label == "Check and attack it").click().run()
        assert not at.exception

    for data, message in ((pickle.dumps({"conv1.weight": 0}), "a pickle or torch.save file, not safetensors"),
                          (good[:300], "not a valid safetensors file, truncated or corrupt"),
                          (seed_lenet, "not lenet5 weights"), (good + b"\0" * (21 * 2**20), "more than the 20 MB")):
        upload(data)
        assert at.error[0].value.startswith("Not stored: model.safetensors: ") and message in at.error[0].value
        assert not (app_env / "store").exists() or not any((app_env / "store").glob("my-model"))

    upload(good)
    assert not at.exception and "Query it on the Membership page, as a black box" in at.success[0].value
    at.switch_page("pages/membership.py").run()
    at.multiselect[0].set_value(["my-model"]).run()
    at.radio(key="digit_source").set_value("Pick an MNIST digit").run()
    assert not at.exception
    assert "my-model: **membership unknown**" in " ".join(m.value for m in at.markdown)
