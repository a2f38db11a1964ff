"""Shards: which students this machine grades when n machines share one gradebook (``--shard i/n``).

The split depends on nothing but the student id and n, so n machines that each see the whole class,
or only part of it, never grade a student twice and never skip one.
"""

import hashlib


def parse_shard(text):
    """``"i/n"`` -> (i, n) with 1 <= i <= n; ValueError in the instructor's terms otherwise."""
    try:
        i, n = (int(part) for part in str(text).split("/"))
    except ValueError:
        raise ValueError(f"--shard takes i/n, e.g. --shard 1/3 for the first of three machines (got {text!r})") from None
    if not 1 <= i <= n:
        raise ValueError(f"--shard {text}: i must be between 1 and n (the shards are 1/{n} ... {n}/{n})")
    return i, n


def shard_of(student, n):
    """The shard (1..n) a student belongs to: a hash of the id alone, the same on every machine."""
    digest = hashlib.sha256(student.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % n + 1


def in_shard(student, shard):
    return shard is None or shard_of(student, shard[1]) == shard[0]
