"""DynamoDB read and write units by AWS's billing rules, from what each request changed.

DynamoDB Local's `ConsumedCapacity` is not what AWS bills: inside one `TransactWriteItems` it
counts items of the same rounded size once, and it doubles index units. So the bench applies the
documented rules itself:

- Item size: each attribute's name (UTF-8 bytes) plus its value; strings by their UTF-8 bytes,
  binary by its bytes, a number 1 byte per two significant digits plus 1, booleans and nulls
  1 byte, sets the sum of their elements, lists and maps 3 bytes plus 1 byte per element plus
  the elements (and a map's names).
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html
- Writes: one unit per 1 KB, rounded up, of the larger of the item's before and after images
  (PutItem, UpdateItem, DeleteItem); a failed conditional write still costs the item's size
  (counted apart as "refused writes": version conflicts of concurrent changes cause them).
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html
- Transactions: `TransactWriteItems` costs 2 units per 1 KB for each item it names, condition
  checks included; `TransactGetItems` 2 read units per 4 KB.
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html#transaction-capacity-handling
- Global secondary indexes: an entry added or removed costs one write of the entry's size; a
  change of the index key moves the entry (a delete and a put: two writes); a change of a
  projected attribute only updates it (one write); no change, no write. An entry's size is its
  projected attributes (the table's and the index's keys included); index writes are not doubled
  by a transaction.
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations.Writes
- Reads: one unit per 4 KB, rounded up, strongly consistent; eventually consistent half; a Query
  or Scan adds up the sizes of the items it read and rounds once; BatchGetItem rounds each item.
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html

Where the figures come from (see tools/bench/pybench/bench.py): the functions' metering
(shared/aws/src/metering.rs) names the items each successful or refused write request touched,
whether it was a transaction, and the sizes of the items each read returned; the table's stream
(`NEW_AND_OLD_IMAGES`) holds every change's before and after images. `attribute` pairs the two:
per item, the writes in the order they completed with the stream's changes in sequence order.

Everything here but `read_stream` is pure (unit tested in tests/tooling/test_dynamo_units.py).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

WRITE_UNIT = 1024
READ_UNIT = 4096
TRANSACTIONAL = "TransactWriteItems"

Image = dict[str, dict[str, Any]]  # an item in DynamoDB's wire format: {"name": {"S": "..."}}


# -- sizes ------------------------------------------------------------------------------------------

def number_size(number: str) -> int:
    """1 byte per two significant digits (leading and trailing zeros trimmed), plus 1; a
    negative number 1 more."""
    try:
        value = Decimal(number)
    except InvalidOperation:
        return 0
    digits = "".join(str(d) for d in value.as_tuple().digits).strip("0")
    return math.ceil(len(digits) / 2) + 1 + (1 if value < 0 else 0)


def value_size(value: dict[str, Any]) -> int:
    """The size of one attribute value in the wire format (`{"S": "..."}`, `{"N": "1"}`, ...)."""
    if not value:
        return 3  # DynamoDB Local's stream hands an empty map over as `{}`, not `{"M": {}}`
    (kind, inner), = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return number_size(inner)
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in inner)
    if kind == "NS":
        return sum(number_size(n) for n in inner)
    if kind == "BS":
        return sum(len(b) for b in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in inner.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: Image | None) -> int:
    """Each attribute's name (UTF-8 bytes) plus its value; 0 for no item."""
    return sum(len(name.encode()) + value_size(value) for name, value in (item or {}).items())


def write_units(size: int) -> int:
    """Units of one write of an item of `size` bytes: per 1 KB, rounded up, at least one."""
    return max(1, math.ceil(size / WRITE_UNIT))


# -- indexes ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Index:
    """A global secondary index: its key attributes and what it projects."""

    name: str
    keys: tuple[str, ...]
    projection: str  # ALL, KEYS_ONLY or INCLUDE
    included: tuple[str, ...] = ()

    def entry(self, item: Image | None, table_keys: tuple[str, ...]) -> Image | None:
        """The index entry `item` has (None when it lacks a key attribute of the index)."""
        if not item or any(key not in item for key in self.keys):
            return None
        if self.projection == "ALL":
            return dict(item)
        wanted = set(self.keys) | set(table_keys)
        if self.projection == "INCLUDE":
            wanted |= set(self.included)
        return {k: v for k, v in item.items() if k in wanted}


