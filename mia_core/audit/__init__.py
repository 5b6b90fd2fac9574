"""Auditing a training run's privacy: canaries, guesses, bounds."""
