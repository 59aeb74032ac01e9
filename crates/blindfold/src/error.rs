//! The library's error type.

/// Everything that can go wrong in the core. Each variant carries a message
/// that names the reason; callers add the file name.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not an image this build can read, or are corrupt/truncated.
    #[error("cannot decode image: {0}")]
    Decode(String),
    /// The image has more pixels than the configured limit (decompression bomb guard).
    #[error(
        "image is {width}x{height} ({pixels} pixels, every frame and page counted), over the limit of {limit} pixels"
    )]
    TooLarge {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
        /// width * height, times the frames or pages of an animation or
        /// multi-page file.
        pixels: u64,
        /// The configured limit.
        limit: u64,
    },
    /// The format is recognised but not supported for writing or reading.
    #[error("unsupported format: {0}")]
    Unsupported(String),
    /// The inference backend failed to run the model.
    #[error("inference failed: {0}")]
    Inference(String),
    /// The model produced outputs of an unexpected shape or content.
    #[error("model output is malformed: {0}")]
    BadOutput(String),
    /// Re-encoding the anonymised image failed.
    #[error("cannot encode image: {0}")]
    Encode(String),
    /// A check on the produced output failed (metadata left, wrong size, ...).
    #[error("output check failed: {0}")]
    Verify(String),
    /// A setting is out of range.
    #[error("invalid setting: {0}")]
    Config(String),
}