@dataclass(frozen=True)
class TableShape:
    """A table's primary key and global secondary indexes (as the template declares them)."""

    keys: tuple[str, ...]
    indexes: tuple[Index, ...]

    @classmethod
    def from_create_args(cls, args: dict[str, Any]) -> TableShape:
        """From the table's `CreateTable` arguments (tools/local/template.py builds them from
        infra/template.yaml)."""
        keys = tuple(k["AttributeName"] for k in args["KeySchema"])
        indexes = tuple(
            Index(gsi["IndexName"], tuple(k["AttributeName"] for k in gsi["KeySchema"]),
                  gsi["Projection"]["ProjectionType"],
                  tuple(gsi["Projection"].get("NonKeyAttributes") or ()))
            for gsi in args.get("GlobalSecondaryIndexes") or [])
        return cls(keys, indexes)


def index_write_units(index: Index, table_keys: tuple[str, ...], old: Image | None,
                      new: Image | None) -> int:
    """What one item change costs in one index: add or remove an entry one write, a key change
    two (delete + put), a projected attribute's change one, nothing else none."""
    before, after = index.entry(old, table_keys), index.entry(new, table_keys)
    if before is None and after is None:
        return 0
    if before is None:
        return write_units(item_size(after))
    if after is None:
        return write_units(item_size(before))
    if any(before[k] != after[k] for k in index.keys):
        return write_units(item_size(before)) + write_units(item_size(after))
    if before != after:
        return write_units(max(item_size(before), item_size(after)))
    return 0


# -- reads ------------------------------------------------------------------------------------------

def read_units(op: str, consistent: bool, sizes: list[int]) -> float:
    """Read units of one successful read request, from the sizes of the items it read."""
    def units(size: int) -> int:
        return max(1, math.ceil(size / READ_UNIT))

    if op == "TransactGetItems":
        return float(sum(2 * units(s) for s in sizes))
    factor = 1.0 if consistent else 0.5
    if op in ("Query", "Scan"):
        return units(sum(sizes)) * factor
    return sum(units(s) for s in sizes) * factor if sizes else factor


# -- writes: pairing requests with the stream's changes ----------------------------------------------

def category(pk: str, sk: str) -> str:
    """What an item is, by its key (shared/aws/src/dynamo/keys.rs builds them)."""
    if sk == "ORDER":
        return "order document"
    if sk.startswith("OUTBOX#"):
        return "outbox"
    if "#STOCK#" in pk:
        return "stock"
    if "#SEQ#" in pk or pk.startswith("SEQ#") or "#HUBLOAD#" in pk:
        return "counters"
    if sk.startswith(("RESV#", "RELS#")):
        return "reservations"
    if sk == "IDEM":
        return "idempotency"
    if sk.endswith("_REF"):
        return "references"
    return "other"


@dataclass
class Change:
    """One item change the stream recorded."""

    key: tuple[str, str, str]  # table, PK, SK
    old: Image | None
    new: Image | None


@dataclass
class WriteUnits:
    """Write units by AWS's rules, added up by where they go."""

    by_category: Counter[str] = field(default_factory=Counter)
    by_index: Counter[str] = field(default_factory=Counter)
    by_function: Counter[str] = field(default_factory=Counter)  # table and index units
    transactional_items: int = 0  # items of successful requests, condition checks included
    plain_items: int = 0
    unchanged_writes: int = 0  # successful writes the stream has no change for (nothing changed)
    refused_writes: int = 0  # items of refused requests
    unattributed_changes: int = 0  # changes no metered request named

    @property
    def table(self) -> int:
        return sum(self.by_category.values())

    @property
    def indexes(self) -> int:
        return sum(self.by_index.values())

    @property
    def total(self) -> int:
        return self.table + self.indexes


def stream_changes(records: Iterable[dict[str, Any]], table: str,
                   keys: tuple[str, ...]) -> list[Change]:
    """The changes of a `GetRecords` answer's records (boto3's wire format), in order."""
    out = []
    for record in records:
        data = record["dynamodb"]
        key = data["Keys"]
        out.append(Change((table, *(str(next(iter(key[k].values()))) for k in keys)),
                          data.get("OldImage"), data.get("NewImage")))
    return out


