"""How the platform's Kafka clients check what they read."""

from __future__ import annotations

import crc32c
from kafka.record import util
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder


def _batch(value: bytes) -> bytearray:
    builder = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=False,
                                        producer_id=-1, producer_epoch=-1, base_sequence=-1,
                                        batch_size=1 << 20)
    builder.append(0, timestamp=None, key=b"pair", value=value, headers=[])
    return builder.build()


def test_record_batch_checksums_are_computed_in_c_and_still_refuse_a_corrupted_batch():
    # kafka-python falls back to a pure-Python CRC-32C without the crc32c package,
    # several times slower on every batch the relay sends and a consumer reads.
    assert util.calc_crc32c.__defaults__ == (crc32c.crc32c,)

    sound = _batch(b'{"type": "SessionHeld"}')
    assert DefaultRecordBatch(bytes(sound)).validate_crc()

    corrupted = bytearray(sound)
    corrupted[-3] ^= 0x01  # one bit of the record's value
    assert not DefaultRecordBatch(bytes(corrupted)).validate_crc()
