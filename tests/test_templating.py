"""How the pages write sizes: as humanize.naturalsize writes them, by a loop of our own (it is called
thousands of times per course editor)."""
import random

import humanize

from mediamgr.templating import human_size


def test_sizes_read_as_humanize_writes_them():
    chosen = random.Random(13)
    sizes = [1000, 999_999, 1_000_000, 1_249_999, 1_250_000, 1_049_999, 3_400_000, 10**18 * 5, 2**40, 2**63 - 1]
    sizes += [chosen.randrange(1000, 10**exponent) for exponent in range(4, 19) for _ in range(2000)]
    assert [human_size(size) for size in sizes] == [humanize.naturalsize(size, format="%.1f") for size in sizes]


def test_small_sizes_are_counted_in_bytes():
    assert (human_size(0), human_size(1), human_size(999), human_size(None)) == ("0 bytes", "1 byte", "999 bytes", "")
