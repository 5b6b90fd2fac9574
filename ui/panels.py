"""Page sections that more than a few lines of widgets need: the epsilon audit."""

from collections.abc import Callable

import streamlit as st

from mia_core.service import ExperimentConfig
from ui.jobs import wait_for
from ui.state import service

MEANING = (
    "**What the two numbers mean.** The accountant's epsilon is a proof about the training algorithm: no attack on "
    "this model can do better than it allows. The audit's epsilon is what one concrete attack *showed*. The truth "
    "lies between them. A large gap does not mean the accountant is wrong: a one-run, black-box audit with a few "
    "hundred canaries is a weak attacker. Without DP there is no promise at all, and the audit alone says how much "
    "privacy is lost at least: anything above about 1 means the model's answers reveal its training data clearly.")


def audit_panel(configuration: Callable[[], ExperimentConfig]) -> None:
    """Audit the configuration the page's form describes; keep the result in the session for the report."""
    st.subheader("Audit epsilon")
    st.caption("Trains the settings above once more, with canaries: digits given a wrong label, each put into the "
               "training set by a coin flip. The attack then guesses which canaries went in; the share it gets right "
               "proves a lower bound on epsilon (Steinke, Nasr and Jagielski 2023, one training run, 95% confidence).")
    with st.form("audit"):
        count = st.slider("Canaries", 50, 400, 200, 50)
        audit_now = st.form_submit_button("Audit the settings above")
    if audit_now:
        try:
            job = service().submit_audit(configuration(), count=count)
        except ValueError as err:
            st.error(f"Cannot audit these settings: {err}")
        else:
            if (audit := wait_for(job, "Training with canaries")) is not None:
                st.session_state["epsilon_audit"] = audit
    audit = st.session_state.get("epsilon_audit")
    if not audit:
        return
    c1, c2 = st.columns(2)
    c1.metric("Empirical epsilon (proved by the audit)", f"{audit['epsilon_lower_bound']:.2f}",
              help=f"{audit['correct']} of {audit['guesses']} guesses right; {audit['inserted']} of "
                   f"{audit['canaries']} canaries inserted.")
    promised = audit["accountant_epsilon"]
    c2.metric("Epsilon promised by DP-SGD's accountant", "none (no DP)" if promised is None else f"{promised:.2f}")
    st.markdown(MEANING)
