"""The Membership page's answer: one verdict card per target (flagged or not at 1% FPR, right or wrong where the truth
is known, the session's tally), LiRA's picture of the digit, and every attack's figures in an expander."""

import streamlit as st

from mia_core.service import LABELS, VERDICT_FPR, MembershipReport, Tally, charts

# On wider screens the card sits beside the canvas. On a phone it falls below the canvas, and a one-line-per-target
# summary (`verdict_pin`) stays in view at the bottom of the screen, short enough to leave the canvas and its toolbar
# free; the page's own bottom padding keeps the last widgets reachable above it.
# The canvas's toolbar floats above the canvas: the drawing's container leaves it room, and it stays visible.
PHONE_CSS = """<style>
.st-key-drawing { padding-top: 2.4rem; }
div.st-key-verdict_pin { display: none; }
@media (max-width: 640px) {
  div.st-key-verdict_pin { display: block; position: fixed; left: 0; right: 0; bottom: 0; z-index: 999990;
    max-height: 25vh; overflow-y: auto; background-color: #ffffff; border-top: 3px solid #444;
    padding: 0.3rem 0.8rem 0.35rem 0.8rem; box-shadow: 0 -4px 12px rgba(0,0,0,0.15); }
  .st-key-verdict_pin p { font-size: 0.95rem; line-height: 1.4; }
  [data-testid="stMainBlockContainer"] { padding-top: 3.5rem; padding-bottom: calc(25vh + 1rem); }
  h1 { font-size: 1.8rem !important; }
}
</style>"""


# The canvas component keeps its styles in its own shadow root, where the page's CSS cannot reach: this pins its
# toolbar (clear, undo) open there, as it is while one hovers over the canvas with a mouse.
PIN_TOOLBAR_JS = """
export default function () {
  const pin = () => {
    for (const host of document.querySelectorAll('*')) {
      const root = host.shadowRoot;
      if (root && root.querySelector('.dc-toolbar') && !root.querySelector('style[data-pin-toolbar]')) {
        const style = document.createElement('style');
        style.dataset.pinToolbar = '1';
        style.textContent = '.dc-toolbar { opacity: 1 !important; top: -2.65rem !important; }';
        root.appendChild(style);
      }
    }
  };
  pin();
  const watch = new MutationObserver(() => requestAnimationFrame(pin));
  watch.observe(document.body, { childList: true, subtree: true });
  return () => watch.disconnect();
}
"""


def phone_layout() -> None:
    st.html(PHONE_CSS)
    st.components.v2.component("pin_canvas_toolbar", js=PIN_TOOLBAR_JS)(key="pin_canvas_toolbar")


def _truth_words(member: bool | None) -> str:
    return "" if member is None else ("a member" if member else "not a member")


def _tally(target: str) -> Tally:
    tally = Tally()
    for (counted, _), (member, flagged) in st.session_state.get("verdicts_seen", {}).items():
        if counted == target:
            tally = tally.add(member=member, flagged=flagged)
    return tally


def _count(target: str, record: str, member: bool | None, flagged: bool) -> None:
    """Keep one verdict per target and record in the session's tally, however often the page reruns; a drawing's
    later strokes replace its earlier verdict."""
    if member is not None:
        st.session_state.setdefault("verdicts_seen", {})[(target, record)] = (member, flagged)


def drawing_key(drawn: bool) -> str:
    """The tally's name for the drawing on the canvas: one per drawing from a clear canvas to the next, so its
    strokes count once. `drawn`: the canvas holds strokes now."""
    number = st.session_state.setdefault("drawing_number", 0)
    if not drawn and st.session_state.get("drawing_open"):
        number = st.session_state["drawing_number"] = number + 1
    st.session_state["drawing_open"] = drawn
    return f"drawing-{number}"


