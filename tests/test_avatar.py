"""The avatar: the mouth follows the audio level, the eyes blink, frames are paced on a 90 kHz clock."""

from __future__ import annotations

import asyncio
import time
from fractions import Fraction

import av
import numpy as np
import pytest

from agent.rtc.avatar import Avatar, blinking, mouth_level
from agent.rtc.avatar_track import AvatarTrack

FPS = 15


@pytest.fixture(scope="module")
def avatar() -> Avatar:
    return Avatar("Lumi · AI host")


def crop(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    left, top, right, bottom = box
    return image[top:bottom, left:right].astype(np.int16)


def dark_pixels(region: np.ndarray) -> int:
    """Pixels drawn in ink (pupils, a closed eye's line): all channels dark."""
    return int(np.all(region < 100, axis=2).sum())


def mouth_rows(avatar: Avatar, image: np.ndarray) -> int:
    """Rows of the mouth box where something other than skin is drawn: the mouth's height in pixels."""
    region = crop(image, avatar.mouth_box)
    skin = region[0, 0]  # the box's corner is always bare skin
    return int((np.abs(region - skin).sum(axis=2) > 60).any(axis=1).sum())


def test_frame_shape_and_type(avatar: Avatar) -> None:
    image = avatar.frame(0.0, 0.0)
    assert image.shape == (360, 640, 3)
    assert image.dtype == np.uint8
    small = Avatar("Lumi", width=320, height=180).frame(1.3, 0.5)
    assert small.shape == (180, 320, 3)


def test_mouth_follows_level(avatar: Avatar) -> None:
    t = 1.0  # eyes open
    closed, wide = avatar.frame(t, 0.0), avatar.frame(t, 1.0)
    assert np.abs(crop(closed, avatar.mouth_box) - crop(wide, avatar.mouth_box)).max() > 60
    heights = [mouth_rows(avatar, avatar.frame(t, level)) for level in (0.0, 0.25, 0.5, 0.75, 1.0)]
    assert heights == sorted(heights) and heights[-1] > 2 * heights[0], heights
    # Only the mouth moves with the level: the eyes and everything outside the face are the same.
    assert np.array_equal(crop(closed, avatar.eye_box), crop(wide, avatar.eye_box))
    assert np.array_equal(closed[300:], wide[300:])


def test_eyes_blink_every_few_seconds(avatar: Avatar) -> None:
    times = [i / FPS for i in range(10 * FPS)]
    ink = [dark_pixels(crop(avatar.frame(t, 0.0), avatar.eye_box)) for t in times]
    open_ink = max(ink)
    closed = [i for i, n in enumerate(ink) if n < 0.5 * open_ink]
    assert closed, "no frame with closed eyes in 10 s at 15 fps"
    assert all(blinking(times[i]) for i in closed)  # closed exactly when the schedule says so
    assert all(not blinking(t) for i, t in enumerate(times) if i not in closed)
    first = closed[0]
    before, during = avatar.frame(times[first - 1], 0.0), avatar.frame(times[first], 0.0)
    assert np.abs(crop(before, avatar.eye_box) - crop(during, avatar.eye_box)).max() > 60
    # Blinks are brief and not constant: well under a tenth of the frames.
    assert len(closed) < len(times) / 10


def test_breathing_moves_the_character_a_little(avatar: Avatar) -> None:
    rest, up = avatar.frame(0.0, 0.0), avatar.frame(1.0, 0.0)  # a quarter period apart: the top of the bob
    assert not np.array_equal(rest, up)
    assert np.array_equal(rest[:, :40], up[:, :40])  # the background stays put


def test_non_ascii_name_does_not_crash() -> None:
    image = Avatar("主播 Lumi · 小助手 😀", width=320, height=180).frame(0.5, 0.3)
    assert image.shape == (180, 320, 3)
    assert Avatar("", width=320, height=180).frame(0.0, 0.0).shape == (180, 320, 3)


def tone(dbfs: float, seconds: float = 0.02, rate: int = 48000) -> np.ndarray:
    """A 220 Hz sine whose peak is at `dbfs`."""
    t = np.arange(int(seconds * rate)) / rate
    return (10 ** (dbfs / 20) * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def test_mouth_level() -> None:
    assert mouth_level(np.zeros(960, dtype=np.float32)) == 0.0
    assert mouth_level(np.zeros(0, dtype=np.float32)) == 0.0
    assert mouth_level(tone(-20)) > 0.6
    assert mouth_level(tone(0)) == 1.0
    levels = [mouth_level(tone(db)) for db in range(-70, 1, 5)]
    assert all(a <= b for a, b in zip(levels, levels[1:], strict=False))
    assert levels[0] == 0.0 and 0.0 < levels[len(levels) // 2] < 1.0


class StillAvatar(Avatar):
    """An avatar that takes 0.2 s to draw a frame: its track falls behind."""

    def frame(self, t: float, level: float) -> np.ndarray:
        time.sleep(0.2)
        return super().frame(t, level)


def test_track_paces_frames_on_a_90khz_clock(avatar: Avatar) -> None:
    levels = iter([0.0, 0.2, 0.4, 0.6, 0.8])
    track = AvatarTrack(avatar, lambda: next(levels), fps=FPS)
    assert track.kind == "video"

    async def receive(n: int) -> list[av.VideoFrame]:
        return [await track.recv() for _ in range(n)]

    frames = asyncio.run(receive(5))
    assert [f.pts for f in frames] == [i * 90000 // FPS for i in range(5)]
    assert all(f.time_base == Fraction(1, 90000) for f in frames)
    assert all((f.width, f.height) == (640, 360) for f in frames)


def test_track_skips_frames_it_is_too_late_for() -> None:
    track = AvatarTrack(StillAvatar("Lumi", width=160, height=90), lambda: 0.0, fps=FPS)

    async def receive(n: int) -> list[av.VideoFrame]:
        return [await track.recv() for _ in range(n)]

    pts = [f.pts for f in asyncio.run(receive(3)) if f.pts is not None]
    assert len(pts) == 3
    step = 90000 // FPS
    assert all(p % step == 0 for p in pts)
    assert pts[1] - pts[0] > step and pts[2] - pts[1] > step  # each 0.2 s render skips the slots it missed


def test_an_unwatched_avatar_sends_a_frame_a_second_and_full_rate_once_watched(avatar: Avatar) -> None:
    track = AvatarTrack(avatar, lambda: 0.0, fps=FPS)

    async def run() -> tuple[list[int], list[int]]:
        await track.recv()
        track.watched = False
        frames, idle = [], []
        for _ in range(2):
            frames.append(await track.recv())
            idle.append(frames[-1].pts)  # the same frame comes again with the next pts
        assert frames[0] is frames[1]  # one picture, drawn once, while nobody watches
        track.watched = True
        shown = [await track.recv() for _ in range(3)]
        assert shown[0] is not frames[0] and shown[1] is not shown[0]  # drawn anew once watched
        watched = [f.pts for f in shown]
        return idle, watched

    idle, watched = asyncio.run(run())
    assert [p % 90000 for p in idle] == [0, 0] and idle[1] - idle[0] == 90000  # on a once-a-second grid
    assert [b - a for a, b in zip(watched, watched[1:], strict=False)] == [90000 // FPS] * 2


def test_the_product_on_stage_is_drawn_on_a_card_and_taken_off_again(avatar: Avatar) -> None:
    from agent.rtc.agent_participant import card_lines

    corner = (slice(16, 100), slice(460, 624))  # top right, where the card goes
    before = avatar.frame(0.0, 0.0)[corner].astype(float).mean()
    card = {
        "name": {"zh": "智能手环X2", "en": "SmartBand X2"},
        "price": {"zh": "199元", "en": "199 yuan"},
        "original_price": {"zh": "249元", "en": "249 yuan"},
        "offers": [{"zh": "立减30元", "en": None}],
    }
    lines = card_lines(card)
    assert lines == ["智能手环X2", "199元  原价249元", "SmartBand X2", "立减30元"]
    avatar.show_card(lines)
    with_card = avatar.frame(0.0, 0.0)[corner].astype(float).mean()
    assert with_card < before - 60  # a dark card over the light background
    avatar.show_card(())
    assert abs(avatar.frame(0.0, 0.0)[corner].astype(float).mean() - before) < 1
