"""Verification: licensed-agency (P3MI) and permit (SIP) registry, watchlists and
allowlists, destination policy (DESIGN.md ``verify/``).

``model`` holds the records; ``registry`` imports official exports into snapshots;
``matching`` and ``verifier`` answer, without I/O, whether the agencies, permits and
contacts a post names check out (the analysis calls a ``Verifier`` passed in).
"""
