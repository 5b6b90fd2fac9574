"""scripts/readme_figures.py writes docs/results.md as it stands: the same sections and tables, each table under the
command that gives it. Checked on made-up results from a stand-in service, so nothing trains."""

from pathlib import Path

import pytest

from mia_core.config import preset
from mia_core.experiment.reproduce import reproduce_plan
from mia_core.experiment.sweep import sweep_plan
from scripts import readme_figures

DOCUMENT = Path(__file__).resolve().parents[1] / "docs" / "results.md"


def fake_run(cfg) -> dict:
    """A run's JSON, as far as the document reads it; online LiRA finds 0.2 + seed / 1000 of the members."""
    attacks = {}
    for i, name in enumerate(cfg.attacks):
        rate = 0.2 + cfg.seed / 1000 if name == "lira_online" else 0.01 * (i + 1)
        attacks[name] = {"auc": 0.6 + 0.01 * i, "auc_ci": [0.55, 0.65], "tpr_at_fpr": {"0.01": rate},
                         "tpr_at_fpr_ci": {"0.01": [rate - 0.05, rate + 0.05]}, "accuracy": 0.6,
                         "accuracy_ci": [0.5, 0.7], "precision": 0.6, "recall": 0.6, "f1": 0.6, "seconds": 1.0}
    epsilon = 2.99 if cfg.train.dp_epsilon else None
    return {"target": {"train_accuracy": 1.0, "test_accuracy": 0.8, "epsilon": epsilon},
            "attacks": attacks, "data": {"eval_members": cfg.train_size, "eval_non_members": 1000},
            "chance_band": [0.441, 0.559], "advantage_chance_band": [0.0, 0.127],
            "seconds": {"target": 1.0, "shadows": 2.0}}


def fake_audit(cfg, count: int, white_box: bool) -> dict:
    private = cfg.train.dp_epsilon is not None or cfg.train.dp_noise is not None
    guesses = count // 2
    return {"canaries": count, "guesses": guesses, "correct": guesses if not private else guesses * 3 // 4,
            "epsilon_lower_bound": 1.06 if white_box else (0.0 if private else 3.0), "epsilon_ceiling": 4.62,
            "epsilon_lower_bound_fdp": 1.45, "epsilon_ceiling_fdp": 7.15, "mu_lower_bound": 0.375,
            "accountant_epsilon": cfg.train.dp_epsilon if private else None}


class Answer:
    def __init__(self, result):
        self._result = result

    def result(self):
        return self._result


class FakeService:
    """Answers every submission at once with made-up results, and remembers what was asked."""

    def __init__(self, workers=None):
        self.asked = []

    def submit_experiment(self, cfg):
        self.asked.append(("run", cfg))
        return Answer(fake_run(cfg))

    def submit_audit(self, cfg, *, count, confidence, white_box):
        self.asked.append(("audit", cfg, count, white_box))
        return Answer(fake_audit(cfg, count, white_box))

    def submit_sweep(self, base, grid):
        return [(point, cfg, Answer(fake_run(cfg))) for point, cfg in sweep_plan(base, grid)]

    def submit_reproduction(self, *, epochs, seeds):
        steps = reproduce_plan(epochs=epochs, seeds=seeds)
        return steps, [Answer(fake_run(cfg)) for *_, cfg in steps]

    def shutdown(self):
        pass


@pytest.fixture
def written(monkeypatch, capsys):
    services = []
    monkeypatch.setattr(readme_figures, "Service", lambda workers=None: services.append(FakeService()) or services[-1])
    assert readme_figures.main(["--out", "-"]) == 0
    return capsys.readouterr().out, services[0]


def headings(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("#")]


def table_headers(text: str) -> list[str]:
    lines = text.splitlines()
    return [lines[i - 1] for i, line in enumerate(lines) if line.startswith("|---")]


def test_the_document_has_the_sections_and_tables_of_docs_results(written):
    document, _ = written
    assert headings(document) == headings(DOCUMENT.read_text())
    assert table_headers(document) == table_headers(DOCUMENT.read_text())


def test_each_table_sits_under_the_command_that_gives_it(written):
    document, _ = written
    blocks = document.split("```bash\n")[1:]
    commands = [block.split("```")[0] for block in blocks]
    for command in [*readme_figures.overfit_runs(), readme_figures.more_references_run(), readme_figures.defended_run(),
                    readme_figures.split_sweep(), readme_figures.dropout_sweep(), readme_figures.reproduction()]:
        assert any(command in block for block in commands), command
    loop = "for S in 0 1 2; do for P in dp split; do python -m mia_core run --preset $P --seed $S; done; done"
    assert loop in document
    seed_row = next(line for line in document.splitlines() if line.startswith("| 123 | 1.000 / 0.800 |"))
    assert "| 0.323 [0.273, 0.373] |" in seed_row  # online LiRA's TPR on seed 123, where its command puts it


def test_the_commands_are_read_by_the_command_line_parser(written):
    _, service = written
    runs = [cfg for kind, cfg, *_ in service.asked if kind == "run"]
    more = next(cfg for cfg in runs if cfg.attacks == ("lira_online", "loss"))
    assert more.references == 2 * preset("overfit").references and more.seed == 0
    audits = [(cfg.seed, count, white_box) for kind, cfg, *rest in service.asked if kind == "audit"
              for count, white_box in [rest]]
    assert audits[:3] == [(0, 5000, True), (1, 5000, True), (2, 5000, True)]
    assert audits[-2:] == [(0, 200, False), (0, 200, False)]  # the black-box audits of dp and overfit


def test_the_prose_follows_the_figures(written):
    document, _ = written
    prose = " ".join(document.split())
    assert "At 1% false positives, online LiRA finds 20%-32% of the members" in prose
    assert "The overfitted target gives away every canary the audit guesses on" in prose
    assert "the black-box audit, with 200 data canaries scored from the final model, proves nothing under DP" in prose
    assert f"The `defended` preset: {preset('defended').train_size:,} members" in document
