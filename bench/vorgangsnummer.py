"""Generated Vorgangsnummern for the benchmarks, with the same check symbol as Domain/Vorgangsnummer.swift:
the sum of i*v_i over positions 1..10 is 0 mod 29."""
import random

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXY"


def generate(rng: random.Random) -> str:
    values = [rng.randrange(29) for _ in range(9)]
    s = sum((i + 1) * v for i, v in enumerate(values)) % 29
    check = ((29 - s) % 29) * 3 % 29
    return "".join(ALPHABET[v] for v in values + [check])
