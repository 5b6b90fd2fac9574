"""The epsilon audit as a trade-off chart (Plotly): how well the canaries' scores tell inserted from left-out
canaries (TPR against FPR), against the curves of mu-GDP: the accountant's (what no attack may beat, if the
implementation matches its analysis) and the one the audit refuted."""

import numpy as np
import plotly.graph_objects as go

from ..audit.bounds import gaussian_tradeoff

FLOOR = 1e-3  # the log axes' lower end


def gdp_curve(mu: float, fpr: np.ndarray) -> np.ndarray:
    """The most TPR a mu-GDP mechanism allows at each FPR: 1 - f(FPR)."""
    return 1 - gaussian_tradeoff(fpr, mu)


def audit_trade_off_chart(audit: dict) -> go.Figure:
    """audit: an AuditResult's dict (`audit --json`'s "audit"). Log-log, where the low-FPR corner shows."""
    grid = np.logspace(np.log10(FLOOR), 0, 200)
    fig = go.Figure()
    fig.add_scatter(x=grid, y=grid, name="chance", line=dict(dash="dot", color="grey"))
    if audit.get("accountant_mu") is not None:
        fig.add_scatter(x=grid, y=gdp_curve(audit["accountant_mu"], grid), mode="lines",
                        name=f"accountant: {audit['accountant_mu']:.2f}-GDP "
                             f"(epsilon {audit['accountant_epsilon']:.2f})",
                        line=dict(color="black"))
    if audit.get("mu_lower_bound"):
        fig.add_scatter(x=grid, y=gdp_curve(audit["mu_lower_bound"], grid), mode="lines",
                        name=f"refuted by the audit: {audit['mu_lower_bound']:.2f}-GDP "
                             f"(epsilon {audit['epsilon_lower_bound_fdp']:.2f})", line=dict(dash="dash"))
    curve = audit.get("trade_off") or {}
    if curve.get("fpr"):
        fig.add_scatter(x=np.maximum(curve["fpr"], FLOOR), y=np.maximum(curve["tpr"], FLOOR), mode="lines",
                        name=f"the audit's canary scores ({audit['kind']})")
    fig.update_xaxes(type="log", title="false positive rate (left-out canaries guessed in)", range=[-3, 0])
    fig.update_yaxes(type="log", title="true positive rate (inserted canaries guessed in)", range=[-3, 0])
    fig.update_layout(height=380, margin=dict(t=30, b=10), legend=dict(x=0.35, y=0.05))
    return fig
