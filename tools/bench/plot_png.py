#!/usr/bin/env python3
"""A line plot as a PNG with nothing but the standard library (no matplotlib here): one or more
series of (x, y) from a CSV, axes from zero, tick labels in a 3x5 pixel font.

    tools/bench/plot_png.py rss.csv rss.png --x minutes --y rss_mb [--y other] [--title "RSS, MB"]

The CSV has a header row; --x and --y name its columns."""
import argparse
import csv
import struct
import zlib

FONT = {  # 3x5 glyphs, rows top to bottom, bit 2 = left column
    "0": [7, 5, 5, 5, 7], "1": [2, 6, 2, 2, 7], "2": [7, 1, 7, 4, 7], "3": [7, 1, 7, 1, 7],
    "4": [5, 5, 7, 1, 1], "5": [7, 4, 7, 1, 7], "6": [7, 4, 7, 5, 7], "7": [7, 1, 1, 2, 2],
    "8": [7, 5, 7, 5, 7], "9": [7, 5, 7, 1, 7], ".": [0, 0, 0, 0, 2], "-": [0, 0, 7, 0, 0],
    " ": [0, 0, 0, 0, 0], ",": [0, 0, 0, 2, 4], ":": [0, 2, 0, 2, 0], "/": [1, 1, 2, 4, 4],
    "%": [5, 1, 2, 4, 5], "(": [1, 2, 2, 2, 1], ")": [4, 2, 2, 2, 4],
}
for ch, rows in {"A": [2, 5, 7, 5, 5], "B": [6, 5, 6, 5, 6], "C": [7, 4, 4, 4, 7], "D": [6, 5, 5, 5, 6],
                 "E": [7, 4, 6, 4, 7], "F": [7, 4, 6, 4, 4], "G": [7, 4, 5, 5, 7], "H": [5, 5, 7, 5, 5],
                 "I": [7, 2, 2, 2, 7], "K": [5, 5, 6, 5, 5], "L": [4, 4, 4, 4, 7], "M": [5, 7, 7, 5, 5],
                 "N": [6, 5, 5, 5, 5], "O": [7, 5, 5, 5, 7], "P": [7, 5, 7, 4, 4], "R": [6, 5, 6, 5, 5],
                 "S": [7, 4, 7, 1, 7], "T": [7, 2, 2, 2, 2], "U": [5, 5, 5, 5, 7], "V": [5, 5, 5, 5, 2],
                 "W": [5, 5, 7, 7, 5], "X": [5, 5, 2, 5, 5], "Y": [5, 5, 2, 2, 2]}.items():
    FONT[ch] = rows
COLOURS = [(200, 40, 40), (40, 90, 200), (30, 150, 60), (160, 90, 0)]


class Canvas:
    def __init__(self, w, h):
        self.w, self.h = w, h
        self.px = bytearray(b"\xff" * (w * h * 3))

    def dot(self, x, y, c):
        if 0 <= x < self.w and 0 <= y < self.h:
            i = (y * self.w + x) * 3
            self.px[i:i + 3] = bytes(c)

    def line(self, x0, y0, x1, y1, c):
        n = max(abs(x1 - x0), abs(y1 - y0), 1)
        for i in range(n + 1):
            self.dot(round(x0 + (x1 - x0) * i / n), round(y0 + (y1 - y0) * i / n), c)

    def text(self, x, y, s, c=(0, 0, 0), scale=2):
        for ch in s.upper():
            for r, bits in enumerate(FONT.get(ch, FONT[" "])):
                for col in range(3):
                    if bits & (4 >> col):
                        for dx in range(scale):
                            for dy in range(scale):
                                self.dot(x + col * scale + dx, y + r * scale + dy, c)
            x += 4 * scale

    def png(self):
        raw = b"".join(b"\x00" + bytes(self.px[y * self.w * 3:(y + 1) * self.w * 3]) for y in range(self.h))
        chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", self.w, self.h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def nice(v):
    """A round axis maximum at or above v."""
    if v <= 0:
        return 1
    m = 10 ** (len(str(int(v))) - 1)
    for k in (1, 2, 2.5, 5, 10):
        if k * m >= v:
            return k * m
    return 10 * m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("png")
    ap.add_argument("--x", required=True)
    ap.add_argument("--y", action="append", required=True)
    ap.add_argument("--title", default="")
    a = ap.parse_args()
    rows = list(csv.DictReader(open(a.csv)))
    xs = [float(r[a.x]) for r in rows]
    series = {name: [float(r[name]) for r in rows] for name in a.y}
    w, h, left, bottom, top, right = 900, 500, 80, 50, 40, 20
    c = Canvas(w, h)
    xmax, ymax = nice(max(xs or [1])), nice(max(max(s) for s in series.values()) if rows else 1)
    px = lambda x: left + round((w - left - right) * x / xmax)
    py = lambda y: h - bottom - round((h - bottom - top) * y / ymax)
    for i in range(6):
        yv, xv = ymax * i / 5, xmax * i / 5
        c.line(left, py(yv), w - right, py(yv), (225, 225, 225))
        c.text(5, py(yv) - 5, f"{yv:g}")
        c.text(px(xv) - 10, h - bottom + 10, f"{xv:g}")
    c.line(left, py(0), w - right, py(0), (0, 0, 0))
    c.line(left, py(0), left, top, (0, 0, 0))
    c.text(left, 10, a.title or ", ".join(a.y))
    c.text(w - right - 8 * len(a.x) - 10, h - 18, a.x)
    for k, (name, ys) in enumerate(series.items()):
        colour = COLOURS[k % len(COLOURS)]
        for i in range(1, len(xs)):
            c.line(px(xs[i - 1]), py(ys[i - 1]), px(xs[i]), py(ys[i]), colour)
        c.text(w - right - 200, top + 5 + 16 * k, name, colour)
    open(a.png, "wb").write(c.png())


if __name__ == "__main__":
    main()
