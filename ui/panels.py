"""Page sections that more than a few lines of widgets need: the epsilon audit, a model brought from elsewhere."""

from collections.abc import Callable

import streamlit as st

from mia_core.service import ARCHITECTURES, ExperimentConfig, with_interval
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
    if not go:
        return
    if weights is None:
        st.error("Choose a .safetensors file first.")
        return
    try:
        job = service().submit_upload(name, weights.getvalue(), file=weights.name, arch=arch, guess=guess,
                                      members=members.getvalue() if members else None)
    except ValueError as err:  # a bad or taken name, or a file that is not such weights: nothing stored
        st.error(f"Not stored: {err}")
        return
    done = wait_for(job, f"Training the attacker's models for {name}")
    if done is None:
        return
    st.session_state["target"] = name
    if done["members_known"]:
        best = max(done["attacks"].items(), key=lambda kv: kv[1]["auc"])
        st.success(f"{name}: test accuracy {done['test_accuracy']:.1%}, train accuracy {done['train_accuracy']:.1%}; "
                   f"the strongest attack, {best[0]}, has AUC {with_interval(best[1]['auc'], best[1]['auc_ci'])}. "
                   "Query it on the Membership page, or measure more on the Attack page.")
    else:
        st.success(f"{name}: test accuracy {done['test_accuracy']:.1%} on digits it may or may not have seen. "
                   "Query it on the Membership page, as a black box.")
