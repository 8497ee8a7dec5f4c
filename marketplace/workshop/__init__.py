"""Workshop mode: many participants in one shared marketplace, each bound to one account by a join code.

`join(code)` gives a participant session; `facilitate(code)` gives the trainer's console logic (trainer role
required, refusals audited); exercises are data in `seed/exercises/`; checkpoints are portable JSON snapshots.
"""

from marketplace.workshop.exercises import Exercise, get_exercise, load_exercises, title_in
from marketplace.workshop.facilitator import (
    Dashboard,
    Facilitator,
    PolicyEffect,
    bootstrap_trainer,
    facilitate,
    released_exercises,
)
from marketplace.workshop.roster import RosterEntry, parse_mix, write_roster
from marketplace.workshop.session import Identity, ParticipantSession, Receipt, join

__all__ = [
    "Dashboard",
    "Exercise",
    "Facilitator",
    "Identity",
    "ParticipantSession",
    "PolicyEffect",
    "Receipt",
    "RosterEntry",
    "bootstrap_trainer",
    "facilitate",
    "get_exercise",
    "join",
    "load_exercises",
    "parse_mix",
    "released_exercises",
    "title_in",
    "write_roster",
]
