//! What ffprobe says about an input: the video stream to anonymise (the one
//! a player shows), its upright size, rotation, frame rate and frame count,
//! and the audio and subtitle streams.

use crate::error::ErrorKind;
use crate::ffmpeg;
use serde::Serialize;
use serde_json::Value;
use std::path::Path;

/// A frame rate as a fraction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Rate {
    /// Numerator.
    pub num: u32,
    /// Denominator.
    pub den: u32,
}

impl Rate {
    /// Parse `"30000/1001"`; `None` for `"0/0"` and nonsense.
    pub fn parse(s: &str) -> Option<Rate> {
        let (n, d) = s.split_once('/').unwrap_or((s, "1"));
        let (num, den) = (n.trim().parse().ok()?, d.trim().parse().ok()?);
        (num > 0 && den > 0).then_some(Rate { num, den })
    }

    /// Frames per second.
    pub fn fps(self) -> f64 {
        self.num as f64 / self.den as f64
    }

    /// `"num/den"`, as ffmpeg takes it.
    pub fn arg(self) -> String {
        format!("{}/{}", self.num, self.den)
    }
}

/// One audio or subtitle stream.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OtherStream {
    /// ffmpeg's stream index in the input.
    pub index: usize,
    /// Codec name, e.g. `aac` or `subrip`.
    pub codec: String,
    /// Language tag, if any (kept in the output).
    pub language: Option<String>,
}

/// The parts of an input that the pipeline needs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MediaInfo {
    /// ffmpeg's index of the video stream used: the one a player shows (see
    /// [`main_video`]).
    pub video_index: usize,
    /// The other video streams, not written: cover art, thumbnails, other angles.
    pub other_video: Vec<usize>,
    /// Video codec name.
    pub video_codec: String,
    /// Width of the upright frames (after rotation).
    pub width: u32,
    /// Height of the upright frames (after rotation).
    pub height: u32,
    /// Rotation from the display matrix or `rotate` tag, degrees 0..360.
    pub rotation: u32,
    /// The shape of a pixel of the upright frames (width, height) when it is
    /// not square (anamorphic video): the output keeps it, so that players
    /// show the same picture.
    pub pixel_aspect: Option<(u32, u32)>,
    /// The frame rate the frames are decoded at and written with.
    pub rate: Rate,
    /// True when the input's timestamps are not evenly spaced (`r_frame_rate`
    /// differs from `avg_frame_rate`); such inputs are converted to `rate`.
    pub vfr: bool,
    /// ffprobe's name for the container, e.g. `mov,mp4,m4a,3gp,3g2,mj2`.
    pub format: String,
    /// Frame count from the container header, if it has one. It counts the
    /// frames that an edit list skips too, and in AVI empty "dropped frame"
    /// chunks that the demuxer never delivers.
    pub header_frames: Option<u64>,
    /// Video packets (frames) the demuxer really delivers, counted by ffprobe
    /// reading the whole file; `None` when not counted.
    pub packets: Option<u64>,
    /// How long the video stream plays, in seconds: the stream's duration
    /// (after an edit list), else its `DURATION` tag (Matroska), else the file's.
    pub duration: Option<f64>,
    /// True when `duration` is the stream's own, not the whole file's.
    pub stream_duration: bool,
    /// Audio streams.
    pub audio: Vec<OtherStream>,
    /// Subtitle streams.
    pub subtitles: Vec<OtherStream>,
}

impl MediaInfo {
    /// The number of frames the decoder should deliver: the duration at
    /// `rate`, else the frames in the file.
    pub fn expected_frames(&self) -> Option<u64> {
        match self.duration {
            Some(d) => Some((d * self.rate.fps()).round() as u64),
            None => self.packets.or(self.header_frames),
        }
    }
}

/// Run ffprobe on `path`: streams (with their packets counted, which reads
/// the whole file), format, chapters, and the XMP packet of an MP4/MOV as the
/// format tag `xmp`.
pub fn ffprobe_json(path: &Path) -> Result<Value, ErrorKind> {
    let out = ffmpeg::command(ffmpeg::Tool::Ffprobe)
        .args(["-v", "error", "-count_packets", "-export_xmp", "1"])
        .args(["-print_format", "json"])
        .args(["-show_format", "-show_streams", "-show_chapters"])
        .arg(path)
        .output()
        .map_err(|e| ffmpeg::spawn_error(ffmpeg::Tool::Ffprobe, e))?;
    if !out.status.success() {
        return Err(ErrorKind::Probe(ffmpeg::tail(&out.stderr)));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| ErrorKind::Probe(e.to_string()))
}

/// Run ffprobe on `path`.
pub fn probe(path: &Path) -> Result<MediaInfo, ErrorKind> {
    parse(&ffprobe_json(path)?).map_err(ErrorKind::Probe)
}

