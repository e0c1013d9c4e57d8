"""TFRecord framing: the container TensorBoard event files use, with CRC-32C checksums.

A record is: length (uint64 LE), masked CRC-32C of those 8 bytes (uint32 LE), the data,
masked CRC-32C of the data (uint32 LE).
"""
import struct

__all__ = ["crc32c", "masked_crc32c", "frame"]

_CASTAGNOLI = 0x82F63B78  # the CRC-32C polynomial, bit-reversed
_MASK_DELTA = 0xA282EAD8


def _make_table():
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _CASTAGNOLI if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _make_table()


def crc32c(data, crc=0):
    """CRC-32C (Castagnoli) of `data`, continuing from `crc`."""
    table = _TABLE
    crc ^= 0xFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    """The CRC TFRecords store: rotated right by 15 bits plus a constant, so that the CRC
    of data that itself holds CRCs stays well distributed."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def frame(data):
    """One TFRecord holding `data`."""
    data = bytes(data)
    header = struct.pack("<Q", len(data))
    return (header + struct.pack("<I", masked_crc32c(header)) + data +
            struct.pack("<I", masked_crc32c(data)))
