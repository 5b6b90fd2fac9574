"""mia_core: membership inference attacks on MNIST LeNets. No streamlit in here."""
