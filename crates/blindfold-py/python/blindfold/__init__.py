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
    stays masked. Yields the masked frames in order, ``tracker.lookahead``
    frames behind the input (those frames are held in memory)."""
    tracker = tracker if tracker is not None else Tracker()
    held = deque()
    for frame in frames:
        held.append(frame)
        done = tracker.push(anonymizer.detect(frame))
        if done is not None:
            yield anonymizer.mask(held.popleft(), done[1])
    for _, boxes in tracker.finish():
        yield anonymizer.mask(held.popleft(), boxes)
