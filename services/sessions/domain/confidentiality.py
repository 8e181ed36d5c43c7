"""R8: the domain never sees plaintext, and checks whose key sealed each text.

The service seals every text before calling the domain: notes, objectives,
comments, action items and feedback under its author's key for the pair
(readable by the two members only; shredded with her erasure), report details
under the moderators' public key (readable by moderation only, not even by this
service). A text sealed under another key would be readable by the wrong
people, or by nobody: refused here, naming R8.
"""

from __future__ import annotations

from contracts import sealed
from services.servicekit.errors import RuleViolation

#: Report details are sealed for the moderators (``moderators-1`` today; a
#: rotated key keeps the prefix).
MODERATORS_KEY_PREFIX = "moderators-"


def author_key_id(pair_id: str, author_id: str) -> str:
    """The key id of what ``author_id`` writes for the pair. Same format as
    ``servicekit.crypto.author_key_id`` (a unit test holds them together); not
    imported so the domain stays free of the crypto and database layer."""
    return f"pair-{pair_id}-by-{author_id}"


def _key_of(text: object, field: str) -> tuple[str, str]:
    """``(text, key id)`` of a sealed text; plaintext or anything else refused."""
    try:
        if not isinstance(text, str):
            raise sealed.NotSealed("Not a string.")
        key_id, _ = sealed.parse(text)
    except sealed.NotSealed as error:
        raise RuleViolation("R8", f"{field} must be sealed, never plaintext (R8): {error}",
                            field=field) from None
    return text, key_id


def sealed_for_pair(text: object, pair_id: str, author_id: str, field: str = "text") -> str:
    """R8: a text only the pair reads, sealed under its author's key for this pair
    (``pair-<pair_id>-by-<author_id>``: her erasure shreds her words, only hers)."""
    expected = author_key_id(pair_id, author_id)
    value, key_id = _key_of(text, field)
    if key_id != expected:
        raise RuleViolation("R8", f"{field} must be sealed under its author's key for this "
                            f"pair, {expected} (R8: readable by the pair only).", field=field)
    return value


def sealed_for_moderators(text: object, field: str = "details") -> str:
    """R8: report details, readable by moderators only."""
    value, key_id = _key_of(text, field)
    if not key_id.startswith(MODERATORS_KEY_PREFIX):
        raise RuleViolation("R8", f"{field} must be sealed under the moderators' key "
                            "(R8: readable by moderators only).", field=field)
    return value
