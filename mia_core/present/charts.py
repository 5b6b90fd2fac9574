"""Plotly figures for the pages and the take-home report. Inputs are plain numbers and arrays, never widgets."""

from collections.abc import Sequence

import numpy as np
import plotly.express as px
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mia_core.attacks import ATTACKS, LABELS
from mia_core.experiment.sweep import DefenceRun, describe
from mia_core.workshop.planting import PlantedDrawing

MEMBER, NON_MEMBER = "#d62728", "#1f77b4"
# One colour per attack, the same on every page and in the report; the seed's in-sample fit, not an attack, is grey.
ATTACK_COLOURS = dict(zip([a for a in ATTACKS if a != "seed_in_sample"],
                          ["#1f77b4", "#ff7f0e", "#2ca02c", "#8c564b", "#e377c2", "#d62728", "#9467bd", "#17becf",
                           "#bcbd22", "#393b79"])) | {"seed_in_sample": "#7f7f7f"}
LOG_TICKS = dict(tickvals=[0.001, 0.01, 0.1, 1], ticktext=["0.001", "0.01", "0.1", "1"])
PROBABILITY_TICKS = [0, 0.25, 0.5, 0.75, 1]  # a probability axis's ticks, on a phone's narrow chart too
HEADROOM = 1.1  # a chart's top, as a multiple of the highest curve's top


def attack_colour(name: str) -> str:
    return ATTACK_COLOURS.get(name, "#000000")


def attack_order(names) -> list[str]:
    """Attacks in the registry's order, the seed's in-sample fit last: it is never drawn first."""
    rank = {a: i for i, a in enumerate(a for a in ATTACKS if a != "seed_in_sample")}
    return sorted(names, key=lambda a: (a == "seed_in_sample", rank.get(a, len(rank)), a))


def training_curves(history: list) -> go.Figure:
    """The loss and the accuracies per epoch, from `EpochStats`."""
    rows = [vars(h) for h in history]
    epochs = [r["epoch"] for r in rows]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("training loss", "accuracy"))
    fig.add_scatter(x=epochs, y=[r["loss"] for r in rows], name="loss", row=1, col=1)
    fig.add_scatter(x=epochs, y=[r["train_accuracy"] for r in rows], name="train", row=1, col=2)
    tested = [r for r in rows if r.get("test_accuracy") is not None]  # the test set is evaluated on some epochs
    if tested:
        fig.add_scatter(x=[r["epoch"] for r in tested], y=[r["test_accuracy"] for r in tested], name="test",
                        mode="lines+markers", row=1, col=2)
    fig.update_xaxes(title_text="epoch")
    fig.update_layout(height=300, margin=dict(t=40, b=10))
    return fig


def roc_chart(curves: dict) -> go.Figure:
    """Log-log ROC, as Carlini et al. 2022 recommend: what matters is the low-FPR corner."""
    fig = go.Figure()
    floor = 1e-3
    grid = np.logspace(-3, 0, 50)
    fig.add_scatter(x=grid, y=grid, name="chance", line=dict(dash="dot", color="grey"))
    for name in attack_order(curves):
        c = curves[name]
        fig.add_scatter(x=np.maximum(c.fpr, floor), y=np.maximum(c.tpr, floor), mode="lines",
                        line=dict(color=attack_colour(name), dash="dash" if name == "seed_in_sample" else "solid"),
                        name=f"{LABELS.get(name, name)} (AUC {c.auc:.3f})")
    fig.update_xaxes(type="log", title="false positive rate", range=[-3, 0], **LOG_TICKS)
    fig.update_yaxes(type="log", title="true positive rate", range=[-3, 0], **LOG_TICKS)
    fig.update_layout(height=420, margin=dict(t=30, b=10), legend=dict(font=dict(size=10)))
    return fig


def score_histogram(scores: np.ndarray, is_member: np.ndarray, title: str) -> go.Figure:
    fig = go.Figure()
    # Each class as shares of itself: members and non-members are scored in different numbers.
    fig.add_histogram(x=scores[is_member], name="members", marker_color=MEMBER, opacity=0.6, nbinsx=30,
                      histnorm="percent")
    fig.add_histogram(x=scores[~is_member], name="non-members", marker_color=NON_MEMBER, opacity=0.6, nbinsx=30,
                      histnorm="percent")
    fig.update_layout(barmode="overlay", height=260, title=title, margin=dict(t=40, b=10),
                      xaxis_title="member probability", yaxis_title="% of the class")
    return fig


