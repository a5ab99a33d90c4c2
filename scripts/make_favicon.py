"""Draw didit_mock/templates/favicon.ico: the brand mark (a blue rounded square, a white "d") at 16, 32, 48 px.

Run once when the mark changes: `.venv/bin/python scripts/make_favicon.py` (needs Pillow and the DejaVu fonts).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

SIZE = 256
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
#: The gradient of `.brand-mark` in the pages' CSS: 135deg, #5b7bff, #3b5bfd 60%, #2a3fd1.
STOPS = (((0x5B, 0x7B, 0xFF), 0.0), ((0x3B, 0x5B, 0xFD), 0.6), ((0x2A, 0x3F, 0xD1), 1.0))
TARGET = Path(__file__).resolve().parent.parent / "didit_mock" / "templates" / "favicon.ico"


def colour_at(t: float) -> tuple[int, int, int, int]:
    (a, start), (b, stop) = (STOPS[0], STOPS[1]) if t < STOPS[1][1] else (STOPS[1], STOPS[2])
    u = (t - start) / (stop - start)
    r, g, bl = (round(a[i] + (b[i] - a[i]) * u) for i in range(3))
    return r, g, bl, 255


def draw() -> Image.Image:
    gradient = Image.new("RGBA", (SIZE, SIZE))
    pixels = gradient.load()
    assert pixels is not None
    for y in range(SIZE):
        for x in range(SIZE):
            pixels[x, y] = colour_at((x + y) / (2 * (SIZE - 1)))
    mask = Image.new("L", (SIZE, SIZE), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, SIZE - 1, SIZE - 1), radius=int(SIZE * 0.3), fill=255)
    icon = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    icon.paste(gradient, (0, 0), mask)
    font = ImageFont.truetype(FONT, int(SIZE * 0.72))
    pen = ImageDraw.Draw(icon)
    left, top, right, bottom = pen.textbbox((0, 0), "d", font=font)
    pen.text(((SIZE - (right - left)) / 2 - left, (SIZE - (bottom - top)) / 2 - top), "d", font=font, fill="white")
    return icon


if __name__ == "__main__":
    draw().save(TARGET, format="ICO", sizes=[(16, 16), (32, 32), (48, 48)])
    print(f"wrote {TARGET}")
