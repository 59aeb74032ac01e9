"""Type stubs for the compiled extension module (re-exported by blindfold)."""

from os import PathLike
from pathlib import Path
from typing import Any, Dict, Iterable, List, Literal, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str

Backend = Literal["auto", "ort", "ort-cuda", "rten"]
Precision = Literal["auto", "fp32", "int8"]
Mode = Literal["noise", "solid", "blur", "pixelate"]
Shape = Literal["ellipse", "rect"]
Frame = npt.NDArray[np.uint8]
"""An (H, W, 3) RGB uint8 array."""
Detection = Tuple[float, float, float, float, float]
"""(x0, y0, x1, y1, score) in pixels."""
TrackedBox = Tuple[float, float, float, float, int, str]
"""(x0, y0, x1, y1, track, source); source is detected, interpolated, held or backfilled."""

class Error(Exception):
    """Base class of every blindfold error. No output exists when one is raised."""

class DecodeError(Error):
    """The bytes are not an image blindfold can read, or are corrupt or truncated."""

class TooLargeError(DecodeError):
    """The image has more pixels than `max_pixels`."""

class UnsupportedError(Error):
    """The format is recognised but not supported."""

class ModelError(Error):
    """The model could not be found, fetched, checked or loaded."""

class BackendError(Error):
    """The backend asked for cannot be used (e.g. ort-cuda without a GPU build of ONNX Runtime)."""

class InferenceError(Error):
    """The backend failed while running the model."""

class EncodeError(Error):
    """Re-encoding the anonymised image failed."""

class VerifyError(Error):
    """The check of the produced output failed."""

class ConfigError(Error):
    """A setting is invalid or out of range."""

class Result:
    """What Anonymizer.anonymize returns."""

    @property
    def data(self) -> bytes:
        """The anonymised file, in the input's format, without identifying metadata."""
    @property
    def report(self) -> Dict[str, Any]:
        """The report the CLI prints for the photo with --json: status, kind, backend,
        precision, format, width, height, orientation, faces (box, score, mask; frame and source in
        animations and multi-page files), metadata_removed, metadata_kept, frames,
        frames_dropped, playback (animations), jpeg ("lossless" or "reencoded", for a JPEG)
        and jpeg_reason, timings, total_ms."""

class Anonymizer:
    """Finds and masks faces with one loaded model; safe to share between threads
    (each call borrows one of `jobs` detectors and releases the GIL)."""

    def __init__(
        self,
        model: Union[str, PathLike, None] = None,
        backend: Backend = "auto",
        mode: Mode = "noise",
        threshold: Optional[float] = None,
        fast: bool = False,
        grow: Optional[float] = None,
        shape: Shape = "ellipse",
        jobs: Optional[int] = None,
        threads: Optional[int] = None,
        offline: bool = False,
        ort_lib: Union[str, PathLike, None] = None,
        quality: int = 92,
        keep_icc: bool = True,
        max_pixels: int = 100_000_000,
        first_frame: bool = False,
        reencode: bool = False,
        precision: Precision = "auto",
    ) -> None:
        """Load the model (`model`, else $BLINDFOLD_MODEL, else the CLI's cache, fetched on
        first use unless `offline`) and make `jobs` detectors (default: one per CPU that
        memory allows), each on `threads` threads (default: CPUs / jobs; set 1 per actor
        when several processes share a machine). `backend="ort-cuda"` needs a GPU build of ONNX Runtime
        (`ort_lib` or $BLINDFOLD_ORT_LIB) and raises BackendError without one.
        `precision="auto"` runs the int8 network with ONNX Runtime on a CPU with AVX-512 VNNI
        or AVX-VNNI (about 1.5x faster, measured to leak no more faces) and fp32 elsewhere;
        "fp32" always fp32; "int8" raises BackendError where int8 cannot run.
        Every frame of an animated GIF, PNG or WebP and every page of a TIFF is anonymised
        and written; `first_frame=True` keeps only the first (the report's frames_dropped
        counts the rest). A JPEG comes out edited in the DCT domain (every block no mask
        touches kept bit for bit; the report's "jpeg" is "lossless") unless `reencode`, or
        blur/pixelate, re-encode its pixels at `quality` ("reencoded")."""
    @property
    def backend(self) -> str:
        """The backend that runs: "ort", "ort-cuda" or "rten"."""
    @property
    def precision(self) -> str:
        """The precision the network runs in: "fp32" or "int8"."""
    @property
    def precision_reason(self) -> str:
        """Why `precision` was chosen (e.g. "the CPU has AVX-512 VNNI")."""
    @property
    def fallback_reason(self) -> Optional[str]:
        """Why ONNX Runtime is not used, when backend="auto" fell back to rten."""
    @property
    def jobs(self) -> int:
        """How many detectors there are (calls that can run at once)."""
    @property
    def model(self) -> Path:
        """The prepared model file in use."""
    def anonymize(self, data: bytes) -> Result:
        """Anonymise one encoded photo (JPEG, PNG, WebP, TIFF, BMP, GIF; every frame and
        page); raises an Error
        subclass on any failure, and then there are no bytes."""
    def detect(self, image: Frame) -> List[Detection]:
        """Faces in an (H, W, 3) RGB uint8 frame (read into a copy; no reference kept)."""
    def mask(
        self,
        image: Frame,
        boxes: Iterable[Sequence[Union[float, int, str]]],
        mode: Optional[Mode] = None,
    ) -> Frame:
        """A new array: `image` with a mask over each box (sequences starting x0, y0, x1,
        y1). `image` is read once, into a copy, and neither changed nor kept."""

class Tracker:
    """The core's face tracker over a sequence of frames (the CLI's video defaults)."""

    def __init__(
        self,
        hold: Optional[int] = None,
        lookahead: Optional[int] = None,
        smooth: Optional[int] = None,
        iou_match: Optional[float] = None,
        grow_per_frame: Optional[float] = None,
        max_grow: Optional[float] = None,
    ) -> None: ...
    def push(
        self, detections: Iterable[Sequence[float]]
    ) -> Optional[Tuple[int, List[TrackedBox]]]:
        """Add the next frame's detections (boxes only, copied; no pixels); returns the
        frame now final, if any: its index and boxes, for the caller to pair with the
        frame it pushed under that index."""
    def finish(self) -> List[Tuple[int, List[TrackedBox]]]:
        """The frames still held back, after the last push."""
    @property
    def pending(self) -> int:
        """Frames pushed but not yet returned."""
    def summaries(self) -> List[Dict[str, int]]:
        """Per-track frame counts (nothing about the face)."""
