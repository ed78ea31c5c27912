"""The host's face on camera: a small 2D character drawn frame by frame.

The character is a friendly cartoon host (head and shoulders, with a name tag in a lower corner) on a soft
background. Everything that never changes is drawn once, when the `Avatar` is made: the background, the
name tag and the character at each height of its breathing bob. A frame is a copy of one of those bases
with the eyes and the mouth drawn on a small crop, a few milliseconds on one core. The mouth opens with the
loudness of the audio the agent is playing (`mouth_level`), the eyes blink every few seconds on a fixed
schedule and the character breathes, a slow bob of a few pixels, so it looks alive while it listens.

`agent/rtc/avatar_track.py` sends these frames into the room as a WebRTC video track.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

SILENT_DB = -50.0  # RMS at or below this: mouth closed
LOUD_DB = -15.0  # RMS at or above this: mouth fully open

BREATH_SECONDS = 4.0  # period of the idle bob
BREATH_PIXELS = 3.0  # its amplitude at 360 lines
BLINK_GAPS = (3.1, 4.3, 2.6, 3.8, 5.0)  # seconds between blinks, repeating: regular enough, not robotic
BLINK_SECONDS = 0.12

MOUTH_X = tuple(float(x) for x in np.linspace(-1.0, 1.0, 25))  # across the mouth, corner to corner
MOUTH_SMILE = tuple(1.0 - x * x for x in MOUTH_X)  # the closed mouth and the upper lip: a shallow curve
MOUTH_ROUND = tuple(math.sqrt(max(0.0, 1.0 - x * x)) for x in MOUTH_X)  # how the lower lip drops: round

SUPERSAMPLE = 2  # shapes are drawn at twice the size and reduced, for smooth edges

Box = tuple[int, int, int, int]
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

SKY = (186, 214, 246)
PEACH = (248, 214, 226)
SKIN = (255, 222, 196)
SKIN_SHADE = (238, 190, 164)
HAIR = (84, 58, 52)
SHIRT = (70, 166, 176)
COLLAR = (250, 250, 246)
INK = (52, 38, 46)
MOUTH = (146, 48, 64)
TONGUE = (236, 118, 128)
TEETH = (255, 255, 252)
GLINT = (255, 255, 255)
TAG = (30, 30, 48, 200)
CARD = (34, 26, 20, 215)
CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # Debian fonts-noto-cjk
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "NotoSansCJK-Regular.ttc",
)
ACCENT = (255, 92, 122)


def mouth_level(samples: np.ndarray) -> float:
    """Mouth openness in [0, 1] for a short window of the audio being played (mono float in [-1, 1]).

    The RMS in dBFS mapped linearly from -50 dB (closed) to -15 dB (fully open): silence is 0 and speech
    at about -20 dBFS opens the mouth wide.
    """
    x = np.asarray(samples, dtype=np.float64)
    if x.size == 0:
        return 0.0
    rms = math.sqrt(float(np.mean(x * x)))
    if not math.isfinite(rms) or rms <= 0.0:
        return 0.0
    db = 20.0 * math.log10(rms)
    return min(1.0, max(0.0, (db - SILENT_DB) / (LOUD_DB - SILENT_DB)))


def blinking(t: float) -> bool:
    """Whether the eyes are closed at `t` seconds: for BLINK_SECONDS at the end of each gap of BLINK_GAPS."""
    at = t % sum(BLINK_GAPS)
    end = 0.0
    for gap in BLINK_GAPS:
        end += gap
        if end - BLINK_SECONDS <= at < end:
            return True
    return False


class Avatar:
    """A cartoon host, `width` x `height` RGB frames; the name (e.g. "Lumi · AI host") is on its tag."""

    def __init__(self, name: str, width: int = 640, height: int = 360) -> None:
        if width < 64 or height < 64:
            raise ValueError(f"avatar frames must be at least 64x64, not {width}x{height}")
        self.name = " ".join(name.split())
        self.width = width
        self.height = height
        u = min(width / 640, height / 360)  # one pixel of the 640x360 design
        self._u = u
        self._cx = width / 2
        self._hy = height * 0.415  # head centre, at rest
        self._rx, self._ry = 60 * u, 68 * u  # face radii
        self._amp = max(1, round(BREATH_PIXELS * u))
        self._eye_dx, self._eye_dy = 24 * u, 6 * u  # eye centres from the head centre
        self._eye_rx, self._eye_ry = 6.5 * u, 8.5 * u
        self._mouth_dy, self._mouth_w, self._mouth_h = 36 * u, 28 * u, 17 * u  # mouth corners, width, max drop
        self._smile = 5 * u  # how far the middle of the closed mouth dips below its corners

        cx, hy, amp = self._cx, self._hy, self._amp
        # What moves per frame lies in this crop, at rest; it shifts with the bob.
        self._crop: Box = (
            max(0, math.floor(cx - 46 * u)),
            max(amp, math.floor(hy - 10 * u)),
            min(width, math.ceil(cx + 46 * u)),
            min(height - amp, math.ceil(hy + 66 * u)),
        )
        # Where the eyes and the mouth can be, whatever the bob: for tests and for whoever composes on top.
        eye_w, eye_h = self._eye_dx + self._eye_rx * 1.3 + 2, self._eye_ry + amp + 2
        self.eye_box: Box = (
            math.floor(cx - eye_w),
            math.floor(hy + self._eye_dy - eye_h),
            math.ceil(cx + eye_w),
            math.ceil(hy + self._eye_dy + eye_h),
        )
        mouth_w = self._mouth_w * 0.6 + 2
        self.mouth_box: Box = (
            math.floor(cx - mouth_w),
            math.floor(hy + self._mouth_dy - amp - 2 * u - 2),
            math.ceil(cx + mouth_w),
            math.ceil(hy + self._mouth_dy + self._smile + self._mouth_h + amp + 2 * u + 2),
        )

        self._background_image = self._background()
        self._figure = (self._body(), self._head(), self._name_tag())
        self.card: tuple[str, ...] = ()  # the product on stage, as shown on the video (name, price...)
        self._bases: dict[int, np.ndarray] = {}
        self._compose()

    def show_card(self, lines: tuple[str, ...] | list[str]) -> None:
        """Draw these lines (the product on stage: name, price...) on a card in the picture; () removes it.
        Viewers who only get the video (a restream to a live platform) see what is presented too."""
        lines = tuple(" ".join(str(line).split())[:60] for line in lines if str(line).strip())[:4]
        if lines != self.card:
            self.card = lines
            self._compose()

    def _compose(self) -> None:
        """The still pictures, one per breathing offset: background, figure, name tag, card."""
        body, head, tag = self._figure
        card = self._card_image()
        bases: dict[int, np.ndarray] = {}
        for dy in range(-self._amp, self._amp + 1):
            image = self._background_image.copy()
            image.paste(body, (0, round(dy * 0.6)), body)  # shoulders rise a little less than the head
            image.paste(head, (0, dy), head)
            for layer in (tag, card):
                if layer is not None:
                    image.paste(layer, (0, 0), layer)
            base = np.array(image, dtype=np.uint8)
            base.setflags(write=False)
            bases[dy] = base
        self._bases = bases  # swapped whole: a frame being drawn keeps the pictures it started with

    def frame(self, t: float, level: float) -> np.ndarray:
        """The picture at `t` seconds with the mouth open by `level` (0 closed, 1 wide open): HxWx3 uint8 RGB."""
        level = min(1.0, max(0.0, float(level))) if math.isfinite(level) else 0.0
        dy = self._bob(t)
        image = self._bases[dy].copy()
        x0, y0, x1, y1 = self._crop
        y0, y1 = y0 + dy, y1 + dy
        patch = Image.fromarray(image[y0:y1, x0:x1]).resize(
            ((x1 - x0) * SUPERSAMPLE, (y1 - y0) * SUPERSAMPLE), Image.Resampling.NEAREST
        )
        draw = ImageDraw.Draw(patch)

        def at(x: float, y: float) -> tuple[float, float]:
            return (x - x0) * SUPERSAMPLE, (y - y0) * SUPERSAMPLE

        self._eyes(draw, at, self._hy + dy, blinking(t))
        self._mouth(draw, at, self._hy + dy, level)
        image[y0:y1, x0:x1] = np.asarray(patch.reduce(SUPERSAMPLE))
        return image

    def _bob(self, t: float) -> int:
        return round(self._amp * math.sin(2 * math.pi * t / BREATH_SECONDS))

    def _eyes(
        self, draw: ImageDraw.ImageDraw, at: Callable[[float, float], tuple[float, float]], hy: float, closed: bool
    ) -> None:
        s, u = SUPERSAMPLE, self._u
        rx, ry = self._eye_rx, self._eye_ry
        for side in (-1, 1):
            ex, ey = self._cx + side * self._eye_dx, hy + self._eye_dy
            if closed:
                draw.arc(
                    (*at(ex - rx * 1.3, ey - ry * 0.7), *at(ex + rx * 1.3, ey + ry * 0.5)),
                    15,
                    165,
                    fill=INK,
                    width=max(1, round(2.6 * u * s)),
                )
                continue
            draw.ellipse((*at(ex - rx, ey - ry), *at(ex + rx, ey + ry)), fill=INK)
            gx, gy, r = ex + rx * 0.3, ey - ry * 0.35, rx * 0.38
            draw.ellipse((*at(gx - r, gy - r), *at(gx + r, gy + r)), fill=GLINT)
            gx, gy, r = ex - rx * 0.3, ey + ry * 0.42, rx * 0.18
            draw.ellipse((*at(gx - r, gy - r), *at(gx + r, gy + r)), fill=GLINT)

    def _mouth(
        self, draw: ImageDraw.ImageDraw, at: Callable[[float, float], tuple[float, float]], hy: float, level: float
    ) -> None:
        """A smile line when closed; open, the lower lip drops by the level, the corners stay where they are."""
        s, u = SUPERSAMPLE, self._u
        mx, my = self._cx, hy + self._mouth_dy
        half = self._mouth_w * (0.45 + 0.1 * level)
        k, h = self._smile, self._mouth_h * level
        xs = [mx + half * x for x in MOUTH_X]
        upper = [at(x, my + k * p) for x, p in zip(xs, MOUTH_SMILE, strict=True)]
        lower = [at(x, my + k * p + h * e) for x, p, e in zip(xs, MOUTH_SMILE, MOUTH_ROUND, strict=True)]
        if h >= u:
            draw.polygon(upper + lower[::-1], fill=MOUTH)
            if h > 5 * u:
                teeth = min(h * 0.22, 3.5 * u) * s
                band = [p for x, p in zip(MOUTH_X, upper, strict=True) if abs(x) <= 0.6]
                draw.polygon(band + [(x, y + teeth) for x, y in band[::-1]], fill=TEETH)
            if h > 8 * u:
                ty = my + k + h * 0.8
                draw.ellipse((*at(mx - half * 0.4, ty - h * 0.2), *at(mx + half * 0.4, ty + h * 0.2)), fill=TONGUE)
            draw.line(upper, fill=INK, width=max(1, round(1.6 * u * s)), joint="curve")
        draw.line(lower, fill=INK, width=max(1, round(2.4 * u * s)), joint="curve")

    def _canvas(self, extra: int = 0) -> tuple[Image.Image, ImageDraw.ImageDraw]:
        """A transparent layer at SUPERSAMPLE times the frame's size, `extra` rows taller."""
        size = (self.width * SUPERSAMPLE, (self.height + extra) * SUPERSAMPLE)
        image = Image.new("RGBA", size, (0, 0, 0, 0))
        return image, ImageDraw.Draw(image)

    def _s(self, *values: float) -> tuple[float, ...]:
        return tuple(v * SUPERSAMPLE for v in values)

    def _background(self) -> Image.Image:
        w, h, u = self.width, self.height, self._u
        ramp = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
        top, bottom = np.array(SKY, dtype=np.float32), np.array(PEACH, dtype=np.float32)
        rows = top * (1 - ramp) + bottom * ramp
        image = Image.fromarray(np.broadcast_to(rows, (h, w, 3)).round().astype(np.uint8)).convert("RGBA")

        glow = Image.new("RGBA", (w, h), (255, 252, 246, 0))  # transparent white: no dark fringe when blurred
        draw = ImageDraw.Draw(glow)
        cx, hy = self._cx, self._hy
        draw.ellipse((cx - 190 * u, hy - 150 * u, cx + 190 * u, hy + 190 * u), fill=(255, 250, 240, 120))
        rng = np.random.default_rng(7)  # the same soft lights every time
        for _ in range(14):
            x, y = float(rng.uniform(0, w)), float(rng.uniform(0, h * 0.8))
            r = float(rng.uniform(8, 26)) * u
            alpha = int(rng.integers(40, 90))
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(255, 255, 255, alpha))
        glow = glow.filter(ImageFilter.GaussianBlur(max(1.0, 6 * u)))
        return Image.alpha_composite(image, glow).convert("RGB")

    def _body(self) -> Image.Image:
        image, draw = self._canvas(extra=self._amp)  # taller, so a raised body never shows its lower edge
        S, u = self._s, self._u
        cx, hy = self._cx, self._hy
        top = hy + 96 * u
        draw.rounded_rectangle(
            S(cx - 17 * u, hy + 20 * u, cx + 17 * u, top + 20 * u), radius=8 * u * SUPERSAMPLE, fill=SKIN_SHADE
        )
        draw.rounded_rectangle(
            S(cx - 140 * u, top, cx + 140 * u, self.height + 90 * u), radius=70 * u * SUPERSAMPLE, fill=SHIRT
        )
        draw.polygon(S(cx - 20 * u, top - 1, cx + 20 * u, top - 1, cx, top + 30 * u), fill=SKIN)  # the neckline
        for side in (-1, 1):
            draw.polygon(
                S(cx + side * 20 * u, top - 2 * u, cx + side * 2 * u, top + 32 * u, cx + side * 40 * u, top + 18 * u),
                fill=COLLAR,
            )
        return image.reduce(SUPERSAMPLE)

    def _head(self) -> Image.Image:
        image, draw = self._canvas()
        S, u = self._s, self._u
        cx, hy, rx, ry = self._cx, self._hy, self._rx, self._ry
        draw.ellipse(S(cx - rx * 1.16, hy - ry * 1.14, cx + rx * 1.16, hy + ry * 0.92), fill=HAIR)  # hair, behind
        for side in (-1, 1):  # ears
            ex = cx + side * rx * 0.97
            draw.ellipse(S(ex - 9 * u, hy + 2 * u, ex + 9 * u, hy + 24 * u), fill=SKIN_SHADE)
        draw.ellipse(S(cx - rx, hy - ry, cx + rx, hy + ry), fill=SKIN)
        # The fringe: the top of the head, then a skin-coloured bite out of it for a side-swept edge.
        draw.chord(S(cx - rx * 1.04, hy - ry * 1.16, cx + rx * 1.04, hy + ry * 0.1), 180, 360, fill=HAIR)
        draw.chord(S(cx - rx * 1.1, hy - ry * 0.9, cx + rx * 0.2, hy - ry * 0.2), 180, 360, fill=HAIR)
        draw.ellipse(S(cx - rx * 0.45, hy - ry * 0.72, cx + rx * 0.93, hy + ry * 0.3), fill=SKIN)
        draw.ellipse(S(cx - rx * 0.93, hy - ry * 0.45, cx + rx * 0.93, hy + ry), fill=SKIN)
        for side in (-1, 1):  # eyebrows
            bx, by = cx + side * self._eye_dx, hy - 14 * u
            draw.arc(
                S(bx - 9 * u, by - 3 * u, bx + 9 * u, by + 7 * u), 200, 340, fill=HAIR, width=round(3 * u * SUPERSAMPLE)
            )
        nose = (cx - 2.5 * u, hy + 18 * u, cx + 2.5 * u, hy + 22 * u)
        draw.ellipse(S(*nose), fill=SKIN_SHADE)

        blush = Image.new("RGBA", image.size, (255, 140, 150, 0))
        blush_draw = ImageDraw.Draw(blush)
        for side in (-1, 1):
            bx, by = cx + side * 38 * u, hy + 24 * u
            blush_draw.ellipse(S(bx - 11 * u, by - 6 * u, bx + 11 * u, by + 6 * u), fill=(255, 140, 150, 110))
        blush = blush.filter(ImageFilter.GaussianBlur(3 * u * SUPERSAMPLE))
        face = Image.new("L", image.size, 0)
        ImageDraw.Draw(face).ellipse(S(cx - rx, hy - ry, cx + rx, hy + ry), fill=255)
        image.paste(Image.alpha_composite(image, blush), (0, 0), face)
        return image.reduce(SUPERSAMPLE)

    def _card_image(self) -> Image.Image | None:
        """The card at the top right: the first line large (the product's name), the rest below it."""
        if not self.card:
            return None
        s, u = SUPERSAMPLE, self._u
        image, draw = self._canvas()
        big, small = _cjk_font(max(8, round(20 * u)) * s), _cjk_font(max(8, round(15 * u)) * s)
        rows: list[tuple[str, Box, Font]] = []
        for i, line in enumerate(self.card):
            font = big if i == 0 else small
            text, box = _fit(draw, line, font, self.width * 0.4 * s)
            if box is not None:
                rows.append((text, box, font))
        if not rows:
            return None
        pad, gap = 12 * u * s, 6 * u * s
        box_w = max(box[2] - box[0] for _, box, _ in rows) + 2 * pad
        box_h = sum(box[3] - box[1] for _, box, _ in rows) + 2 * pad + gap * (len(rows) - 1)
        x1, y0 = self.width * s - 16 * u * s, 16 * u * s
        x0 = x1 - box_w
        draw.rounded_rectangle((x0, y0, x1, y0 + box_h), radius=10 * u * s, fill=CARD)
        draw.rectangle((x0, y0 + 8 * u * s, x0 + 4 * u * s, y0 + box_h - 8 * u * s), fill=ACCENT)
        y = y0 + pad
        for i, (text, box, font) in enumerate(rows):
            colour = (255, 255, 255, 255) if i == 0 else (255, 226, 160, 255)
            try:
                draw.text((x0 + pad - box[0], y - box[1]), text, font=font, fill=colour)
            except (UnicodeError, ValueError, OSError):
                draw.text((x0 + pad - box[0], y - box[1]), _ascii(text), font=font, fill=colour)
            y += box[3] - box[1] + gap
        return image.reduce(SUPERSAMPLE)

    def _name_tag(self) -> Image.Image | None:
        if not self.name:
            return None
        s, u = SUPERSAMPLE, self._u
        font = _font(max(8, round(17 * u)) * s)
        image, draw = self._canvas()
        text, bbox = _fit(draw, self.name, font, self.width * 0.5 * s)
        if bbox is None:
            return None
        pad_x, pad_y, dot = 11 * u * s, 7 * u * s, 4 * u * s
        text_w, text_h = bbox[2] - bbox[0], bbox[3] - bbox[1]
        box_w, box_h = text_w + 3 * pad_x + 2 * dot, text_h + 2 * pad_y
        x0 = 16 * u * s
        y1 = self.height * s - 16 * u * s
        y0 = y1 - box_h
        draw.rounded_rectangle((x0, y0, x0 + box_w, y1), radius=box_h / 2, fill=TAG)
        dx, dy = x0 + pad_x + dot, y0 + box_h / 2
        draw.ellipse((dx - dot, dy - dot, dx + dot, dy + dot), fill=ACCENT)
        tx, ty = x0 + 2 * pad_x + 2 * dot - bbox[0], y0 + pad_y - bbox[1]
        try:
            draw.text((tx, ty), text, font=font, fill=(255, 255, 255, 255))
        except (UnicodeError, ValueError, OSError):
            draw.text((tx, ty), _ascii(text), font=font, fill=(255, 255, 255, 255))
        return image.reduce(SUPERSAMPLE)