/// Parse ffprobe's `-show_format -show_streams` JSON (with `-count_packets`
/// for the packet counts).
pub fn parse(v: &Value) -> Result<MediaInfo, String> {
    let streams = v["streams"].as_array().cloned().unwrap_or_default();
    let kind = |s: &Value| s["codec_type"].as_str().unwrap_or("").to_string();
    let (video, other_video) = main_video(&streams)?;
    let dim = |k: &str| video[k].as_u64().filter(|&d| d > 0 && d <= 65_536);
    let (w, h) = match (dim("width"), dim("height")) {
        (Some(w), Some(h)) => (w as u32, h as u32),
        _ => return Err("video stream has no size".into()),
    };
    let rotation = rotation(video);
    let turned = rotation % 180 == 90;
    let (width, height) = if turned { (h, w) } else { (w, h) };
    let pixel_aspect = pixel_aspect(video).map(|(n, d)| if turned { (d, n) } else { (n, d) });
    let r = video["r_frame_rate"].as_str().and_then(Rate::parse);
    let avg = video["avg_frame_rate"].as_str().and_then(Rate::parse);
    let (rate, vfr) = match (r, avg) {
        (Some(r), Some(a)) => {
            let vfr = (r.fps() - a.fps()).abs() > a.fps() * 1e-3;
            // r_frame_rate is the finest grid the timestamps need; use it
            // unless it is far above the average (then frames would be
            // duplicated for nothing).
            (if r.fps() <= a.fps() * 1.05 { r } else { a }, vfr)
        }
        (Some(x), None) | (None, Some(x)) => (x, false),
        (None, None) => return Err("video stream has no frame rate".into()),
    };
    if rate.fps() > 1000.0 {
        return Err(format!("frame rate {} is not plausible", rate.arg()));
    }
    let num = |x: &Value| {
        x.as_str()
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|d| d.is_finite() && *d > 0.0)
    };
    let own = num(&video["duration"]).or_else(|| tag_duration(&video["tags"]));
    let duration = own.or_else(|| num(&v["format"]["duration"]));
    let count = |k: &str| video[k].as_str().and_then(|s| s.parse::<u64>().ok());
    let others = |k: &str| -> Vec<OtherStream> {
        streams
            .iter()
            .filter(|s| kind(s) == k)
            .filter_map(|s| {
                Some(OtherStream {
                    index: s["index"].as_u64()? as usize,
                    codec: s["codec_name"].as_str().unwrap_or("unknown").to_string(),
                    language: s["tags"]["language"]
                        .as_str()
                        .filter(|l| l.len() <= 8 && l.chars().all(|c| c.is_ascii_alphabetic()))
                        .map(str::to_string),
                })
            })
            .collect()
    };
    Ok(MediaInfo {
        video_index: video["index"].as_u64().ok_or("video stream has no index")? as usize,
        other_video,
        video_codec: video["codec_name"]
            .as_str()
            .unwrap_or("unknown")
            .to_string(),
        width,
        height,
        rotation,
        pixel_aspect,
        rate,
        vfr,
        format: v["format"]["format_name"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        header_frames: count("nb_frames").filter(|&n| n > 0),
        packets: count("nb_read_packets"),
        duration,
        stream_duration: own.is_some(),
        audio: others("audio"),
        subtitles: others("subtitle"),
    })
}