def error_bars(rows: list[dict], metric: str, scale: float = 1.0) -> dict:
    """Plotly error bars from each row's 95% interval (`_low`, `_high`), else its std over seeds."""
    if any(r.get(f"{metric}_low") is not None for r in rows):
        return dict(type="data", symmetric=False,
                    array=[(r[f"{metric}_high"] - r[metric]) * scale if r.get(f"{metric}_high") is not None else 0
                           for r in rows],
                    arrayminus=[(r[metric] - r[f"{metric}_low"]) * scale if r.get(f"{metric}_low") is not None else 0
                                for r in rows])
    if any(r.get(f"{metric}_std") is not None for r in rows):
        return dict(type="data", array=[(r.get(f"{metric}_std") or 0) * scale for r in rows])
    return dict(visible=False)


def metrics_per_run(rows: list[dict], metric: str) -> go.Figure:
    """One bar per attack and run, with its 95% interval."""
    fig = go.Figure()
    for attack in attack_order(dict.fromkeys(r["attack"] for r in rows)):
        sub = [r for r in rows if r["attack"] == attack and r[metric] is not None]
        fig.add_bar(x=[r["run"] for r in sub], y=[r[metric] for r in sub], name=LABELS.get(attack, attack),
                    marker_color=attack_colour(attack), error_y=error_bars(sub, metric))
    fig.update_layout(barmode="group", title=f"{metric} per run (95% intervals)", xaxis_title="run",
                      xaxis=dict(dtick=1))
    if metric in ("accuracy", "auc"):
        fig.add_hline(y=0.5, line_dash="dot", annotation_text="coin flip", annotation_position="bottom right")
    fig.update_layout(height=320, margin=dict(t=40, b=10))
    return fig


def class_probabilities(by_target: dict[str, np.ndarray]) -> go.Figure:
    """by_target: target name -> its softmax [10]; one group of bars per digit."""
    fig = go.Figure()
    for target, probabilities in by_target.items():
        fig.add_bar(x=list(range(10)), y=probabilities, name=f"{target}: predicts {int(np.argmax(probabilities))}")
    fig.update_xaxes(dtick=1, title="digit")
    fig.update_yaxes(range=[0, 1], title="probability")
    fig.update_layout(barmode="group", height=260, margin=dict(t=30, b=10), title="What each target predicts")
    return fig


def member_probabilities(by_target: dict[str, dict[str, float]]) -> go.Figure:
    """by_target: target name -> {attack name -> P(member)}: one group of bars per target, one colour per attack."""
    fig = go.Figure()
    targets = list(by_target)
    attacks = attack_order(dict.fromkeys(a for probs in by_target.values() for a in probs))
    for attack in reversed(attacks):  # horizontal bars stack upwards: the first attack on top
        fig.add_bar(y=targets, x=[by_target[t].get(attack) for t in targets], name=LABELS.get(attack, attack),
                    orientation="h", marker_color=attack_colour(attack))
    fig.add_vline(x=0.5, line_dash="dot", line_color="grey")
    fig.update_xaxes(range=[0, 1], title="member probability", tickvals=PROBABILITY_TICKS)
    fig.update_yaxes(automargin=True, categoryorder="array", categoryarray=targets[::-1])  # the first target on top
    fig.update_layout(barmode="group", height=120 + 22 * len(attacks) * len(targets),
                      margin=dict(t=40, b=10, l=10, r=20),  # r: room for the "1" under the axis's end
                      legend=dict(orientation="h", y=-0.25, traceorder="reversed"))
    return fig


