"""The Membership page's answer: one verdict card per target (flagged or not at 1% FPR, right or wrong where the truth
is known, the session's tally), LiRA's picture of the digit, and every attack's figures in an expander."""

import streamlit as st

from mia_core.service import (LABELS, VERDICT_FPR, VERDICT_PREFERENCE, DotDrawing, EmptyDrawing, MembershipReport,
                              Tally, charts)

# On wider screens the card sits beside the canvas, and the page starts higher than Streamlit's pages, so that on a
# 1280x720 projector the canvas and the card lie above the fold. On a phone the card falls below the canvas, and a
# one-line-per-target summary (`verdict_pin`) stays in view at the bottom of the screen; the controls above the
# canvas take one line each and the canvas is shown at PHONE_CANVAS px, so that on a 390x664 screen the whole canvas
# lies above the summary without scrolling. The page's own bottom padding, as tall as the summary can grow, lets any
# widget be scrolled clear of it. The component that pins the canvas's toolbar takes no room. The canvas's toolbar
# floats above the canvas: the drawing's container leaves it room. A table's toolbar, which a touch screen keeps
# shown, floats above the table: on a phone the table of every attack leaves it room below the chart's legend.
PHONE_CANVAS = 240  # px on screen; the canvas keeps its 280 x 280 pixels, so a drawing reads the same on every screen
PHONE_CSS = """<style>
.st-key-drawing { padding-top: 2.4rem; }
div.st-key-pin_canvas_toolbar { display: none; }
div.st-key-verdict_pin { display: none; }
@media (min-width: 641px) {
  [data-testid="stMainBlockContainer"] { padding-top: 4rem; }
  h1 { padding-top: 0 !important; }
}
@media (max-width: 640px) {
  div.st-key-verdict_pin { display: block; position: fixed; left: 0; right: 0; bottom: 0; z-index: 999990;
    max-height: 25vh; overflow-y: auto; background-color: #ffffff; border-top: 3px solid #444;
    padding: 0.3rem 0.8rem 0.35rem 0.8rem; box-shadow: 0 -4px 12px rgba(0,0,0,0.15); }
  .st-key-verdict_pin p { font-size: 0.95rem; line-height: 1.4; }
  [data-testid="stMainBlockContainer"] { padding-top: 3.5rem; padding-bottom: calc(25vh + 1rem); }
  h1 { font-size: 1.5rem !important; padding: 0 !important; }
  .st-key-attack_table { padding-top: 2.5rem; }
}
</style>"""


# The canvas component keeps its styles in its own shadow root, where the page's CSS cannot reach: this pins its
# toolbar (clear, undo) open there, as it is while one hovers over the canvas with a mouse, and on a phone shows the
# canvas at PHONE_CANVAS px (the drawing library maps a finger's position through the canvas's shown size).
PIN_TOOLBAR_JS = """
export default function () {
  const watched = new WeakSet();  // the page and each shadow root: a canvas fills its own root after it is attached
  const watch = new MutationObserver(() => requestAnimationFrame(pin));
  function pin() {
    for (const host of document.querySelectorAll('*')) {
      const root = host.shadowRoot;
      if (!root) continue;
      if (!watched.has(root)) {
        watched.add(root);
        watch.observe(root, { childList: true, subtree: true });
      }
      if (root.querySelector('.dc-toolbar') && !root.querySelector('style[data-pin-toolbar]')) {
        const style = document.createElement('style');
        style.dataset.pinToolbar = '1';
        style.textContent = '.dc-toolbar { opacity: 1 !important; top: -2.65rem !important; } '
          + '@media (max-width: 640px) { .dc-container, .dc-container .canvas-container, .dc-container canvas '
          + '{ width: PHONE_CANVASpx !important; height: PHONE_CANVASpx !important; } }';
        root.appendChild(style);
      }
    }
  }
  watch.observe(document.body, { childList: true, subtree: true });
  pin();
  return () => watch.disconnect();
}
""".replace("PHONE_CANVAS", str(PHONE_CANVAS))


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


def canvas_hint(err: EmptyDrawing) -> str:
    """What the verdict's place says while the canvas holds no digit: how to draw one, or that a tap's dot is none."""
    if isinstance(err, DotDrawing):
        return ("A dot is not a digit: draw a whole digit, as large as the black square allows. "
                "The verdict appears here.")
    return "Draw a digit in the black square: white strokes, as in MNIST. The verdict appears here."


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
        st.caption(deciding_rule(reports))


def deciding_rule(reports: dict[str, MembershipReport]) -> str:
    """Why the attack that decides can differ from target to target and digit to digit: `VERDICT_PREFERENCE`'s
    order, in words, and each target's count of reference models."""
    def condition(attack: str, least: int) -> str:
        needs = [f"{least}+ reference models" if attack == "lira_online" else f"{least}+"] if least else []
        needs += ["not a drawing"] if attack == "lira_online" else []  # `verdict_attack`'s `unseen`
        return f" ({', '.join(needs)})" if needs else ""

    order = ", ".join(LABELS.get(a, a).split(" (")[0] + condition(a, least) for a, least in VERDICT_PREFERENCE.items())
    counts = ", ".join(f"{target} {report.references}" for target, report in reports.items())
    return f"Decided by the first that can set its threshold: {order}. Reference models: {counts}."


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


def who_decided(reports: dict[str, MembershipReport]) -> str:
    """Which attack made each target's verdict, and that its flag is the attack's score above its own threshold at
    `VERDICT_FPR`, not a member probability above 0.5: said beside LiRA's picture, which is not always the decider."""
    said = []
    for target, report in reports.items():
        verdict = report.verdict
        if verdict is not None:
            said.append(f"for {target}, {LABELS.get(verdict.attack, verdict.attack)}"
                        f"{'' if verdict.attack.startswith('lira') else ', not LiRA'}")
    if not said:
        return "No attack could set a threshold here: LiRA's picture shows the digit, with no verdict."
    return (f"The verdict's attack: {'; '.join(said)}. It flags a digit when its score passes its own threshold at "
            f"{VERDICT_FPR:.0%} FPR, not when a member probability passes 0.5. LiRA's picture is one attack's view "
            "of the digit.")


def why_panel(reports: dict[str, MembershipReport]) -> None:
    """LiRA's picture per target: where the target's confidence on this digit falls among its reference models'."""
    pictures = {t: r.lira for t, r in reports.items() if r.lira is not None}
    if not pictures:
        return
    with st.expander("Why this verdict: LiRA's picture of this digit", key="why_verdict", on_change="rerun") as why:
        if not why.open:  # built when opened: a drawn digit's answer draws no chart nobody looks at
            return
        st.caption(who_decided(reports))
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
        st.caption(f"The dotted line at 0.5 is not the verdict's: an attack flags a digit at its own threshold at "
                   f"{VERDICT_FPR:.0%} FPR.")
        st.container(key="attack_table").dataframe(  # on a phone, room above it for its toolbar
            [{"attack": LABELS.get(a, a), **{n: round(r.member_probability[a], 3) for n, r in reports.items()}}
             for a in charts.attack_order(some.member_probability)], hide_index=True)
        st.plotly_chart(charts.class_probabilities({n: r.probabilities for n, r in reports.items()}),
                        width="stretch", config={"displayModeBar": False})
