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
) -> Iterator[Frame]: ...
