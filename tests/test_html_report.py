"""The take-home report: built from a run's JSON, opened in headless Chromium with the network cut off."""

import shutil
from pathlib import Path

import pytest

from mia_core.cli import main
from mia_core.present.html_report import plain_words

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium")
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    run, audit, out = folder / "run.json", folder / "audit.json", folder / "report.html"
    assert main(["run", "--train-size", "100", "--epochs", "20", "--shadows", "2", "--attacks",
                 "shadow,loss,seed_in_sample", "--executor", "inline", "--quiet", "--json", str(run)]) == 0
    assert main(["audit", "--preset", "overfit", "--train-size", "60", "--epochs", "10", "--canaries", "40",
                 "--executor", "inline", "--quiet", "--json", str(audit)]) == 0
    assert main(["report", str(run), "--out", str(out), "--audit", str(audit),
                 "--sweep", str(ROOT / "assets" / "results" / "sweep.csv")]) == 0
    return out


def test_the_report_says_in_plain_words_what_an_attacker_finds(report):
    text = report.read_text()
    assert "An attacker who accepts 1 false alarm in 100 finds" in text
    assert "python -m mia_core run --train-size 100" in text  # the command that made it
    assert "Epsilon audit" in text and "Privacy and utility" in text and "Most exposed members" in text
    assert "<script src=" not in text  # plotly.js is inside the file


def test_a_tpr_the_data_cannot_resolve_is_said_so_in_the_summary():
    result = {"attacks": {"loss": {"auc": 0.6, "auc_ci": [0.55, 0.65], "members": 200, "non_members": 200,
                                   "tpr_at_fpr": {"0.01": None}, "tpr_at_fpr_ci": {"0.01": None},
                                   "tpr_at_fpr_note": {"0.01": "TPR at 1.0% FPR needs at least 1,000 non-members"}}},
              "chance_band": [0.44, 0.56]}
    words = plain_words(result)
    assert "cannot be told from 200 non-members" in words
    assert "above the coin-flip band, though its 95% interval reaches into it" in words  # 0.55 lies in [0.44, 0.56]


def one_attack(auc: float, low: float, tpr: float, tpr_low: float) -> dict:
    return {"auc": auc, "auc_ci": [low, auc + 0.05], "members": 200, "non_members": 200,
            "tpr_at_fpr": {"0.01": tpr}, "tpr_at_fpr_ci": {"0.01": [tpr_low, tpr + 0.05]}, "tpr_at_fpr_note": {}}


def test_the_best_of_several_attacks_is_held_against_a_band_corrected_for_how_many_there_were():
    # 200 + 200 records: one attack's band is 0.443-0.557; the best of 3 attacks' (Bonferroni) 0.431-0.569
    result = {"attacks": {"loss": one_attack(0.565, 0.51, 0.02, 0.0), "shadow": one_attack(0.52, 0.46, 0.01, 0.0),
                          "rmia": one_attack(0.50, 0.44, 0.01, 0.0),
                          "seed_in_sample": one_attack(0.95, 0.93, 0.5, 0.4)},  # not an attack: never the best
              "chance_band": [0.443, 0.557]}
    words = plain_words(result)
    assert "Loss threshold" in words and "inside the coin-flip band: indistinguishable from guessing" in words
    assert "0.431 to 0.569" in words and "corrected (Bonferroni) for picking the best of 3 attacks" in words
    assert "a coin flip finds up to 1% on this many records, and the interval reaches that" in words
    result["attacks"]["loss"] = one_attack(0.70, 0.64, 0.2, 0.12)
    words = plain_words(result)
    assert "clearly better than guessing" in words and "above the 1% a coin flip finds, its whole interval too" in words


def test_the_members_found_at_1_percent_fpr_are_held_against_what_the_best_of_several_coin_flips_finds():
    # 100 + 1,000 records: a coin flip finds up to 3 members in 100 at 1% FPR; the best of 3, up to 4
    attacks = {name: {**one_attack(0.6, 0.55, 0.04, 0.01), "members": 100, "non_members": 1000}
               for name in ("loss", "shadow", "rmia")}
    words = plain_words({"attacks": attacks, "chance_band": [0.44, 0.56]})
    assert "a coin flip finds up to 4% on this many records, and the interval reaches that" in words
    attacks["loss"] = {**one_attack(0.8, 0.75, 0.2, 0.1), "members": 100, "non_members": 1000}
    assert "above the 4% a coin flip finds, its whole interval too" in plain_words({"attacks": attacks,
                                                                                   "chance_band": [0.44, 0.56]})


def test_the_report_colours_each_attack_labels_its_log_axes_and_puts_the_seeds_fit_last(report):
    from mia_core.present.charts import ATTACK_COLOURS

    text = report.read_text()
    for name in ("shadow", "loss", "seed_in_sample"):
        assert f'"color":"{ATTACK_COLOURS[name]}"' in text, name
    assert '"ticktext":["0.001","0.01","0.1","1"]' in text
    table = text[text.index("<h2>Attacks</h2>"):text.index("<h2>ROC")]
    assert table.index("Shadow models") < table.index("Loss threshold")  # the registry's order
    assert table.rindex("<tr>") < table.index("Seed&#x27;s in-sample fit (not an attack)")  # the last row
    assert "Target's recipe and defences" in text and "<td>dropout</td>" in text
    assert "an upper bound on what any attack can achieve, if the implementation matches its analysis" in text


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_the_report_opens_offline_and_every_chart_renders(report):
    from playwright.sync_api import sync_playwright

    requests = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})

        def only_the_file(route):  # no network: anything but the file itself is refused
            requests.append(route.request.url)
            route.continue_() if route.request.url.startswith("file://") else route.abort()

        page.route("**/*", only_the_file)
        page.goto(report.as_uri())
        figures = report.read_text().count('class="plotly-graph-div"')
        assert figures == 3  # ROC, exposed digits, privacy-utility
        page.wait_for_function("""(n) => {  // every one drawn: each its own SVG
            const plots = [...document.querySelectorAll('.js-plotly-plot')];
            return plots.length === n && plots.every(p => p.querySelector('.main-svg'));
        }""", arg=figures, timeout=60_000)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "7-report.png"), full_page=True)
        browser.close()
    assert [u for u in requests if not u.startswith("file://")] == []
