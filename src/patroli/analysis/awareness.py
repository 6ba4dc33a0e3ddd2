"""Awareness recognition: is a post a warning / news / testimony rather than an offer?

News items, government and embassy warnings, NGO posts, survivors' stories and
digital-literacy tips use the same words as recruitment ads. The rule engine
(``patroli.analysis.rules``) measures two cue sets defined as YAML data under
``data/rules/_signals/`` (``group: awareness`` and ``group: offer``); each matched cue
adds its ``weight`` to its group's strength (a cue counts at most ``max_hits`` times).

Decision (one place, used by both the engine's suppression gate and the scorer):

* ``awareness_dominates(a, o, legit)`` is true when the awareness strength ``a`` is at
  least ``AWARENESS_MIN`` and exceeds the effective offer strength
  (``o + LEGIT_AS_OFFER * legit``) times ``AWARENESS_RATIO``.
  Then the post *describes* signals instead of *showing* them: indicators whose rule
  has ``scope: offer`` (the ad-only flags) are suppressed, and the label is
  ``awareness``. Mechanical flags (``scope: any``: foreign phone, short link) stay.
* ``awareness_share(a, o)`` in 0..1 is the smooth version used to discount the risk
  score and to spread label probabilities.
"""

from __future__ import annotations

import math

#: Minimal awareness strength (sum of cue weights) before a post can count as awareness.
AWARENESS_MIN: float = 2.0
#: Awareness must exceed ``offer strength * AWARENESS_RATIO`` to dominate.
AWARENESS_RATIO: float = 0.8
#: Lawful-channel strength (licence, LTSA, office) counts this much as offer strength:
#: an agency or BP3MI relaying a licensed vacancy is an offer, not a warning.
LEGIT_AS_OFFER: float = 0.5


def effective_offer(offer: float, legit: float = 0.0) -> float:
    """Offer strength used against awareness: ``offer + LEGIT_AS_OFFER * legit``."""
    return offer + LEGIT_AS_OFFER * legit


def awareness_dominates(awareness: float, offer: float, legit: float = 0.0) -> bool:
    """True when awareness cues dominate offer cues (strengths are non-negative floats)."""
    o = effective_offer(offer, legit)
    return awareness >= AWARENESS_MIN and awareness > o * AWARENESS_RATIO


def awareness_share(awareness: float, offer: float, legit: float = 0.0) -> float:
    """Smooth 0..1 share of awareness over offer cues (logistic on the difference).

    0.5 when both strengths are equal; approaches 1 when awareness dominates. Inputs are
    cue strengths (sums of weights); the result is a plain float.
    """
    if awareness <= 0.0:
        return 0.0
    o = effective_offer(offer, legit)
    return 1.0 / (1.0 + math.exp(-(awareness - o * AWARENESS_RATIO - 0.5)))
