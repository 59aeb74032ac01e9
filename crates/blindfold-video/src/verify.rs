//! The check on a written output, before it gets its final name: it must
//! probe as a video of the expected size and frame count, carry only the
//! stream layout asked for, no rotation, and no metadata tag outside a short
//! allow-list of technical tags that ffmpeg itself writes (in the format, the
//! streams and the chapters; an MP4's XMP packet counts as the tag `xmp`).
//! Unknown tags fail the check, so a new kind of location or device tag
//! cannot slip through. `blindfold verify` uses the same tag check.

use serde_json::Value;
use std::path::Path;

/// What the output must look like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expect {
    /// Width (even, after padding).
    pub width: u32,
    /// Height (even, after padding).
    pub height: u32,
    /// The input's pixel shape, `None` for square pixels.
    pub pixel_aspect: Option<(u32, u32)>,
    /// Frames written.
    pub frames: u64,
    /// Audio streams.
    pub audio: usize,
    /// Subtitle streams.
    pub subtitles: usize,
}

/// Probe `path` and check it against `expect`.
pub fn verify(path: &Path, expect: &Expect) -> Result<(), String> {
    let v = crate::probe::ffprobe_json(path).map_err(|e| format!("output does not probe: {e}"))?;
    check(&v, expect)
}

/// The check on ffprobe's JSON (`-count_packets -show_format -show_streams`).
pub fn check(v: &Value, expect: &Expect) -> Result<(), String> {
    let streams = v["streams"].as_array().cloned().unwrap_or_default();
    let of = |k: &str| {
        streams
            .iter()
            .filter(|s| s["codec_type"] == k)
            .collect::<Vec<_>>()
    };
    let video = of("video");
    if video.len() != 1 {
        return Err(format!("{} video streams, expected 1", video.len()));
    }
    let vs = video[0];
    let size = (vs["width"].as_u64(), vs["height"].as_u64());
    if size != (Some(expect.width as u64), Some(expect.height as u64)) {
        return Err(format!(
            "video is {:?}x{:?}, expected {}x{}",
            size.0, size.1, expect.width, expect.height
        ));
    }
    // Matroska stores the shape as a display width in whole pixels: allow
    // one pixel.
    let shape = crate::probe::pixel_aspect(vs);
    let wide = |s: Option<(u32, u32)>| s.map_or(1.0, |(n, d)| n as f64 / d as f64);
    if (wide(shape) - wide(expect.pixel_aspect)).abs() * expect.width as f64 > 1.0 {
        return Err(format!(
            "pixels are shaped {shape:?}, expected {:?} (width, height)",
            expect.pixel_aspect
        ));
    }
    let packets = vs["nb_read_packets"]
        .as_str()
        .and_then(|s| s.parse::<u64>().ok());
    if packets != Some(expect.frames) {
        return Err(format!(
            "{packets:?} video frames written, expected {}",
            expect.frames
        ));
    }
    if of("audio").len() != expect.audio || of("subtitle").len() != expect.subtitles {
        return Err("audio or subtitle streams differ from the plan".into());
    }
    if streams.len() != 1 + expect.audio + expect.subtitles {
        return Err("unexpected extra streams".into());
    }
    for s in &streams {
        if let Some(sd) = s["side_data_list"].as_array()
            && sd
                .iter()
                .any(|d| d["rotation"].as_f64().is_some_and(|r| r != 0.0))
        {
            return Err("output still carries a rotation".into());
        }
    }
    let bad = all_bad_tags(v);
    if !bad.is_empty() {
        return Err(format!("metadata left in output: {}", bad.join(", ")));
    }
    Ok(())
}

/// Tags outside the allow-list in the format (XMP included, as `xmp`), the
/// streams and the chapters (a chapter's title can hold a name or an address),
/// as `"where: key"`.
pub(crate) fn all_bad_tags(v: &Value) -> Vec<String> {
    let mut bad = bad_tags(&v["format"]["tags"], "format");
    for (key, place) in [("streams", "stream"), ("chapters", "chapter")] {
        for (i, s) in v[key].as_array().into_iter().flatten().enumerate() {
            bad.extend(bad_tags(&s["tags"], &format!("{place} {i}")));
        }
    }
    bad
}

/// Tags outside the allow-list, as `"where: key"`.
fn bad_tags(tags: &Value, place: &str) -> Vec<String> {
    let Some(map) = tags.as_object() else {
        return Vec::new();
    };
    map.iter()
        .filter(|(k, v)| !allowed(k, v.as_str().unwrap_or("")))
        .map(|(k, _)| format!("{place}: {k}"))
        .collect()
}

fn allowed(key: &str, value: &str) -> bool {
    match key.to_ascii_lowercase().as_str() {
        "major_brand" | "minor_version" | "compatible_brands" | "language" | "duration" => true,
        "encoder" => value.starts_with("Lav"),
        "handler_name" => matches!(value, "VideoHandler" | "SoundHandler" | "SubtitleHandler"),
        "vendor_id" => matches!(value, "[0][0][0][0]" | "FFMP"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(extra_format_tags: &str) -> Value {
        let j = format!(
            r#"{{"streams":[
              {{"codec_type":"video","width":320,"height":240,"nb_read_packets":"50",
                "tags":{{"language":"und","handler_name":"VideoHandler","encoder":"Lavc libx264"}}}},
              {{"codec_type":"audio","tags":{{"handler_name":"SoundHandler","vendor_id":"[0][0][0][0]"}}}}],
             "format":{{"tags":{{"major_brand":"isom"{extra_format_tags}}}}}}}"#
        );
        serde_json::from_str(&j).unwrap()
    }

    const E: Expect = Expect {
        width: 320,
        height: 240,
        pixel_aspect: None,
        frames: 50,
        audio: 1,
        subtitles: 0,
    };

    #[test]
    fn clean_output_passes() {
        check(&sample(""), &E).unwrap();
    }

    #[test]
    fn identifying_tags_fail() {
        for tag in [
            r#","location":"+48.85+002.29/""#,
            r#","creation_time":"2020-01-01T00:00:00Z""#,
            r#","com.apple.quicktime.make":"Apple""#,
            r#","encoder":"HERO9 Black serial 123""#,
            r#","xmp":"<x:xmpmeta><exif:GPSLatitude>48,51.4N</exif:GPSLatitude>""#,
        ] {
            let err = check(&sample(tag), &E).unwrap_err();
            assert!(err.contains("metadata left"), "{tag}: {err}");
        }
    }

    #[test]
    fn a_chapter_title_fails() {
        let mut v = sample("");
        v["chapters"] = serde_json::json!([{"id": 1, "tags": {"title": "Anna, 12 Rue X"}}]);
        let err = check(&v, &E).unwrap_err();
        assert!(err.contains("chapter 0: title"), "{err}");
    }

    #[test]
    fn wrong_counts_fail() {
        assert!(check(&sample(""), &Expect { frames: 51, ..E }).is_err());
        assert!(check(&sample(""), &Expect { audio: 0, ..E }).is_err());
        assert!(check(&sample(""), &Expect { width: 240, ..E }).is_err());
        let anamorphic = Expect {
            pixel_aspect: Some((16, 11)),
            ..E
        };
        let err = check(&sample(""), &anamorphic).unwrap_err();
        assert!(err.contains("pixels are shaped None"), "{err}");
    }
}
