"""DynamoDB units by AWS's billing rules (tools/bench/pybench/dynamo_units.py), with the worked
examples of AWS's documentation where it gives them:
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html
"""

from tools.bench.pybench import dynamo_units as du
from tools.local import config
from tools.local.template import LocalStack

TABLE_KEYS = ("PK", "SK")
# An index as the template declares GSI1: key plus a few projected attributes.
SUMMARY = du.Index("GSI1", ("GSI1PK", "GSI1SK"), "INCLUDE", ("status", "grand_total"))
KEYS_ONLY = du.Index("GSI4", ("GSI4PK", "GSI4SK"), "KEYS_ONLY")
SHAPE = du.TableShape(TABLE_KEYS, (SUMMARY, KEYS_ONLY))


def s(text: str) -> dict:
    return {"S": text}


def padded(size: int, **extra: dict) -> dict:
    """An item of exactly `size` bytes: PK (2 + 1), SK (2 + 1) and a string `pad` (3 + rest)."""
    base = {"PK": s("p"), "SK": s("s"), **extra}
    rest = size - du.item_size(base) - len("pad")
    return {**base, "pad": s("x" * rest)}


def test_item_size_adds_names_and_values_by_the_documented_rules():
    # Strings and names by their UTF-8 bytes ("é" is 2).
    assert du.item_size({"name": s("café")}) == 4 + 5
    # Numbers: 1 byte per two significant digits, leading and trailing zeros trimmed, plus 1.
    assert du.number_size("32000") == 2
    assert du.number_size("123.45") == 4
    assert du.number_size("0.00100") == 2
    assert du.number_size("-7") == 3
    assert du.item_size({"n": {"N": "12345"}}) == 1 + 4
    # Binary by raw bytes (boto3 hands the stream's binary decoded), null and boolean 1 byte.
    assert du.item_size({"b": {"B": b"\x00\x01\x02"}, "t": {"BOOL": True}, "z": {"NULL": True}}) == (1 + 3) + (1 + 1) + (1 + 1)
    # Sets: their elements.
    assert du.item_size({"skus": {"SS": ["ab", "cde"]}}) == 4 + 5
    assert du.item_size({"ns": {"NS": ["1", "22"]}}) == 2 + 2 + 2
    # Lists and maps: 3 bytes, plus 1 byte and the size of each element (and a map's names).
    assert du.item_size({"l": {"L": []}}) == 1 + 3
    assert du.item_size({"l": {"L": [s("ab"), {"N": "1"}]}}) == 1 + 3 + (1 + 2) + (1 + 2)
    assert du.item_size({"m": {"M": {"k": s("vv"), "in": {"M": {}}}}}) == 1 + 3 + (1 + 1 + 2) + (1 + 2 + 3)
    assert du.item_size(None) == 0
    assert du.item_size({"contact": {}}) == 7 + 3  # an empty map as DynamoDB Local's stream shows it


def test_the_rust_metering_and_the_bench_measure_items_alike():
    # Same figures as shared/aws/src/metering.rs's item_sizes_follow_aws_rules.
    assert du.item_size({"shirt-color": s("R"), "shirt-size": s("M")}) == 23
    assert du.value_size({"L": [s("ab"), {"N": "12"}]}) == 3 + (1 + 2) + (1 + 2)
    assert du.value_size({"M": {"k": s("vv")}}) == 3 + 1 + 1 + 2


