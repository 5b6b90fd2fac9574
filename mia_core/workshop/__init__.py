"""A workshop: the room, the guessing game, planted drawings."""
