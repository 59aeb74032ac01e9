//! How many frames a video must and may give.
//!
//! - Before decoding: a container that lists more frames than the file holds
//!   is cut off, and a video whose constant-rate frames would far outnumber
//!   the frames in the file (a gap of hours in its timestamps) is refused,
//!   before any CPU is spent on it.
//! - While decoding: no more than [`limit`] frames.
//! - After decoding: the decoder must have reached the stream's end (a cut-off
//!   MP4 with its index at the front decodes half-way with no error at all).

use crate::error::ErrorKind;
use crate::ffmpeg;
use crate::probe::MediaInfo;

/// On average a frame of the input may become at most this many frames of
/// the constant-rate output (a phone clip that drops from 30 to 15 fps needs
/// 2).
pub const MAX_REPEAT: u64 = 4;

/// The most frames the decoder may deliver: [`MAX_REPEAT`] times the frames
/// in the file, plus one second. `None` when the frames were not counted.
pub fn limit(info: &MediaInfo) -> Option<u64> {
    let frames = info.packets.or(info.header_frames)?;
    Some(MAX_REPEAT * frames + info.rate.fps().ceil() as u64)
}

/// The checks before decoding, on what ffprobe found. The frames listed are
/// compared with those found in MP4/MOV only: their sample tables are exact,
/// and a cut-off file with its index at the front decodes with no error. An
/// AVI header also counts empty "dropped frame" chunks (ffmpeg writes one
/// when the audio starts first).
pub fn check_input(info: &MediaInfo) -> Result<(), ErrorKind> {
    if let (Some(listed), Some(found)) = (info.header_frames, info.packets)
        && found < listed
        && info.format.starts_with("mov,")
    {
        return Err(ErrorKind::Decode(format!(
            "the container lists {listed} video frames but the file holds {found}: \
             the input is truncated"
        )));
    }
    if let (Some(planned), Some(limit)) = (info.expected_frames(), limit(info))
        && planned > limit
    {
        return Err(ErrorKind::TooManyFrames(too_many(info, planned)));
    }
    Ok(())
}

/// The message when the frames would exceed the limit; `planned` is how many
/// the decoder would make (or has made).
pub fn too_many(info: &MediaInfo, planned: impl std::fmt::Display) -> String {
    let frames = info.packets.or(info.header_frames).unwrap_or(0);
    let span = info
        .duration
        .map(|d| format!(" spanning {d:.1} s"))
        .unwrap_or_default();
    let fps = format!("{:.3}", info.rate.fps());
    let fps = fps.trim_end_matches('0').trim_end_matches('.');
    format!(
        "its {frames} frames{span} would become {planned} frames at {fps} fps, more than \
         {MAX_REPEAT} times the frames in the file (a gap in the timestamps?)"
    )
}

/// The check after decoding: frames were decoded, ffmpeg did not report a
/// cut-off file, and the decoder reached the stream's end (its duration at
/// the decoding rate, which counts only what an edit list plays).
pub fn check_decoded(info: &MediaInfo, decoded: u64, log: &str) -> Result<(), String> {
    if decoded == 0 {
        return Err("no frames decoded".into());
    }
    if ["partial file", "Truncat", "ended prematurely"]
        .iter()
        .any(|m| log.contains(m))
    {
        return Err(format!(
            "input is truncated: {}",
            ffmpeg::tail(log.as_bytes())
        ));
    }
    if let Some(n) = info.expected_frames() {
        // The file's duration may include audio that runs longer.
        let slack = match info.stream_duration && !info.vfr {
            true => 2 + n / 200,
            false => 2 + n / 50,
        };
        if decoded + slack < n {
            return Err(format!(
                "decoded {decoded} of {n} frames: the input is truncated or corrupt"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::Rate;

    fn info(header: Option<u64>, packets: Option<u64>, duration: f64) -> MediaInfo {
        MediaInfo {
            video_index: 0,
            other_video: vec![],
            video_codec: "h264".into(),
            width: 64,
            height: 64,
            rotation: 0,
            pixel_aspect: None,
            rate: Rate { num: 10, den: 1 },
            vfr: false,
            format: "mov,mp4,m4a,3gp,3g2,mj2".into(),
            header_frames: header,
            packets,
            duration: Some(duration),
            stream_duration: true,
            audio: vec![],
            subtitles: vec![],
        }
    }

    #[test]
    fn an_edit_list_is_not_a_truncation() {
        // 30 frames in the file, an edit list plays the last 2 s of them.
        let trimmed = info(Some(30), Some(30), 2.0);
        check_input(&trimmed).unwrap();
        check_decoded(&trimmed, 20, "").unwrap();
        assert!(check_decoded(&trimmed, 10, "").is_err());
    }

    #[test]
    fn fewer_frames_than_listed_is_a_truncation() {
        let cut = info(Some(50), Some(23), 5.0);
        let err = check_input(&cut).unwrap_err().to_string();
        assert!(
            err.contains("lists 50 video frames but the file holds 23"),
            "{err}"
        );
        // An AVI header lists an empty chunk too.
        let avi = MediaInfo {
            format: "avi".into(),
            ..info(Some(51), Some(50), 2.04)
        };
        check_input(&avi).unwrap();
    }

    #[test]
    fn a_gap_of_hours_is_refused_before_decoding() {
        let gap = info(None, Some(4), 21600.1);
        let err = check_input(&gap).unwrap_err();
        assert!(matches!(err, ErrorKind::TooManyFrames(_)), "{err}");
        assert!(
            err.to_string().contains("become 216001 frames at 10 fps"),
            "{err}"
        );
        // Half the frames at half the rate (30 -> 15 fps) is fine.
        check_input(&info(None, Some(75), 10.0)).unwrap();
        assert_eq!(limit(&gap), Some(26));
    }
}
