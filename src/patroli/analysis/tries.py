"""Word alternations shaped as prefix tries, for the finders' regexes (pure).

``re`` tries a plain alternation ``a|b|c`` word by word at each position; a trie tests
each character once (``foo|fob`` -> ``fo(?:b|o)``), which is much cheaper for long word
lists (digit words, wage and fee words, place names).
"""

from __future__ import annotations

import re

__all__ = ["trie_alternation"]


def trie_alternation(words: list[str] | frozenset[str] | set[str], space: str = " ") -> str:
    """A regex that matches the same words as the alternation of ``words``, as a trie.

    Branches are in character order; a word that another word continues makes the rest
    optional (``thai`` + ``thailand`` -> ``thai(?:land)?``), so the longer word is tried
    first and the shorter one on backtracking: where the whole pattern needs a longer
    match (a look-ahead after it, a later element), the plain alternation of the same
    words finds the same span. ``space``: the regex a space inside a word becomes (e.g.
    ``r"[\\s\\-]?"``: a space, a dash or nothing). Returns ``""`` for no words.
    """
    root: dict = {}
    for w in words:
        node = root
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        branches = [(space if ch == " " else re.escape(ch)) + build(node[ch])
                    for ch in sorted(k for k in node if k)]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(root)