/// Choose the video stream a player shows, and list the other video streams.
///
/// Cover art and thumbnails are never it: streams flagged `attached_pic` or
/// `timed_thumbnails`, and a stream of one picture beside a stream with more
/// (Matroska stores cover art as a one-frame video track without the flag).
/// Of the rest, the one marked default, which must also be the largest; with
/// none marked default (or several), the largest of them. When the default is
/// not the largest, or two are equally large, which picture a viewer sees is
/// not known: an error, so that no smaller or other picture is written.
pub fn main_video(streams: &[Value]) -> Result<(&Value, Vec<usize>), String> {
    let videos: Vec<&Value> = streams
        .iter()
        .filter(|s| s["codec_type"] == "video")
        .collect();
    let flag = |s: &Value, k: &str| s["disposition"][k].as_i64() == Some(1);
    let packets = |s: &Value| {
        s["nb_read_packets"]
            .as_str()
            .and_then(|n| n.parse::<u64>().ok())
    };
    let mut moving: Vec<&Value> = videos
        .iter()
        .copied()
        .filter(|s| !flag(s, "attached_pic") && !flag(s, "timed_thumbnails"))
        .collect();
    if moving.is_empty() {
        return Err(match videos.is_empty() {
            true => "no video stream".into(),
            false => "no video stream, only cover art".into(),
        });
    }
    if moving.iter().any(|s| packets(s).is_none_or(|n| n > 1)) {
        moving.retain(|s| packets(s).is_none_or(|n| n > 1));
    }
    let area = |s: &Value| s["width"].as_u64().unwrap_or(0) * s["height"].as_u64().unwrap_or(0);
    let name = |s: &Value| {
        format!(
            "stream {} ({}x{})",
            s["index"],
            s["width"].as_u64().unwrap_or(0),
            s["height"].as_u64().unwrap_or(0)
        )
    };
    let defaults: Vec<&Value> = moving
        .iter()
        .copied()
        .filter(|s| flag(s, "default"))
        .collect();
    let pool = if defaults.is_empty() {
        &moving
    } else {
        &defaults
    };
    let best = *pool.iter().max_by_key(|s| area(s)).expect("not empty");
    let unknown = "which one a player shows is not known";
    if let Some(larger) = moving.iter().find(|s| area(s) > area(best)) {
        return Err(format!(
            "{} is marked default but {} is larger: {unknown}",
            name(best),
            name(larger)
        ));
    }
    if let Some(twin) = pool
        .iter()
        .find(|s| !std::ptr::eq(**s, best) && area(s) == area(best))
    {
        let marked = if defaults.len() > 1 {
            "both"
        } else {
            "neither"
        };
        return Err(format!(
            "{} and {} are as large and {marked} marked default: {unknown}",
            name(best),
            name(twin)
        ));
    }
    let others = videos
        .iter()
        .filter(|s| !std::ptr::eq(**s, best))
        .filter_map(|s| s["index"].as_u64().map(|i| i as usize))
        .collect();
    Ok((best, others))
}

/// A stream's `sample_aspect_ratio` (`"16:11"`), reduced; `None` for square
/// pixels or none given.
pub fn pixel_aspect(stream: &Value) -> Option<(u32, u32)> {
    let (n, d) = stream["sample_aspect_ratio"].as_str()?.split_once(':')?;
    let (n, d): (u32, u32) = (n.parse().ok()?, d.parse().ok()?);
    let (mut a, mut b) = (n, d);
    while b != 0 {
        (a, b) = (b, a % b);
    }
    (n > 0 && d > 0 && n != d).then(|| (n / a, d / a))
}

/// Matroska's per-stream `DURATION` tag, `HH:MM:SS.nnnnnnnnn`, in seconds.
fn tag_duration(tags: &Value) -> Option<f64> {
    let (_, v) = tags
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("duration"))?;
    let mut secs = 0.0;
    for part in v.as_str()?.split(':') {
        secs = secs * 60.0 + part.trim().parse::<f64>().ok()?;
    }
    (secs.is_finite() && secs > 0.0).then_some(secs)
}