def test_reads_round_to_4_kb_halve_when_eventually_consistent_and_double_in_transactions():
    kb = 1024
    # "reading a 3,500-byte item consumes the same throughput as reading a 4 KB item"
    assert du.read_units("GetItem", True, [3500]) == 1
    # "if your item size is 8 KB, you require 2 read units to sustain one strongly consistent
    # read, 1 read unit if you choose eventually consistent reads, or 4 read units for a
    # transactional read request"
    assert du.read_units("GetItem", True, [8 * kb]) == 2
    assert du.read_units("GetItem", False, [8 * kb]) == 1
    assert du.read_units("TransactGetItems", False, [8 * kb]) == 4
    # "if a BatchGetItem reads a 1.5 KB item and a 6.5 KB item, DynamoDB calculates the size as
    # 12 KB (4 KB + 8 KB)"
    assert du.read_units("BatchGetItem", True, [int(1.5 * kb), int(6.5 * kb)]) == 3
    # A Query adds up what it read and rounds once: 1.5 KB + 6.5 KB = 8 KB.
    assert du.read_units("Query", True, [int(1.5 * kb), int(6.5 * kb)]) == 2
    assert du.read_units("Query", False, [100] * 10) == 0.5
    # Nothing found still costs the minimum.
    assert du.read_units("Query", False, []) == 0.5
    assert du.read_units("GetItem", True, [0]) == 1


def test_writes_round_to_1_kb_and_index_entries_are_charged_by_what_changes():
    assert du.write_units(500) == 1  # "a 500-byte item ... one write unit"
    assert du.write_units(3500) == 4  # 3.5 KB rounds to 4 KB
    assert du.write_units(0) == 1
    old = {"PK": s("p"), "SK": s("s"), "GSI1PK": s("T#t#ORDERS"), "GSI1SK": s("2026#a"),
           "status": s("NEW"), "grand_total": {"N": "100"}, "lines": s("x" * 3500)}
    # No entry before or after: nothing.
    assert du.index_write_units(KEYS_ONLY, TABLE_KEYS, old, old) == 0
    # Unprojected attribute changed: nothing.
    assert du.index_write_units(SUMMARY, TABLE_KEYS, old, {**old, "lines": s("y")}) == 0
    # Projected attribute changed: one write of the entry (small: keys and projections only).
    assert du.index_write_units(SUMMARY, TABLE_KEYS, old, {**old, "status": s("SHIPPED")}) == 1
    # Key changed: delete + put.
    assert du.index_write_units(SUMMARY, TABLE_KEYS, old, {**old, "GSI1SK": s("2026#b")}) == 2
    # Entry added or removed: one write.
    assert du.index_write_units(SUMMARY, TABLE_KEYS, None, old) == 1
    assert du.index_write_units(SUMMARY, TABLE_KEYS, old, None) == 1
    # An ALL projection carries the whole item: a 3.5 KB entry, 4 units for each side of a move.
    everything = du.Index("ALL", ("GSI1PK", "GSI1SK"), "ALL")
    assert du.index_write_units(everything, TABLE_KEYS, old, {**old, "GSI1SK": s("2026#b")}) == 8


def write(op: str, at: int, *items: tuple, ok: bool = True, fn: str = "f") -> dict:
    return {"op": op, "at": at, "ok": ok, "fn": fn,
            "items": [{"action": a, "table": "t", "pk": pk, "sk": sk} for a, pk, sk in items]}


