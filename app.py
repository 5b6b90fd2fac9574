"""Entry point: `streamlit run app.py`. Multipage navigation over the files in pages/."""

import streamlit as st

st.set_page_config(page_title="Membership inference on MNIST", page_icon=":material/search:", layout="wide")

navigation = st.navigation([
    st.Page("pages/overview.py", title="Overview", icon=":material/home:", default=True),
    st.Page("pages/targets.py", title="Targets", icon=":material/target:"),
    st.Page("pages/attack.py", title="Attack", icon=":material/swords:"),
    st.Page("pages/membership.py", title="Membership test", icon=":material/draw:"),
    st.Page("pages/defences.py", title="Defences", icon=":material/shield:"),
    st.Page("pages/experiments.py", title="Experiments", icon=":material/table_chart:"),
])
navigation.run()