/// Rotation in degrees 0..360 (multiples of 90) from the display matrix side
/// data or the older `rotate` tag.
fn rotation(video: &Value) -> u32 {
    let from_side = video["side_data_list"].as_array().and_then(|l| {
        l.iter().find_map(|sd| {
            sd["rotation"]
                .as_f64()
                .or_else(|| sd["rotation"].as_i64().map(|r| r as f64))
        })
    });
    let from_tag = video["tags"]["rotate"]
        .as_str()
        .and_then(|s| s.parse::<f64>().ok());
    let deg = from_side.or(from_tag).unwrap_or(0.0);
    let q = (deg / 90.0).round() as i64;
    (q.rem_euclid(4) * 90) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHONE: &str = r#"{"streams":[
      {"index":0,"codec_name":"h264","codec_type":"video","width":1920,"height":1080,
       "r_frame_rate":"30/1","avg_frame_rate":"2997/100","nb_frames":"300","duration":"10.01",
       "disposition":{"attached_pic":0},
       "side_data_list":[{"side_data_type":"Display Matrix","rotation":-90}]},
      {"index":1,"codec_name":"aac","codec_type":"audio","tags":{"language":"eng"}},
      {"index":2,"codec_name":"mjpeg","codec_type":"video","width":10,"height":10,
       "r_frame_rate":"90000/1","avg_frame_rate":"0/0","disposition":{"attached_pic":1}},
      {"index":3,"codec_name":"bin_data","codec_type":"data"}],
     "format":{"duration":"10.02"}}"#;

    fn parsed(json: &str) -> Result<MediaInfo, String> {
        parse(&serde_json::from_str(json).unwrap())
    }

    #[test]
    fn parses_phone_video() {
        let m = parsed(PHONE).unwrap();
        assert_eq!(m.video_index, 0);
        assert_eq!(m.other_video, [2]);
        assert_eq!((m.width, m.height, m.rotation), (1080, 1920, 270));
        assert!(m.vfr);
        assert_eq!(m.rate, Rate { num: 30, den: 1 });
        assert_eq!(m.expected_frames(), Some(300));
        assert_eq!(m.audio.len(), 1);
        assert_eq!(m.audio[0].language.as_deref(), Some("eng"));
        assert!(m.subtitles.is_empty());
    }

    #[test]
    fn skips_cover_art_and_rejects_audio_only() {
        let cover_first = PHONE.replacen("\"index\":0,", "\"index\":9,", 1);
        assert_eq!(parsed(&cover_first).unwrap().video_index, 9);
        let audio_only = r#"{"streams":[{"index":0,"codec_type":"audio"}],"format":{}}"#;
        assert!(parsed(audio_only).unwrap_err().contains("no video"));
    }

    /// A video stream: index, size, packets, default flag.
    fn video(i: u32, w: u32, h: u32, packets: u32, default: u8) -> String {
        format!(
            r#"{{"index":{i},"codec_type":"video","width":{w},"height":{h},
               "r_frame_rate":"10/1","avg_frame_rate":"10/1","nb_read_packets":"{packets}",
               "disposition":{{"default":{default},"attached_pic":0}}}}"#
        )
    }

    fn chosen(videos: &[String]) -> Result<usize, String> {
        let json = format!(r#"{{"streams":[{}],"format":{{}}}}"#, videos.join(","));
        parsed(&json).map(|m| m.video_index)
    }

    #[test]
    fn the_main_stream_is_the_default_and_largest_and_not_a_still() {
        // A small grey stream first, the real picture (default) second.
        assert_eq!(
            chosen(&[video(0, 160, 90, 30, 0), video(1, 640, 360, 30, 1)]),
            Ok(1)
        );
        // Matroska cover art: one picture, not flagged, larger than the video.
        assert_eq!(
            chosen(&[video(0, 900, 900, 1, 0), video(1, 640, 360, 30, 1)]),
            Ok(1)
        );
        // None marked default: the largest.
        assert_eq!(
            chosen(&[video(0, 160, 90, 30, 0), video(1, 640, 360, 30, 0)]),
            Ok(1)
        );
        // A one-frame video on its own is the video.
        assert_eq!(chosen(&[video(0, 640, 360, 1, 1)]), Ok(0));
    }

    #[test]
    fn an_unknown_main_stream_fails() {
        let smaller_default = chosen(&[video(0, 160, 90, 30, 1), video(1, 640, 360, 30, 0)]);
        let err = smaller_default.unwrap_err();
        assert!(
            err.contains("stream 0 (160x90) is marked default but stream 1 (640x360) is larger"),
            "{err}"
        );
        let twins = chosen(&[video(0, 640, 360, 30, 1), video(1, 640, 360, 30, 1)]);
        assert!(twins.unwrap_err().contains("not known"));
    }

    #[test]
    fn non_square_pixels_turn_with_the_picture() {
        let anamorphic = PHONE.replacen(
            r#""nb_frames":"300""#,
            r#""nb_frames":"300","sample_aspect_ratio":"32:22""#,
            1,
        );
        // Rotated a quarter turn: 16:11 pixels become 11:16.
        assert_eq!(parsed(&anamorphic).unwrap().pixel_aspect, Some((11, 16)));
        assert_eq!(parsed(PHONE).unwrap().pixel_aspect, None);
        let square = PHONE.replacen(
            r#""nb_frames""#,
            r#""sample_aspect_ratio":"1:1","nb_frames""#,
            1,
        );
        assert_eq!(parsed(&square).unwrap().pixel_aspect, None);
    }

    #[test]
    fn durations_come_from_the_stream_then_its_tag_then_the_file() {
        let mkv = r#"{"streams":[{"index":0,"codec_type":"video","width":64,"height":64,
            "r_frame_rate":"10/1","avg_frame_rate":"10/1","nb_read_packets":"4",
            "tags":{"DURATION":"06:00:00.100000000"}}],"format":{"duration":"99"}}"#;
        let m = parsed(mkv).unwrap();
        assert_eq!((m.duration, m.stream_duration), (Some(21600.1), true));
        assert_eq!((m.packets, m.expected_frames()), (Some(4), Some(216_001)));
        let no_tag = mkv.replace("DURATION", "title");
        assert_eq!(parsed(&no_tag).unwrap().duration, Some(99.0));
    }

    #[test]
    fn rates() {
        assert_eq!(Rate::parse("30000/1001").unwrap().arg(), "30000/1001");
        assert_eq!(Rate::parse("0/0"), None);
        assert_eq!(Rate::parse("25"), Some(Rate { num: 25, den: 1 }));
    }
}