def test_requests_are_paired_with_the_streams_changes_and_priced_by_aws_rules():
    order_v1 = padded(2200, GSI1PK=s("T#t#ORDERS"), GSI1SK=s("k"), status=s("NEW"))
    order_v2 = padded(3800, GSI1PK=s("T#t#ORDERS"), GSI1SK=s("k"), status=s("PLACED"))
    outbox = padded(900)
    stock = padded(300)
    changes = [
        du.Change(("t", "T#t#ORDER#1", "ORDER"), None, order_v1),
        du.Change(("t", "T#t#OUTBOX#1", "OUTBOX#e1"), None, outbox),
        du.Change(("t", "T#t#ORDER#1", "ORDER"), order_v1, order_v2),
        du.Change(("t", "T#t#OUTBOX#1", "OUTBOX#e1"), outbox, None),
        du.Change(("t", "T#t#STOCK#A", "HUB#H"), stock, {**stock, "pad": s("y")}),  # nobody's
    ]
    writes = [
        # Create: the order and its outbox item in one transaction, a check on the stock.
        write("TransactWriteItems", 1, ("Put", "T#t#ORDER#1", "ORDER"), ("Put", "T#t#OUTBOX#1", "OUTBOX#e1"),
              ("ConditionCheck", "T#t#STOCK#A", "HUB#H"), fn="create-order"),
        # A refused conditional update of the order: billed at the order's size, changes nothing.
        write("UpdateItem", 2, ("Update", "T#t#ORDER#1", "ORDER"), ok=False),
        write("TransactWriteItems", 3, ("Update", "T#t#ORDER#1", "ORDER")),
        write("DeleteItem", 4, ("Delete", "T#t#OUTBOX#1", "OUTBOX#e1"), fn="outbox-relay"),
    ]
    before = {("t", "T#t#STOCK#A", "HUB#H"): stock}
    units = du.attribute(writes, changes, {"t": SHAPE}, before)
    # Order: create 2×3, update 2×4 (larger image); the refused update 1×3 (its size then: 2.2 KB).
    assert units.by_category["order document"] == 6 + 8
    assert units.by_category["refused writes"] == 3
    # Outbox: put 2×1, delete 1×1.
    assert units.by_category["outbox"] == 2 + 1
    # Stock: the check 2×1, and the change no request named 1.
    assert units.by_category["stock"] == 2 + 1
    # GSI1: entry added at create, status (projected) changed on the update.
    assert units.by_index == {"GSI1": 2, "GSI4": 0}
    assert units.total == 17 + 3 + 3 + 2
    assert (units.transactional_items, units.plain_items) == (4, 1)
    assert (units.refused_writes, units.unchanged_writes, units.unattributed_changes) == (1, 0, 1)
    assert units.by_function["create-order"] == 6 + 2 + 2 + 1
    assert units.by_function["outbox-relay"] == 1
    assert units.by_function["(unattributed)"] == 1


def test_stream_records_become_changes_and_last_images():
    records = [{"dynamodb": {"Keys": {"PK": s("a"), "SK": s("b")}, "NewImage": {"PK": s("a"), "SK": s("b")},
                             "SequenceNumber": "1"}},
               {"dynamodb": {"Keys": {"PK": s("a"), "SK": s("b")}, "OldImage": {"PK": s("a"), "SK": s("b")},
                             "SequenceNumber": "2"}},
               {"dynamodb": {"Keys": {"PK": s("c"), "SK": s("d")}, "NewImage": {"PK": s("c"), "SK": s("d")},
                             "SequenceNumber": "3"}}]
    changes = du.stream_changes(records, "t", TABLE_KEYS)
    assert [c.key for c in changes] == [("t", "a", "b"), ("t", "a", "b"), ("t", "c", "d")]
    assert changes[1].new is None
    assert du.last_images(changes) == {("t", "c", "d"): {"PK": s("c"), "SK": s("d")}}


def test_categories_follow_the_keys_the_adapter_builds():
    assert du.category("T#t#ORDER#1", "ORDER") == "order document"
    assert du.category("T#t#ORDER#O1", "OUTBOX#e1") == "outbox"
    assert du.category("T#t#STOCK#SKU", "HUB#H#S00") == "stock"
    assert du.category("T#t#SEQ#ORDER#20261129", "SEQ") == "counters"
    assert du.category("SEQ#SHIPMENT#20261129", "SEQ") == "counters"
    assert du.category("SHIPMENT#S1", "SHIPMENT_REF") == "references"
    assert du.category("T#t#IDEM#u#k", "IDEM") == "idempotency"


def test_the_indexes_are_read_from_the_template():
    (table,) = [t for t in LocalStack.from_template(config.load()).tables if t.stream_view_type]
    shape = du.TableShape.from_create_args(table.create_args)
    assert shape.keys == TABLE_KEYS
    indexes = {index.name: index for index in shape.indexes}
    assert indexes["GSI1"].projection == "INCLUDE" and indexes["GSI1"].included == ("created_by",)
    assert "status" in indexes["GSI2"].included
    assert indexes["GSI4"].projection == "KEYS_ONLY"
    assert table.stream_view_type == "NEW_AND_OLD_IMAGES"  # the before and after images
