"""Presenter mode: a guided story for the big screen, with the join card and the room's answers."""

from ui.presenter import story
from ui.state import inside_the_app

inside_the_app()
story()