def verdict_card(box, reports: dict[str, MembershipReport], truth: dict[str, bool | None], record: str,
                 *, drawn: bool) -> None:
    """Fill the keyed container `box`: one line per target, and the summary a phone keeps in view. `truth`:
    target -> member or not (None: unknown); a drawing is a non-member of every model."""
    verdict_pin(reports, truth)
    with box:
        st.markdown(f"**Verdict** at {VERDICT_FPR:.0%} false-positive rate")
        for target, report in reports.items():
            verdict = report.verdict
            if verdict is None:
                st.markdown(f"**{target}**: no verdict (its attacker has too few of its own non-members to set a "
                            f"threshold at {VERDICT_FPR:.0%} FPR)")
                continue
            member = truth.get(target)
            said = "🔴 **flagged as a member**" if verdict.flagged else "⚪ **not flagged**"
            line = f"**{target}**: {said} by {LABELS.get(verdict.attack, verdict.attack)}"
            if member is not None:
                right = verdict.right(member)
                line += (f" — **{'RIGHT' if right else 'WRONG'}**: "
                         + ("a drawing is in no training set" if drawn else f"it is {_truth_words(member)}"))
                if member and not verdict.flagged:
                    line += f" (at {VERDICT_FPR:.0%} FPR most members go unflagged: a flag is what counts)"
                _count(target, record, member, verdict.flagged)
            st.markdown(line)
            tally = _tally(target)
            if tally.members + tally.non_members:
                st.caption(f"This session, {target}: {tally.sentence()}.")


def verdict_pin(reports: dict[str, MembershipReport], truth: dict[str, bool | None]) -> None:
    """The summary in one keyed container (`verdict_pin`), one short line per target: shown on phones only."""
    lines = [f"**Verdict** at {VERDICT_FPR:.0%} FPR, details below"]
    for target, report in reports.items():
        verdict, member = report.verdict, truth.get(target)
        if verdict is None:
            lines.append(f"{target}: no verdict")
            continue
        said = "🔴 **MEMBER**" if verdict.flagged else "⚪ not flagged"
        right = "" if member is None else f" · {'RIGHT' if verdict.right(member) else 'WRONG'}"
        lines.append(f"**{target}**: {said}{right}")
    st.container(key="verdict_pin").markdown("  \n".join(lines))


def why_panel(reports: dict[str, MembershipReport]) -> None:
    """LiRA's picture per target: where the target's confidence on this digit falls among its reference models'."""
    pictures = {t: r.lira for t, r in reports.items() if r.lira is not None}
    if not pictures:
        return
    with st.expander("Why this verdict: LiRA's picture of this digit", key="why_verdict", on_change="rerun") as why:
        if not why.open:  # built when opened: a drawn digit's answer draws no chart nobody looks at
            return
        st.caption("Each tick is one reference model the attacker trained itself: blue ones never saw this digit, red "
                   "ones trained on it. The curves are the Gaussians LiRA fits to them; the black line is the "
                   "target. Far to the right of the blue curve, and the digit looks like a member.")
        for target, picture in pictures.items():
            st.plotly_chart(charts.lira_figure(picture, title=f"{target}: class {picture.label}"), width="stretch",
                            config={"displayModeBar": False}, key=f"lira_{target}")


def all_attacks(reports: dict[str, MembershipReport]) -> None:
    """Every attack's member probability, chart and table, with the class probabilities: for the curious, built
    only while its expander is open (as is LiRA's picture)."""
    some = next(iter(reports.values()))
    with st.expander("Member probability", key="every_attack", on_change="rerun") as every:
        if not every.open:
            return
        st.markdown("Every attack's member probability, coloured as on every page (the attacks condition on " +
                    ", ".join(f"class {r.label} for {n}" for n, r in reports.items()) + ")")
        st.plotly_chart(charts.member_probabilities({n: r.member_probability for n, r in reports.items()}),
                        width="stretch", config={"displayModeBar": False})
        st.dataframe([{"attack": LABELS.get(a, a), **{n: round(r.member_probability[a], 3) for n, r in reports.items()}}
                      for a in charts.attack_order(some.member_probability)], hide_index=True)
        st.plotly_chart(charts.class_probabilities({n: r.probabilities for n, r in reports.items()}),
                        width="stretch", config={"displayModeBar": False})
