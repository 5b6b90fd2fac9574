"""Drawn digits: preprocessing and synthetic handwriting."""