def lira_figure(picture, *, title: str = "", target: str = "the target", also: dict[str, float] | None = None
                 ) -> go.Figure:
    """LiRA's view of one record (a `LiraPicture`): its logit-scaled confidence under reference models that did not
    train on it (and did), the two Gaussians LiRA fits, and the target's value as a line (named `target`);
    `also`: more models' values as dashed lines (name -> value)."""
    also = also or {}
    values = [picture.target, picture.out_centre, picture.in_centre, *picture.out_values, *picture.in_values,
              *also.values()]
    widest = max(picture.out_spread, picture.in_spread)
    low, high = min(values) - 2.5 * widest, max(values) + 2.5 * widest
    grid = np.linspace(low, high, 400)
    fig = go.Figure()
    highest = 0.0
    for centre, spread, name, colour, values, dash in (
            (picture.out_centre, picture.out_spread, "reference models without it", NON_MEMBER, picture.out_values,
             "solid"),
            (picture.in_centre, picture.in_spread, "reference models with it" if len(picture.in_values) else
             "what a member would look like (LiRA's estimate)", MEMBER, picture.in_values,
             "solid" if len(picture.in_values) else "dash")):
        density = np.exp(-0.5 * ((grid - centre) / spread) ** 2) / (spread * np.sqrt(2 * np.pi))
        highest = max(highest, 1 / (spread * np.sqrt(2 * np.pi)))  # the curve's peak, on the grid or between
        fig.add_scatter(x=grid, y=density, mode="lines", name=name, line=dict(color=colour, dash=dash),
                        legendgroup=name)
        if len(values):
            fig.add_scatter(x=values, y=np.zeros(len(values)), mode="markers", name=f"{name}: each model",
                            marker=dict(color=colour, symbol="line-ns-open", size=16, line_width=2),
                            legendgroup=name, showlegend=False, hovertemplate="%{x:.2f}")
    fig.add_vline(x=picture.target, line_color="black", line_width=3, annotation_text=target,
                  annotation_position="top")
    for name, value in also.items():
        fig.add_vline(x=value, line_color="grey", line_width=2, line_dash="dash", annotation_text=name,
                      annotation_position="bottom")
    fig.update_xaxes(title="log(p / (1 − p)) on its class", automargin=True)
    # From the curves' peaks, with room above them; below 0, room for the reference models' ticks, drawn at 0.
    fig.update_yaxes(showticklabels=False, title="", range=[-0.08 * highest, HEADROOM * highest])
    fig.update_layout(height=320, margin=dict(t=50 if title else 30, b=10, l=10, r=10), title=title or None,
                      legend=dict(orientation="h", y=-0.3, yanchor="top"))
    return fig


def planted_against_kept_out(drawings: Sequence[PlantedDrawing]) -> go.Figure:
    """A plant job's drawings, each attack's member probability of each: one dot per drawing."""
    fig = go.Figure()
    for planted, name, colour in ((True, "planted", MEMBER), (False, "kept out", NON_MEMBER)):
        shown = [d for d in drawings if d.planted == planted]
        attacks = [LABELS.get(a, a) for d in shown for a in d.member_probability]
        fig.add_box(y=attacks, x=[p for d in shown for p in d.member_probability.values()], name=name,
                    orientation="h", boxpoints="all", pointpos=0, marker_color=colour, line_color=colour,
                    fillcolor="rgba(0,0,0,0)")
    fig.add_vline(x=0.5, line_dash="dot", annotation_text="coin flip", annotation_position="top",
                  annotation_yshift=12)
    fig.update_xaxes(range=[0, 1], title="member probability of each of your drawings")
    fig.update_layout(boxmode="group", height=420, margin=dict(t=40, b=10))
    return fig


def experiment_table_chart(rows: list[dict], setting: str, seed_rows: list[tuple]) -> go.Figure:
    """Attack accuracy per epoch count: realistic, the seed's in-sample fit, and the seed's published figure."""
    fig = go.Figure()
    for attack, name in (("shadow", "shadow models (realistic)"), ("seed_in_sample", "seed's in-sample fit")):
        sub = [r for r in rows if r["setting"] == setting and r["attack"] == attack]
        fig.add_scatter(x=[r["epochs"] for r in sub], y=[100 * r["accuracy"] for r in sub], name=name,
                        error_y=error_bars(sub, "accuracy", 100), mode="lines+markers")
    fig.add_scatter(x=[r[0] for r in seed_rows], y=[r[1] for r in seed_rows], name="seed's published",
                    mode="markers", marker=dict(symbol="x", size=11))
    fig.add_hline(y=50, line_dash="dot", annotation_text="coin flip")
    fig.update_layout(height=320, title=f"{setting}: attack accuracy (%)", xaxis_title="epochs",
                      margin=dict(t=40, b=10))
    return fig


