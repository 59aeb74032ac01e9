"""Animated files: every frame is anonymised unless first_frame=True."""

import io

import numpy as np
import pytest
from PIL import Image, ImageSequence

import blindfold
from conftest import ASTRONAUT_FACE, region_diff

SHIFTS = (0, 24, 48)


def moving_face_gif(astronaut):
    """A 3-frame GIF (100 ms each, looping) of the portrait moving right."""
    frames = [Image.fromarray(np.roll(astronaut, s, axis=1)) for s in SHIFTS]
    buf = io.BytesIO()
    frames[0].save(
        buf, format="GIF", save_all=True, append_images=frames[1:], duration=100, loop=0
    )
    return buf.getvalue()


def frames_of(data):
    img = Image.open(io.BytesIO(data))
    return [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(img)]


def face_at(shift):
    x0, y0, x1, y1 = ASTRONAUT_FACE
    return (x0 + shift, y0, x1 + shift, y1)


def test_every_frame_of_a_gif_is_masked(anon, astronaut):
    src = moving_face_gif(astronaut)
    before = frames_of(src)
    result = anon.anonymize(src)
    rep = result.report
    assert rep["format"] == "gif" and rep["frames"] == 3, rep
    assert rep["frames_dropped"] == 0
    assert rep["playback"]["delays_ms"] == [100.0, 100.0, 100.0], rep["playback"]
    assert {f["frame"] for f in rep["faces"]} == {0, 1, 2}, rep["faces"]
    after = frames_of(result.data)
    assert len(after) == 3
    for i, s in enumerate(SHIFTS):
        # The face is covered in this frame; the sky far from it is kept.
        assert region_diff(before[i], after[i], face_at(s)) > 40, i
        assert region_diff(before[i], after[i], (420, 0, 512, 40)) < 12, i


def test_first_frame_keeps_one_masked_frame(astronaut):
    src = moving_face_gif(astronaut)
    result = blindfold.Anonymizer(jobs=1, first_frame=True).anonymize(src)
    rep = result.report
    assert rep["frames"] == 1 and rep["frames_dropped"] == 2, rep
    assert "frames" in rep["metadata_removed"]
    after = frames_of(result.data)
    assert len(after) == 1
    assert region_diff(frames_of(src)[0], after[0], face_at(0)) > 40


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_a_cut_gif_raises(anon, astronaut, cut):
    src = moving_face_gif(astronaut)
    with pytest.raises(blindfold.DecodeError):
        anon.anonymize(src[: int(len(src) * cut)])
