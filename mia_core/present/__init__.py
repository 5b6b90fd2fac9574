"""Presentation: charts, plain-text tables, the HTML report."""
