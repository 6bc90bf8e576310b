"""What counts as an AWS system tag."""

SYSTEM_TAG_PREFIX = "aws:"


def is_system_tag_key(key: str) -> bool:
    """True for keys in the reserved ``aws:`` namespace.

    Compared without regard to case (``AWS:x`` is reserved too): AWS's tagging docs reserve
    the prefix, and a controller must never get a case variant past the emulator that AWS
    could refuse.
    """
    return key.lower().startswith(SYSTEM_TAG_PREFIX)