def _cjk_font(size: int) -> Font:
    """A font with Chinese glyphs (Noto Sans CJK, which `make browser` installs), else the default."""
    for path in CJK_FONTS:
        with contextlib.suppress(OSError, ImportError, ValueError):
            return ImageFont.truetype(path, size)
    return _font(size)


def _font(size: int) -> Font:
    try:
        return ImageFont.load_default(size=size)
    except (OSError, ImportError, ValueError):  # no FreeType: the small bitmap font
        return ImageFont.load_default()


def _ascii(text: str) -> str:
    return text.replace("·", "-").encode("ascii", "replace").decode("ascii")


def _fit(draw: ImageDraw.ImageDraw, text: str, font: Font, width: float) -> tuple[str, Box | None]:
    """The text (shortened with an ellipsis if it is wider than `width`) and its bounding box; a font that
    cannot measure it gets it in ASCII; None if nothing can be measured."""
    for candidate in (text, _ascii(text)):
        try:
            bbox = draw.textbbox((0, 0), candidate, font=font)
        except (UnicodeError, ValueError, OSError):
            continue
        while bbox[2] - bbox[0] > width and len(candidate) > 1:
            candidate = candidate[:-2].rstrip() + "…" if candidate.endswith("…") else candidate[:-1].rstrip() + "…"
            try:
                bbox = draw.textbbox((0, 0), candidate, font=font)
            except (UnicodeError, ValueError, OSError):
                candidate = _ascii(candidate)
                bbox = draw.textbbox((0, 0), candidate, font=font)
        left, top, right, bottom = bbox
        return candidate, (round(left), round(top), round(right), round(bottom))
    return text, None
