from typing import Iterable, Iterator, Optional

from ._blindfold import (
    Anonymizer as Anonymizer,
    BackendError as BackendError,
    ConfigError as ConfigError,
    DecodeError as DecodeError,
    EncodeError as EncodeError,
    Error as Error,
    Frame as Frame,
    InferenceError as InferenceError,
    ModelError as ModelError,
    Result as Result,
    TooLargeError as TooLargeError,
    Tracker as Tracker,
    UnsupportedError as UnsupportedError,
    VerifyError as VerifyError,
    __version__ as __version__,
)

def mask_frames(
    anonymizer: Anonymizer, frames: Iterable[Frame], tracker: Optional[Tracker] = None
) -> Iterator[Frame]:
    """Masked frames in order, `tracker.lookahead` behind the input, each a new array.
    Every frame is copied as it is taken, so a reader may refill one buffer for every
    frame (`readinto`, `cv2.VideoCapture.read(image=buf)`); `lookahead` + 1 copies are
    held. `tracker` must hold no frames and serve nothing else meanwhile (ConfigError)."""
