"""Writes a small MBTiles package of plain PNG tiles around a position, for the app's end-to-end test.

    python3 make-mbtiles.py OUT.mbtiles LAT LON

Zoom 15 to 17, five by five tiles around the position at each zoom, each tile a light colour with a grid
line on two edges, so that drawn tiles are visible in screenshots. Rows are written the MBTiles way (TMS:
counted from the south).
"""
import math
import sqlite3
import struct
import sys
import zlib


def png(rgb, size=256):
    line = lambda y: b"\x00" + b"".join(
        bytes((150, 150, 150) if x == 0 or y == 0 else rgb) for x in range(size)
    )
    raw = b"".join(line(y) for y in range(size))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def tile_of(lat, lon, z):
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def main(out, lat, lon):
    db = sqlite3.connect(out)
    db.executescript(
        """CREATE TABLE metadata (name TEXT, value TEXT);
           CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);
           CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);"""
    )
    db.executemany(
        "INSERT INTO metadata VALUES (?, ?)",
        [("name", "e2e"), ("format", "png"), ("minzoom", "15"), ("maxzoom", "17")],
    )
    colours = [(232, 244, 232), (232, 238, 250), (250, 244, 228)]
    for z in (15, 16, 17):
        cx, cy = tile_of(lat, lon, z)
        data = png(colours[z % 3])
        for x in range(cx - 2, cx + 3):
            for y in range(cy - 2, cy + 3):
                db.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, 2**z - 1 - y, data))
    db.commit()
    db.close()


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]), float(sys.argv[3]))
