"""A protobuf wire-format encoder: just enough to write TensorBoard's messages by hand.

Each function returns the bytes of one field (tag + payload); a message is the
concatenation of its fields, and a nested message is a length-delimited field holding
those bytes. Fields equal to their default are left out by the callers, as protobuf does.
"""
import struct

__all__ = ["varint", "tag", "int_field", "double_field", "float_field", "bytes_field",
           "packed_doubles", "message_field"]

VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5


def varint(value):
    """Base-128 varint; negative integers as their 64-bit two's complement (10 bytes)."""
    value = int(value)
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def tag(number, wire_type):
    return varint((number << 3) | wire_type)


def int_field(number, value):
    """int32/int64/uint64/enum/bool field."""
    return tag(number, VARINT) + varint(value)


def double_field(number, value):
    return tag(number, FIXED64) + struct.pack("<d", float(value))


def float_field(number, value):
    return tag(number, FIXED32) + struct.pack("<f", float(value))


def bytes_field(number, data):
    """bytes, string (UTF-8) or embedded-message field."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return tag(number, LENGTH_DELIMITED) + varint(len(data)) + bytes(data)


message_field = bytes_field


def packed_doubles(number, values):
    """A `repeated double` field, packed (one length-delimited run of fixed64s)."""
    values = [float(v) for v in values]
    return bytes_field(number, struct.pack(f"<{len(values)}d", *values))
