"""Streamlit glue shared by the pages: cached resources, progress display, Plotly figures."""
