"""Plant your digits: drawings checked before any work, planted ones found by the attacks, the attacker's stored
models the same as freshly trained ones, and nothing of the drawings kept anywhere."""

import json
from dataclasses import replace

import numpy as np
import pytest

from mia_core.cli import main
from mia_core.config import ExperimentConfig
from mia_core.drawing.handwriting import drawn_digit, sample_drawings
from mia_core.workshop.planting import (Attacker, Drawings, DrawingsError, PlantOutcome, plant_config, plant_digits,
                                        train_attacker)
from mia_core.present.tables import with_interval
from mia_core.service import Service
from mia_core.storage.store import SHIPPED_ROOT, ModelStore
from mia_core.storage.targets import attack_stored, load_with_attacks, train_and_store


@pytest.fixture(scope="module")
def small_plant() -> ExperimentConfig:
    """The demo's configuration, with fewer and shorter models."""
    cfg = plant_config()
    return replace(cfg.with_train(epochs=10), shadows=2, references=2)


def test_drawings_that_cannot_be_planted_say_why(tmp_path):
    images = np.stack([drawn_digit(d, seed=0) for d in (1, 2, 3)])
    with pytest.raises(DrawingsError, match="keep at least one out"):
        Drawings.of(images, [1, 2, 3], [True, True, True])
    with pytest.raises(DrawingsError, match="drawing 1 is blank"):
        Drawings.of(np.stack([images[0], np.zeros((28, 28), np.uint8)]), [1, 2], [True, False])
    with pytest.raises(DrawingsError, match="uint8"):
        Drawings.of(images.astype(np.float32), [1, 2, 3], [True, False, False])
    with pytest.raises(DrawingsError, match="labels must be digits"):
        Drawings.of(images, [1, 2, 12], [True, False, False])
    np.savez(tmp_path / "pickled.npz", images=np.array([object()], dtype=object), labels=[1], planted=[True])
    with pytest.raises(DrawingsError, match="not a NumPy .npz of arrays"):
        Drawings.from_npz(tmp_path / "pickled.npz")
    np.savez(tmp_path / "partial.npz", images=images)
    with pytest.raises(DrawingsError, match="no labels, planted"):
        Drawings.from_npz(tmp_path / "partial.npz")
    (tmp_path / "text.npz").write_text("not a zip")
    np.savez(tmp_path / "whole.npz", **sample_drawings(planted=2, kept_out=2))
    (tmp_path / "truncated.npz").write_bytes((tmp_path / "whole.npz").read_bytes()[:3000])
    for name in ("text.npz", "truncated.npz"):
        with pytest.raises(DrawingsError, match="not a NumPy .npz"):
            Drawings.from_npz(tmp_path / name)


def test_drawings_travel_through_a_jobs_parameters_unchanged():
    drawings = Drawings.of(**sample_drawings(planted=3, kept_out=2))
    back = Drawings.from_params(json.loads(json.dumps(drawings.to_params())))
    assert np.array_equal(back.images, drawings.images) and back.labels.tolist() == drawings.labels.tolist()
    assert back.planted.tolist() == [True, True, True, False, False]


@pytest.mark.slow
def test_planted_drawings_stand_out_where_the_same_drawings_on_the_target_without_them_do_not(digits):
    """The shipped demo-overfit's own attacker; the target with the drawings and the baseline without them are
    trained. The same digits on both sides (0-9 planted, 0-9 kept out), so the baseline sits near 0.5."""
    stored = load_with_attacks(ModelStore(SHIPPED_ROOT, shipped=SHIPPED_ROOT), "demo-overfit", digits)
    drawings = Drawings.of(**sample_drawings(planted=10, kept_out=10))
    out = plant_digits(plant_config(), digits, drawings, attacker=Attacker(stored.attacks, stored.references, "shipped"))
    result = out.to_json()
    assert result["target"]["planted_accuracy"] == 1.0  # it learnt every planted drawing
    low, high = result["chance_band"]
    for attack in ("lira_offline", "rmia"):  # the attacks for records no reference model trained on
        p = out.scores.probability[attack]
        assert p[drawings.planted].mean() > p[~drawings.planted].mean(), attack
        assert result["attacks"][attack]["auc"] > result["baseline"]["attacks"][attack]["auc"], attack
        assert low <= result["baseline"]["attacks"][attack]["auc"] <= high, attack  # no plant, no signal
    # every drawing has its verdict at 1% FPR from the attack the Membership page uses, and LiRA's picture
    assert result["verdict"]["attack"] == "rmia" and result["verdict"]["fpr"] == 0.01
    row = result["drawings"][0]
    assert isinstance(row["flagged"]["rmia"], bool) and isinstance(row["baseline_flagged"]["rmia"], bool)
    assert len(row["lira"]["out_values"]) == len(stored.references.models) and row["lira"]["in_values"] == []
    assert sum(result["verdict"]["flagged"].values()) == sum(d["flagged"]["rmia"] for d in result["drawings"])
    k = len(result["attacks"])
    wider = result["chance_band_best_of"]
    assert wider["attacks"] == k and wider["band"][0] < low and wider["band"][1] > high
    # what a page reads: the job's JSON typed again, every figure in it
    answer = json.loads(json.dumps(result))
    outcome = PlantOutcome.from_json(answer)
    assert json.loads(json.dumps(outcome.to_json())) == answer
    assert outcome.flagged.planted == sum(d.flagged["rmia"] for d in outcome.drawings if d.planted)
    assert outcome.drawings[0].lira.target == pytest.approx(row["lira"]["target"])
    assert outcome.baseline_attacks["rmia"].auc_ci == tuple(result["baseline"]["attacks"]["rmia"]["auc_ci"])


