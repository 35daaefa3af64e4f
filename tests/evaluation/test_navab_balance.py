import pytest

from evaluation.benchmarks.navab.balance import NEG, POS, balance
from tests.evaluation.conftest import tiny_records


def test_it_alternates_halves_by_uid_order_within_each_cell():
    cells = balance(tiny_records(per_cell=5))
    items = cells[("us", "quoted")]
    assert [i.uid for i in items] == sorted(i.uid for i in items)
    assert [i.half for i in items] == [POS, NEG, POS, NEG, POS]


def test_it_puts_the_statement_on_the_gold_option():
    for items in balance(tiny_records(per_cell=4)).values():
        for item in items:
            options = (item.option_a, item.option_b)
            assert options[item.gold] == item.statement
            assert item.statement_is_a == (item.gold == 0)


def test_it_does_not_depend_on_input_order():
    records = tiny_records(per_cell=3)
    assert balance(records) == balance(list(reversed(records)))


def test_it_rejects_duplicate_uids():
    records = tiny_records(per_cell=1)
    with pytest.raises(ValueError, match="duplicate triple uid"):
        balance([*records, records[0]])
