"""Per-item values packed for rank spreads: ids once per method, a metric's values only where
they are its own."""

from __future__ import annotations

import math

from leaderboard.evals.item_values import VALUE, pack, unpack


def _opa(margin: float) -> dict[str, object]:
    return {"outcome": {"margin": margin, "acc_0": float(margin > 0), "opa": "n/a"}}


RESULTS = [
    (11, "opa", -1.0, _opa(-1.0)),
    (12, "opa", 2.5, _opa(2.5)),
    (11, "mc", 1.0, {}),
]


def test_item_ids_are_packed_once_per_method_and_a_copy_of_the_value_not_at_all():
    packed = pack(RESULTS)
    assert set(packed) == {("opa", VALUE), ("opa", "margin"), ("opa", "acc_0"), ("mc", VALUE)}
    assert packed[("opa", "acc_0")][0] == b""  # its ids are the VALUE row's
    assert packed[("opa", "margin")] == (b"", b"")  # the margin is the results' own value
    assert len(packed[("opa", VALUE)][0]) == 2 * 8


def test_item_ids_are_packed_as_differences_that_compress():
    ids = list(range(1000, 3000, 2))
    packed = pack((item, "mc", 1.0, {}) for item in ids)
    assert len(set(packed[("mc", VALUE)][0][8:])) <= 2  # the difference 2, over and over
    assert list(unpack(packed[("mc", VALUE)])[0]) == ids


def test_each_metric_unpacks_to_its_items_and_values():
    packed = pack(RESULTS)
    value_row = packed[("opa", VALUE)]
    ids, values = unpack(value_row)
    assert list(ids) == [11, 12] and list(values) == [-1.0, 2.5]
    assert [list(a) for a in unpack(value_row, packed[("opa", "margin")])] == [
        [11, 12],
        [-1.0, 2.5],
    ]
    assert [list(a) for a in unpack(value_row, packed[("opa", "acc_0")])] == [[11, 12], [0.0, 1.0]]
    mc_ids, mc_values = unpack(packed[("mc", VALUE)])
    assert list(mc_ids) == [11] and list(mc_values) == [1.0]


def test_an_outcome_that_is_no_number_packs_as_nan_beside_its_item():
    packed = pack(
        [(11, "opa", 0.5, {"outcome": {"acc_0": 1.0}}), (12, "opa", 0.1, {"outcome": {}})]
    )
    ids, values = unpack(packed[("opa", VALUE)], packed[("opa", "acc_0")])
    assert list(ids) == [11, 12] and values[0] == 1.0 and math.isnan(values[1])