@pytest.mark.slow
def test_a_stored_attacker_is_the_one_training_would_give(tmp_path, digits, small_plant):
    """What the service reuses (a stored target's shadows and references for the same configuration) scores
    every drawing exactly as the attacker's models trained afresh do."""
    store = ModelStore(tmp_path)
    train_and_store(store, "same", small_plant, digits)
    attack_stored(store, "same", digits, shadows=small_plant.shadows, attacks=("loss", "rmia"),  # stores both kinds
                  references=small_plant.references)
    stored = load_with_attacks(store, "same", digits)
    drawings = Drawings.of(**sample_drawings(planted=4, kept_out=4))
    reused = plant_digits(small_plant, digits, drawings, attacker=Attacker(stored.attacks, stored.references, "stored"),
                          baseline=False)
    fresh = plant_digits(small_plant, digits, drawings, attacker=train_attacker(small_plant, digits), baseline=False)
    assert reused.baseline is None and reused.to_json()["baseline"] is None
    assert reused.scores.probability.keys() == fresh.scores.probability.keys()
    for name in fresh.scores.probability:
        np.testing.assert_allclose(reused.scores.probability[name], fresh.scores.probability[name], atol=1e-6,
                                   err_msg=name)


def test_the_service_reuses_the_shipped_attacker_for_its_configuration_only(tmp_path, monkeypatch):
    monkeypatch.setenv("MIA_STORE_DIR", str(tmp_path / "store"))
    service = Service(executor="inline")
    try:
        assert service.attacker_for(plant_config()) == "demo-overfit"
        assert service.attacker_for(plant_config(seed=5)) is None  # another seed: the job trains its own
    finally:
        service.shutdown()


@pytest.mark.slow
def test_the_command_line_plants_reports_each_attacks_auc_and_keeps_nothing(tmp_path, monkeypatch, capsys):
    """Through the service, on the shipped demo-overfit's attacker."""
    monkeypatch.setenv("MIA_STORE_DIR", str(tmp_path / "store"))
    digits_file, out = tmp_path / "mine.npz", tmp_path / "plant.json"
    np.savez(digits_file, **sample_drawings(planted=3, kept_out=3))
    assert main(["plant", "--digits", str(digits_file), "--json", str(out), "--executor", "inline", "--quiet"]) == 0
    result = json.loads(out.read_text())
    assert "demo-overfit" in result["attacker"] and result["data"] == {"planted": 3, "kept_out": 3}
    assert [d["planted"] for d in result["drawings"]] == [True] * 3 + [False] * 3
    # personal: no kept result, no progress file, no model; nothing written anywhere in the store
    assert [p for p in (tmp_path / "store").rglob("*") if p.is_file()] == []
    assert set(result["attacks"]) >= {"shadow", "loss", "lira_online", "lira_offline", "rmia"}
    assert result["command"].startswith("python -m mia_core plant --digits")
    printed = capsys.readouterr().out
    assert "telling 3 planted from 3 kept-out drawings" in printed and "kept out" in printed
    for m in result["attacks"].values():  # the terminal shows the very figures the JSON holds
        assert f"AUC {with_interval(m['auc'], m['auc_ci'])}" in printed


def test_bad_drawings_files_end_the_command_with_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    np.savez(bad, images=np.zeros((3, 28, 28), np.uint8), labels=np.array([1, 2, 3]), planted=np.array([1, 0, 0]))
    for path, message in ((bad, "labels must be integers and planted booleans"),
                          (tmp_path / "missing.npz", "no drawings file")):
        with pytest.raises(SystemExit) as exit_:
            main(["plant", "--digits", str(path)])
        assert exit_.value.code == 2 and message in capsys.readouterr().err
