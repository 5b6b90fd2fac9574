"""Page sections that more than a few lines of widgets need: the epsilon audit, a model brought from elsewhere."""

from collections.abc import Callable

import streamlit as st

from mia_core.service import (ARCHITECTURES, AuditResult, BroughtTarget, ExperimentConfig, audit_trade_off_chart,
                              with_interval)
from ui.jobs import finished, watch
from ui.state import service

MEANING = (
    "**What the numbers mean.** The accountant's epsilon is an upper bound on what any attack can show, up to delta, "
    "if the implementation matches its analysis. The audit's epsilon is what one concrete attack *proved*, at 95% "
    "confidence; the truth lies between them. The ceiling is the most this many canaries could ever prove, however "
    "leaky the model: an audit at its ceiling says the attack was essentially perfect, not that the leak is that "
    "size. Without DP no finite epsilon is promised at all.")


def audit_panel(configuration: Callable[[], ExperimentConfig]) -> None:
    """Audit the configuration the page's form describes; keep the result in the session for the report."""
    st.subheader("Audit epsilon")
    st.caption("Trains the settings above once more, with canaries, each put in by a coin flip; an attack guesses "
               "which went in, and its right guesses prove a lower bound on epsilon in one training run (Steinke, "
               "Nasr and Jagielski 2023; the f-DP analysis of the same guesses, Mahloujifar, Melis and Chaudhuri "
               "2024). Black-box: digits given a wrong label, scored by the model's loss. White-box (DP-SGD only): "
               "gradient canaries added to DP-SGD's clipped-gradient sum, scored on every step's update.")
    with st.form("audit"):
        white_box = st.toggle("White-box (gradient canaries; needs DP-SGD)")
        count = st.slider("Canaries (black-box)", 50, 400, 200, 50,
                          help="The white-box audit uses 5,000 gradient canaries.")
        audit_now = st.form_submit_button("Audit the settings above")
    if audit_now:
        try:
            job = (service().submit_audit(configuration(), count=5000, white_box=True) if white_box
                   else service().submit_audit(configuration(), count=count))
        except ValueError as err:
            st.error(f"Cannot audit these settings: {err}")
        else:
            watch("epsilon_audit", job, "Training with canaries")
    if (done := finished("epsilon_audit")) and done.ok:
        st.session_state["epsilon_audit"] = done.result
    if audit := st.session_state.get("epsilon_audit"):
        audit_result(AuditResult.from_dict(audit))


def audit_result(audit: AuditResult) -> None:
    """An audit's two bounds with their ceilings, the accountant's promise, a sentence, and its trade-off chart."""
    c1, c2, c3 = st.columns(3)
    c1.metric("Epsilon proved by the audit", f"{audit.epsilon_lower_bound:.2f}",
              help=f"Steinke et al.'s bound, which assumes nothing of the mechanism. The f-DP analysis of the same "
                   f"guesses refutes mu-GDP below mu = {audit.mu_lower_bound:.3f}: epsilon "
                   f"{audit.epsilon_lower_bound_fdp:.2f} for a Gaussian trade-off curve.")
    c2.metric("Most these canaries could prove", f"{audit.epsilon_ceiling:.2f}")
    c3.metric("Promised by DP-SGD's accountant",
              "no promise (no DP)" if audit.accountant_epsilon is None else f"{audit.accountant_epsilon:.2f}")
    st.markdown(audit.summary())
    st.markdown(MEANING)
    if audit.trade_off:
        st.plotly_chart(audit_trade_off_chart(audit.to_dict()), width="stretch", config={"displayModeBar": False})


def upload_panel() -> None:
    """Bring a model trained elsewhere: safetensors weights, optionally its training set; checked before any work."""
    st.subheader("Bring your own model")
    st.caption("Weights of a LeNet trained anywhere, saved with `safetensors.torch.save_file(model.state_dict(), ...)` "
               "(this project's own: `python -m mia_core export NAME --out FILE.safetensors`). The file is read as "
               "numbers only: nothing in it is ever run or unpickled. The attacker then trains shadow and reference "
               "models on its own digits, so the Membership page can query your model. With its training set (one "
               "dataset index per line, as `export` writes), every attack is also measured on it, with intervals; "
               "without it, your model stays a black box.")
    with st.form("upload"):
        c1, c2 = st.columns(2)
        weights = c1.file_uploader("Weights (.safetensors)", type=["safetensors"])
        members = c1.file_uploader("Its training set (optional, .csv)", type=["csv", "txt"])
        arch = c2.selectbox("Architecture", sorted(ARCHITECTURES))
        guess = c2.selectbox("The attacker guesses it trained like", ["overfit", "defended"],
                             help="How the shadow and reference models train: the attacker's guess at your recipe.")
        name = c2.text_input("Save as", "my-model")
        go = st.form_submit_button("Check and attack it")
    if go and weights is None:
        st.error("Choose a .safetensors file first.")
    elif go:
        try:
            job = service().submit_upload(name, weights.getvalue(), file=weights.name, arch=arch, guess=guess,
                                          members=members.getvalue() if members else None)
        except ValueError as err:  # a bad or taken name, or a file that is not such weights: nothing stored
            st.error(f"Not stored: {err}")
        else:
            watch("upload", job, f"Training the attacker's models for {name}", about=name)
    if not ((finish := finished("upload")) and finish.ok):
        return
    done, name = BroughtTarget.from_result(finish.result), finish.about
    st.session_state["target"] = name
    if done.strongest is not None:
        auc = with_interval(done.strongest_auc, done.strongest_auc_ci)
        st.success(f"{name}: test accuracy {done.test_accuracy:.1%}, train accuracy {done.train_accuracy:.1%}; the "
                   f"strongest attack, {done.strongest}, has AUC {auc}. "
                   "Query it on the Membership page, or measure more on the Attack page.")
    else:
        st.success(f"{name}: test accuracy {done.test_accuracy:.1%} on digits it may or may not have seen. "
                   "Query it on the Membership page, as a black box.")
