"""GB 11643-1999, the citizen's ID number (公民身份号码): 17 digits and a check character (ISO 7064 MOD 11-2).

The one place its rule is written: the custom expectation checks it, the demo writes it.
"""

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"  # by the weighted sum of the 17 digits, modulo 11


def check_character(digits: str) -> str:
    """The check character that follows these 17 digits."""
    return CHECK_CHARACTERS[sum(int(c) * w for c, w in zip(digits, WEIGHTS, strict=True)) % 11]
