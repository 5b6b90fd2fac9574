"""Entry point: `streamlit run app.py`. Multipage navigation over the files in pages/."""

import streamlit as st

st.set_page_config(page_title="Membership inference on MNIST", page_icon="🔍", layout="wide")

navigation = st.navigation([
    st.Page("pages/overview.py", title="Overview", icon="🏠", default=True),
    st.Page("pages/targets.py", title="Targets", icon="🎯"),
    st.Page("pages/attack.py", title="Attack", icon="🗡️"),
    st.Page("pages/membership.py", title="Membership test", icon="✏️"),
    st.Page("pages/experiments.py", title="Experiments", icon="📊"),
])
navigation.run()
