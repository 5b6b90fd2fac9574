"""The Membership page's "Pick an MNIST digit": a pool of the first target's digits and a number in it, both kept in
the page's URL (`pool`, `which`), and every target's answer on that digit."""

import streamlit as st

from mia_core.service import LoadedTarget, MembershipReport, query
from ui.links import LinkSettings, to_url
from ui.state import digits


def pool_names(name: str, target: LoadedTarget) -> dict[str, str]:
    """`pick_pools`' keys -> what the page calls them."""
    if not target.target.members_known:
        return {"non_members": f"digits the attacker set aside ({name}'s training set is not known)"}
    return {"members": f"members of {name}", "non_members": f"non-members of {name}", "test": "unseen test digits"}


def picked_digit(models: dict[str, LoadedTarget]) -> tuple[dict[str, MembershipReport], dict[str, bool | None], str]:
    """The reports of every target on the digit chosen, its truth per target (None: unknown) and its name in the
    session's tally."""
    first, target = next(iter(models.items()))
    pools = target.target.pick_pools()
    names = pool_names(first, target)
    shown = list(names.values())
    link = LinkSettings()
    pool = st.selectbox("From", shown, index=link.number("pool", 0, len(shown) - 1, 0))
    part = pools[next(k for k, v in names.items() if v == pool)]
    i = st.slider("Which one", 0, len(part) - 1, link.number("which", 0, len(part) - 1, 0))
    if link.refused:
        st.info(f"The link asked for a digit this page does not have: showing {pool}, number {i} "
                f"(0 to {len(part) - 1}).")
    to_url(pool=shown.index(pool), which=i)
    index = int(part[i])
    image, digit = digits().images[index], int(digits().labels[index])
    reports = {n: query(m.target.model, image, m.attacks, label=digit,
                        reference=m.reference_query(digits(), index=index)) for n, m in models.items()}
    truth = {n: m.target.role(index) == "member" if m.target.members_known else None for n, m in models.items()}
    st.markdown(f"**Ground truth:** digit {digit}; " + "; ".join(
        f"{n}: **{m.target.role(index)}**" for n, m in models.items()))
    return reports, truth, f"digit-{index}"
