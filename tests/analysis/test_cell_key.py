"""The cell key method: the perturbation table's published properties, the
perturbation against the Office for National Statistics' own package on the
same records, tallies, the rules on groups, and the release ledger."""

from __future__ import annotations

import random

import pytest

from analysis import disclosure
from analysis.disclosure import KEY_RANGE, Protection, Tally, make_ptable, publish_table


@pytest.fixture(scope="module")
def ptable() -> disclosure.PTable:
    return make_ptable()


def test_ptable_rows_are_unbiased_bounded_and_never_1_or_2(ptable: disclosure.PTable) -> None:
    assert ptable.distribution(0) == {0: 1.0}  # an empty cell stays empty
    for n in range(1, 40):
        dist = ptable.distribution(n)
        assert sum(dist.values()) == pytest.approx(1.0)
        # Unbiased up to the resolution of 256 cell keys.
        assert abs(sum(d * p for d, p in dist.items())) <= 2 / KEY_RANGE, n
        for d in dist:
            assert n + d >= 0 and not 1 <= n + d <= 2, (n, d)
            assert abs(d) <= 2 or (n + d == 0 and n <= 4), (n, d)
    # From 5 on, every count gets the same noise: variance 1 (to 1/256), and
    # most counts are changed by it.
    big = ptable.distribution(5)
    assert all(ptable.distribution(n) == big for n in range(6, 1000, 97))
    assert sum(d * d * p for d, p in big.items()) == pytest.approx(1.0, abs=2 / KEY_RANGE)
    assert big[0] < 0.4 and set(big) == {-2, -1, 0, 1, 2}


def test_the_projects_ptable_is_make_ptable_written_out(ptable: disclosure.PTable) -> None:
    # Every release uses default_ptable(), written out so that no command
    # imports SciPy's optimisers to build it: it must be make_ptable() exactly.
    written = disclosure.default_ptable()
    assert written == ptable
    assert (written.max_noise, written.variance, written.js) == (2, 1.0, 2)
    assert [len(row) for row in written.rows] == [KEY_RANGE] * 7
    assert written.noise(1, 0) == -1 and written.noise(1, 255) == 2 and written.noise(1000, 128) == 0


def test_perturbation_matches_the_ons_package_on_the_same_records(ptable: disclosure.PTable) -> None:
    pd = pytest.importorskip("pandas")
    from cell_key_perturbation.create_perturbed_table import create_perturbed_table

    rng = random.Random(7)
    # Skewed categories: small, medium and large counts, beyond the 750 rows
    # after which the ONS package reuses rows 501-750.
    weights = {"a": 900, "b": 60, "c": 12, "d": 4, "e": 2, "f": 1}
    records = [{"area": rng.choice(["x", "y"]), "answer": code, "rkey": rng.randrange(KEY_RANGE)}
               for code, times in weights.items() for _ in range(times * 2)]
    micro = pd.DataFrame(records)
    table = ptable.ons_frame().to_pandas()
    ons = create_perturbed_table(micro, table, geog=["area"], tab_vars=["answer"], record_key="rkey", threshold=0)
    ours = Protection(k=1)
    compared = 0
    for row in ons.itertuples():
        persons = [r for r in records if r["area"] == row.area and r["answer"] == row.answer]
        tally = Tally(len(persons), sum(r["rkey"] for r in persons))
        assert ours.perturbed(tally) == int(row.count), (row.area, row.answer)
        compared += 1
    assert compared == 12


def test_tallies_carry_the_key_sum_of_exactly_their_persons() -> None:
    keys = [17, 250, 3, 99, 128]
    everyone = Tally(5, sum(keys))
    answered, skipped = Tally(3, 17 + 250 + 3), Tally(1, 99)
    not_reached = everyone - answered - skipped
    assert not_reached == Tally(1, 128) and not_reached.cell_key == 128
    assert sum([answered, skipped], disclosure.ZERO) + not_reached == everyone
    # The same persons counted two ways: the same published figure.
    p = Protection()
    assert p.publish(Tally(1, 17) + Tally(1, 250) + Tally(1, 3)) == p.publish(answered)


def test_group_size_and_homogeneity_rules_with_two_marks() -> None:
    p = Protection(ptable=None)  # true counts: the rules alone
    t = lambda n: Tally(n, 0)  # noqa: E731
    # Columns: A diverse, B one person, C every answer "yes" (refusals aside).
    matrix = [[t(20), t(1), t(15)], [t(14), t(0), t(0)], [t(3), t(0), t(4)]]
    table = publish_table(matrix, ["yes", "no", "_refused"], ["A", "B", "C"], "answer", "group", p,
                          substantive_rows=[0, 1])
    assert [table.cell(r, 0) for r in range(3)] == [20, 14, None]  # 3 refusals: below 11
    assert not any(table.withheld((r, 0)) for r in range(3))
    # B: no column of its own, zeros included; its total reads "< 11".
    assert [table.cell(r, 1) for r in range(3)] == [None, None, None]
    assert all(table.withheld((r, 1)) for r in range(3)) and table.col_total(1) is None
    assert not table.withheld((3, 1))
    # C: 15 "yes", 0 "no" would publish 100 %: withheld, the column total stays.
    assert all(table.withheld((r, 2)) for r in range(3)) and table.col_total(2) == 19
    # Row totals and the grand total are published as usual.
    assert [table.row_total(r) for r in range(3)] == [36, 14, None] and table.total() == 57


def test_published_means_are_rounded_and_need_k_contributors() -> None:
    p = Protection()
    assert disclosure.round_mean(12.3456, Tally(40, 77), p) == 12.3
    assert disclosure.round_mean(12.3456, Tally(5, 77), p) is None
    assert disclosure.round_mean(None, Tally(40, 77), p) is None
