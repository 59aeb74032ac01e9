//! ICC colour profiles: keep the colour, drop the text.
//!
//! A profile is a container like any other: besides the primaries and tone
//! curves it carries a free-text description and copyright, device maker and
//! model fields, a creation date, and any private tag a tool cares to add (a
//! JPEG of the subject fits in one). [`sanitize`] rebuilds an RGB profile from
//! its colour tags only; everything else is dropped, and the caller is told
//! what went. A profile that does not parse as ICC, or describes another
//! colour space than RGB (the output's pixels are RGB), is dropped whole.
//!
//! What is kept: the header's version, class, colour space, connection
//! space, rendering intent and illuminant; the tags `wtpt`, `bkpt`,
//! `rXYZ`/`gXYZ`/`bXYZ`, `rTRC`/`gTRC`/`bTRC`, `chad`, `chrm`, `cicp`,
//! `lumi` (checked and cut to the size their type needs), and the colour
//! transforms `A2B0..2`/`B2A0..2` (checked by type and length). A fixed
//! description, "RGB", replaces the original (the format requires one).

mod build;
mod parse;

/// What [`sanitize`] did with a profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Sanitized {
    /// A rebuilt profile holding only colour data. `removed_text` is true
    /// when anything but colour data was in the input (text tags, device
    /// fields, private tags, padding).
    Rebuilt {
        /// The new profile.
        profile: Vec<u8>,
        /// Whether anything other than colour data was dropped.
        removed_text: bool,
    },
    /// The profile was dropped: not ICC, damaged, or not an RGB profile.
    Dropped(String),
}

/// Rebuild `profile` from its colour data only.
pub fn sanitize(profile: &[u8]) -> Sanitized {
    match parse::parse(profile) {
        Ok(p) => build::build(profile, &p),
        Err(why) => Sanitized::Dropped(why),
    }
}

#[cfg(any(test, feature = "test-util"))]
pub(crate) mod testdata;
#[cfg(test)]
mod tests;