def exposed_digits(images: np.ndarray, scores: np.ndarray) -> go.Figure:
    """A row of digits [n, 28, 28] titled with their member probabilities."""
    fig = px.imshow(images, facet_col=0, binary_string=True, facet_col_spacing=0.01)
    for i, annotation in enumerate(fig.layout.annotations):
        annotation.text = f"{scores[i]:.3f}"
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False)
    fig.update_layout(height=180, margin=dict(t=30, b=0, l=0, r=0))
    return fig


PANELS = ("AUC", "TPR @ 1% FPR", "accuracy")  # the best attack's, one panel each: short enough for a phone


def privacy_utility(series: dict[str, list[DefenceRun]], *, baseline: DefenceRun | None = None,
                    seed_accuracies: dict[str, float] | None = None,
                    chance_auc: tuple[float, float] | None = None) -> go.Figure:
    """Test accuracy against the strongest realistic attack, one marker per trained target.

    series: a name (a sweep, this session's runs) -> its runs, each series its own colour; a run's settings in
    words are its hover text. chance_auc: the AUC band a coin flip falls in, shaded. Laid out for a phone too:
    each panel's short name is its x-axis title, the legend runs across below the panels, and the points carry no
    printed labels (neighbours' labels overlap): their settings show on hover."""
    fig = make_subplots(rows=1, cols=3, shared_yaxes=True, horizontal_spacing=0.04)
    colours = px.colors.qualitative.D3
    for col, key in enumerate(("best_auc", "best_tpr", "best_accuracy"), 1):
        for i, (name, runs) in enumerate(series.items()):
            runs = [r for r in runs if getattr(r, key) is not None]  # an unresolved TPR has no place
            auc_bars = dict(type="data", symmetric=False, array=[r.best_auc_ci[1] - r.best_auc for r in runs],
                            arrayminus=[r.best_auc - r.best_auc_ci[0] for r in runs])
            fig.add_scatter(x=[getattr(r, key) for r in runs], y=[r.test_accuracy for r in runs],
                            mode="markers", text=[describe(r.settings) for r in runs],
                            error_x=auc_bars if key == "best_auc" else None,
                            hovertemplate="%{text}<br>attack %{x:.3f}<br>test accuracy %{y:.3f}",
                            marker=dict(size=10, color=colours[i % len(colours)]), name=name,
                            legendgroup=name, showlegend=col == 1, row=1, col=col)
        if baseline:
            fig.add_scatter(x=[getattr(baseline, key)], y=[baseline.test_accuracy], mode="markers", name="undefended",
                            marker=dict(size=16, symbol="star", color=MEMBER), showlegend=col == 1, row=1, col=col)
    if chance_auc:
        fig.add_vrect(x0=chance_auc[0], x1=chance_auc[1], fillcolor="grey", opacity=0.15, line_width=0, row=1, col=1)
    chance = {1: 0.5, 2: 0.01, 3: 0.5}
    for col, x in chance.items():
        fig.add_vline(x=x, line_dash="dot", line_color="grey", row=1, col=col)
    for name, acc in (seed_accuracies or {}).items():  # the seed's published attack accuracies
        fig.add_vline(x=acc, line_dash="dash", line_color="black", annotation_text=name,
                      annotation_textangle=-90, annotation_font_size=9, row=1, col=3)
    for col, title in enumerate(PANELS, 1):
        fig.update_xaxes(title_text=title, nticks=4, row=1, col=col)
    fig.update_yaxes(title_text="target test accuracy", row=1, col=1)
    fig.update_layout(height=440, margin=dict(t=20, b=10, l=10, r=10),
                      legend=dict(orientation="h", yanchor="top", y=-0.25, xanchor="left", x=0))
    return fig
