"""A Parquet footer made to lie, for the tests of files an attacker makes: a minimal walker of Thrift's compact
protocol finds the footer's integer fields by their path of field ids (e.g. ``(4, 0, 1, 0, 3, 6)``: row group 0,
column 0, its ``total_uncompressed_size``) and rewrites them in place, at the same byte length (a varint with
padding bytes). Written for issue 25's review."""
from __future__ import annotations

import struct
from pathlib import Path


class Walker:
    def __init__(self, buf: bytes):
        self.buf, self.pos = buf, 0
        self.ints: list[tuple[tuple, int, int, int]] = []  # (path, offset, length, value)

    def byte(self) -> int:
        b = self.buf[self.pos]
        self.pos += 1
        return b

    def varint(self) -> tuple[int, int, int]:
        start, shift, v = self.pos, 0, 0
        while True:
            b = self.byte()
            v |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return v, start, self.pos - start

    @staticmethod
    def unzig(v: int) -> int:
        return (v >> 1) ^ -(v & 1)

    def value(self, t: int, path: tuple):
        if t in (1, 2):
            return t == 1
        if t == 3:
            return self.byte()
        if t in (4, 5, 6):
            v, off, ln = self.varint()
            v = self.unzig(v)
            self.ints.append((path, off, ln, v))
            return v
        if t == 7:
            self.pos += 8
            return None
        if t == 8:
            n, _, _ = self.varint()
            self.pos += n
            return None
        if t in (9, 10):
            h = self.byte()
            size, et = h >> 4, h & 0x0F
            if size == 15:
                size, _, _ = self.varint()
            for i in range(size):
                if et in (1, 2):
                    self.byte()
                else:
                    self.value(et, path + (i,))
            return None
        if t == 11:
            size, _, _ = self.varint()
            if size:
                kv = self.byte()
                for i in range(size):
                    self.value(kv >> 4, path + ("k", i))
                    self.value(kv & 0x0F, path + ("v", i))
            return None
        if t == 12:
            last = 0
            while True:
                h = self.byte()
                if h == 0:
                    return None
                delta, ft = h >> 4, h & 0x0F
                if delta:
                    fid = last + delta
                else:
                    v, _, _ = self.varint()
                    fid = self.unzig(v)
                last = fid
                self.value(ft, path + (fid,))
        raise ValueError(f"type {t}")


def footer(path: Path) -> tuple[bytes, int, int]:
    data = path.read_bytes()
    assert data[-4:] == b"PAR1"
    n = struct.unpack("<I", data[-8:-4])[0]
    return data, len(data) - 8 - n, n


def fields(path: Path) -> list[tuple[tuple, int, int, int]]:
    data, start, n = footer(path)
    w = Walker(data[start:start + n])
    w.value(12, ())
    return [(p, off + start, ln, v) for p, off, ln, v in w.ints]


def noncanonical(v: int, length: int) -> bytes:
    z = (v << 1) ^ (v >> 63)
    out = []
    for i in range(length):
        b = z & 0x7F
        z >>= 7
        out.append(b | (0x80 if i < length - 1 else 0))
    assert z == 0, "does not fit"
    return bytes(out)


def patch(path: Path, changes: dict[tuple, int]) -> None:
    data = bytearray(path.read_bytes())
    found = {p: (off, ln, v) for p, off, ln, v in fields(path)}
    for p, new in changes.items():
        off, ln, _ = found[p]
        data[off:off + ln] = noncanonical(new, ln)
    path.write_bytes(bytes(data))
