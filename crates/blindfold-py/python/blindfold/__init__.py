"""blindfold: find faces in photos and video frames and remove them
irreversibly; strip identifying metadata. It never infers identity,
ethnicity, gender, age or emotion and never compares faces.

>>> import blindfold
>>> anon = blindfold.Anonymizer()            # loads (or fetches) the model once
>>> result = anon.anonymize(open("in.jpg", "rb").read())
>>> open("out.jpg", "wb").write(result.data)  # same format, no GPS/EXIF/XMP
>>> result.report["faces"]                    # boxes, scores and masks

Every failure raises a :class:`blindfold.Error` subclass, and then there is
no output (fail closed).
"""

from collections import deque
from typing import Iterable, Iterator, Optional

import numpy as np

from ._blindfold import (
    Anonymizer,
    BackendError,
    ConfigError,
    DecodeError,
    EncodeError,
    Error,
    InferenceError,
    ModelError,
    Result,
    TooLargeError,
    Tracker,
    UnsupportedError,
    VerifyError,
    __version__,
)

__all__ = [
    "Anonymizer",
    "BackendError",
    "ConfigError",
    "DecodeError",
    "EncodeError",
    "Error",
    "InferenceError",
    "ModelError",
    "Result",
    "TooLargeError",
    "Tracker",
    "UnsupportedError",
    "VerifyError",
    "mask_frames",
    "__version__",
]


def mask_frames(
    anonymizer: Anonymizer, frames: Iterable, tracker: Optional[Tracker] = None
) -> Iterator:
    """Mask a sequence of ``(H, W, 3)`` uint8 frames (e.g. from a video
    reader) with tracking, so a face the detector misses for a few frames
    stays masked. Yields a new masked array per frame, in order,
    ``tracker.lookahead`` frames behind the input.

    Each frame is copied as it is taken, and the copy is both searched and
    masked, so a reader may refill one buffer for every frame (``readinto``
    from a pipe, ``cv2.VideoCapture.read(image=buf)``). The copies of the
    frames held back (``lookahead`` + 1) are what this costs in memory. The
    yielded arrays are never the caller's and are not touched again.

    ``tracker`` must hold no frames when this starts and be used by nothing
    else while it runs: one holding other frames would pair their boxes with
    these frames, so that raises :class:`ConfigError`."""
    tracker = tracker if tracker is not None else Tracker()
    held = deque()
    for frame in frames:
        _check_own(tracker, held)
        # The caller's array may be refilled before this frame is masked.
        frame = np.array(frame, copy=True)
        held.append(frame)
        done = tracker.push(anonymizer.detect(frame))
        if done is not None:
            yield anonymizer.mask(held.popleft(), done[1])
    _check_own(tracker, held)
    for _, boxes in tracker.finish():
        yield anonymizer.mask(held.popleft(), boxes)


def _check_own(tracker: Tracker, held: deque) -> None:
    """Raise unless the tracker holds exactly the frames in ``held``."""
    if tracker.pending != len(held):
        raise ConfigError(
            "mask_frames needs a tracker of its own: this one holds frames "
            "pushed elsewhere, so its boxes would not match these frames"
        )