def attribute(writes: Iterable[dict[str, Any]], changes: Iterable[Change],
              shapes: dict[str, TableShape], before: dict[tuple[str, str, str], Image]
              ) -> WriteUnits:
    """Write units of `writes` (the EMF lines' `Writes`, each `{op, at, ok, items}`) by AWS's
    rules. `changes` are the stream's changes in the same window, `before` each item's image as
    the window opened. Per item, the requests that changed it (in the order they completed) take
    the item's changes in order; a write with no change left (an update that changed nothing,
    a refused condition) or a condition check costs the item's current size."""
    pending: dict[tuple[str, str, str], list[Change]] = defaultdict(list)
    for change in changes:
        pending[change.key].append(change)
    current = dict(before)
    out = WriteUnits()

    def charge(key: tuple[str, str, str], units: int, who: str) -> None:
        out.by_category[category(key[1], key[2])] += units
        out.by_function[who] += units

    def change_indexes(change: Change, who: str) -> None:
        shape = shapes.get(change.key[0])
        for index in shape.indexes if shape else ():
            units = index_write_units(index, shape.keys, change.old, change.new)
            out.by_index[index.name] += units
            out.by_function[who] += units

    for request in sorted(writes, key=lambda w: w.get("at", 0)):
        factor = 2 if request["op"] == TRANSACTIONAL else 1
        who = request.get("fn", "")
        for item in request["items"]:
            key = (item["table"], item["pk"], item["sk"])
            queue = pending.get(key)
            if not request.get("ok", True):
                # A refused request (a failed condition, a conflict) still did the work of
                # checking: priced at the item's size, apart, since concurrency causes it.
                out.refused_writes += 1
                out.by_category["refused writes"] += factor * write_units(item_size(current.get(key)))
                out.by_function[who] += factor * write_units(item_size(current.get(key)))
                continue
            if factor == 2:
                out.transactional_items += 1
            else:
                out.plain_items += 1
            if item["action"] == "ConditionCheck" or not queue:
                if item["action"] != "ConditionCheck":
                    out.unchanged_writes += 1
                charge(key, factor * write_units(item_size(current.get(key))), who)
                continue
            change = queue.pop(0)
            charge(key, factor * write_units(max(item_size(change.old), item_size(change.new))),
                   who)
            change_indexes(change, who)
            current[key] = change.new or {}
    for left in pending.values():
        for change in left:
            out.unattributed_changes += 1
            charge(change.key, write_units(max(item_size(change.old), item_size(change.new))),
                   "(unattributed)")
            change_indexes(change, "(unattributed)")
    return out


def last_images(changes: Iterable[Change]) -> dict[tuple[str, str, str], Image]:
    """Each item's image after the last of `changes` (deleted items absent)."""
    out: dict[tuple[str, str, str], Image] = {}
    for change in changes:
        if change.new is None:
            out.pop(change.key, None)
        else:
            out[change.key] = change.new
    return out


def read_stream(dynamodb: Any, streams: Any, table: str) -> list[dict[str, Any]]:
    """Every record of `table`'s stream so far, read with an iterator of our own from the start
    of each shard (the relay's poller is not disturbed), in sequence order."""
    arn = dynamodb.describe_table(TableName=table)["Table"].get("LatestStreamArn")
    if not arn:
        return []
    shards, kwargs = [], {"StreamArn": arn}
    while True:
        description = streams.describe_stream(**kwargs)["StreamDescription"]
        shards += [s["ShardId"] for s in description.get("Shards", [])]
        if not description.get("LastEvaluatedShardId"):
            break
        kwargs["ExclusiveStartShardId"] = description["LastEvaluatedShardId"]
    records = []
    for shard in shards:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            answer = streams.get_records(ShardIterator=iterator, Limit=1000)
            records += answer.get("Records", [])
            if not answer.get("Records"):
                break  # an open shard always hands out a next iterator: stop at its end
            iterator = answer.get("NextShardIterator")
    return sorted(records, key=lambda r: int(r["dynamodb"]["SequenceNumber"]))
