"""Stored models: the store, weights files, and the targets kept in it."""
