//! The photo pipeline: what a phone camera gives in, what the server receives out.
//!
//! Out: a JPEG with EXIF orientation applied to the pixels, no EXIF left (no orientation tag, no GPS),
//! the long edge no larger than `max_edge`, and its SHA-256. Capture time and GPS position read from
//! the EXIF are returned as fields, so they are kept next to the photo rather than inside it.

use std::io::Cursor;

use chrono::{DateTime, FixedOffset, Local, NaiveDateTime, TimeZone};
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

use crate::error::{DeviceError, DeviceResult};

#[derive(Debug, Clone)]
pub struct PhotoOptions {
    /// Longest edge of the stored photo, in pixels.
    pub max_edge: u32,
    /// JPEG quality, 1–100.
    pub quality: u8,
    /// Photos larger than this many pixels are refused (decompression bombs).
    pub max_pixels: u64,
    /// Long edge of the thumbnail lists show.
    pub thumbnail_edge: u32,
}

impl Default for PhotoOptions {
    fn default() -> Self {
        PhotoOptions { max_edge: 1600, quality: 80, max_pixels: 64_000_000, thumbnail_edge: 320 }
    }
}

/// The lines of a photo's stamp: time, position with accuracy, and the place when known.
pub fn stamp_lines(at: DateTime<FixedOffset>, lat: f64, lon: f64, accuracy_m: f64, place: Option<&str>) -> Vec<String> {
    let ns = if lat >= 0.0 { 'N' } else { 'S' };
    let ew = if lon >= 0.0 { 'E' } else { 'W' };
    let mut lines = vec![
        at.format("%Y-%m-%d %H:%M:%S").to_string(),
        format!("{:.5}{ns} {:.5}{ew} ±{:.0}m", lat.abs(), lon.abs(), accuracy_m),
    ];
    if let Some(place) = place.map(str::trim).filter(|p| !p.is_empty()) {
        lines.push(place.chars().take(40).collect());
    }
    lines
}

/// A processed photo, ready to store and upload.
#[derive(Debug, Clone)]
pub struct ProcessedPhoto {
    pub jpeg: Vec<u8>,
    pub sha256: String,
    pub width: u32,
    pub height: u32,
    /// Capture time from the EXIF, when the camera wrote one.
    pub taken_at: Option<DateTime<FixedOffset>>,
    /// GPS position from the EXIF (lat, lon), kept as a field; it is not in `jpeg`.
    pub exif_position: Option<(f64, f64)>,
    /// A small JPEG for lists.
    pub thumbnail: Vec<u8>,
    /// Whether a visible stamp was drawn.
    pub stamped: bool,
}

#[derive(Debug, Clone, Default)]
pub struct PhotoPipeline {
    pub options: PhotoOptions,
}

fn sniff(bytes: &[u8]) -> DeviceResult<ImageFormat> {
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        let brand = String::from_utf8_lossy(&bytes[8..12]).to_string();
        return Err(DeviceError::UnsupportedFormat(format!(
            "HEIF/HEIC ({brand}) photos cannot be decoded on this device; set the camera to JPEG (\"most compatible\")"
        )));
    }
    match image::guess_format(bytes) {
        Ok(ImageFormat::Jpeg) => Ok(ImageFormat::Jpeg),
        Ok(ImageFormat::Png) => Ok(ImageFormat::Png),
        Ok(other) => {
            Err(DeviceError::UnsupportedFormat(format!("{other:?} is not a supported photo format (JPEG or PNG)")))
        }
        Err(_) => Err(DeviceError::UnsupportedFormat("not a JPEG or PNG image".into())),
    }
}

impl PhotoPipeline {
    pub fn new(options: PhotoOptions) -> Self {
        PhotoPipeline { options }
    }

    /// Processes a photo without a stamp.
    pub fn process(&self, input: &[u8]) -> DeviceResult<ProcessedPhoto> {
        self.process_stamped(input, None)
    }

    /// Processes a photo and draws `stamp` (see `stamp_lines`) on it when given and a font is found.
    pub fn process_stamped(&self, input: &[u8], stamp: Option<&[String]>) -> DeviceResult<ProcessedPhoto> {
        let format = sniff(input)?;
        let fast = match format {
            ImageFormat::Jpeg => {
                crate::fast_jpeg::decode_scaled(input, self.options.max_edge.max(1), self.options.max_pixels)
            }
            _ => None,
        };
        let (img, exif) = match fast {
            Some(result) => result?,
            None => self.decode_general(input, format)?,
        };
        // Damaged metadata must never cost the picture: a bad EXIF block means "no metadata".
        let orientation = exif.as_deref().and_then(exif_orientation).unwrap_or(Orientation::NoTransforms);
        let (taken_at, exif_position) = exif.as_deref().map(read_exif).unwrap_or((None, None));

        // Scaled first, then turned upright: the long edge is the same either way, and turning the smaller
        // picture moves fewer pixels.
        let rgb = crate::fast_jpeg::fit(img.into_rgb8(), self.options.max_edge.max(1))?;
        let mut upright = DynamicImage::ImageRgb8(rgb);
        upright.apply_orientation(orientation);
        let mut rgb = upright.into_rgb8();
        let stamped = match (stamp, crate::stamp::StampFont::system()) {
            (Some(lines), Some(font)) => crate::stamp::draw(&mut rgb, font, lines),
            _ => false,
        };
        let jpeg = crate::fast_jpeg::encode(&rgb, self.options.quality)?;
        let t = self.options.thumbnail_edge.max(16);
        let thumb = crate::fast_jpeg::thumbnail(&rgb, t)?;
        let thumbnail = crate::fast_jpeg::encode(&thumb, 70)?;
        Ok(ProcessedPhoto {
            sha256: protocol::digest::sha256_hex(&jpeg),
            width: rgb.width(),
            height: rgb.height(),
            jpeg,
            taken_at,
            exif_position,
            thumbnail,
            stamped,
        })
    }
}

impl PhotoPipeline {
    /// Any supported format at full size, with its EXIF block; used when the fast JPEG path cannot.
    fn decode_general(&self, input: &[u8], format: ImageFormat) -> DeviceResult<(DynamicImage, Option<Vec<u8>>)> {
        let mut reader = ImageReader::with_format(Cursor::new(input), format);
        let mut limits = Limits::default();
        limits.max_alloc = Some(self.options.max_pixels.saturating_mul(4));
        reader.limits(limits);
        let mut decoder = reader.into_decoder().map_err(|e| DeviceError::BadPhoto(e.to_string()))?;
        let (w, h) = decoder.dimensions();
        if u64::from(w) * u64::from(h) > self.options.max_pixels {
            return Err(DeviceError::BadPhoto(format!(
                "{w}×{h} pixels is more than the {} allowed",
                self.options.max_pixels
            )));
        }
        let exif = decoder.exif_metadata().ok().flatten();
        let img = DynamicImage::from_decoder(decoder).map_err(|e| DeviceError::BadPhoto(e.to_string()))?;
        Ok((img, exif))
    }
}

/// The EXIF orientation tag, if the block has a readable one.
fn exif_orientation(raw: &[u8]) -> Option<Orientation> {
    let exif = exif::Reader::new().read_raw(raw.to_vec()).ok()?;
    let value = exif.get_field(exif::Tag::Orientation, exif::In::PRIMARY)?.value.get_uint(0)?;
    Orientation::from_exif(u8::try_from(value).ok()?)
}

/// Capture time and GPS position from a raw EXIF block; anything malformed is skipped.
fn read_exif(raw: &[u8]) -> (Option<DateTime<FixedOffset>>, Option<(f64, f64)>) {
    let Ok(exif) = exif::Reader::new().read_raw(raw.to_vec()) else {
        return (None, None);
    };
    let text = |tag| exif.get_field(tag, exif::In::PRIMARY).map(|f| f.display_value().to_string());
    let taken_at = text(exif::Tag::DateTimeOriginal).or_else(|| text(exif::Tag::DateTime)).and_then(|s| {
        let naive = NaiveDateTime::parse_from_str(s.trim_matches('"'), "%Y-%m-%d %H:%M:%S").ok()?;
        let offset = text(exif::Tag::OffsetTimeOriginal)
            .and_then(|o| DateTime::parse_from_rfc3339(&format!("2000-01-01T00:00:00{}", o.trim_matches('"'))).ok())
            .map(|d| *d.offset());
        match offset {
            Some(off) => off.from_local_datetime(&naive).single(),
            None => Local.from_local_datetime(&naive).earliest().map(|t| t.fixed_offset()),
        }
    });
    let coord = |value_tag, ref_tag, negative: &str| -> Option<f64> {
        let field = exif.get_field(value_tag, exif::In::PRIMARY)?;
        // Cameras write unsigned rationals as the standard says; some write signed ones.
        let parts: Vec<f64> = match &field.value {
            exif::Value::Rational(p) if p.iter().all(|r| r.denom != 0) => p.iter().map(|r| r.to_f64()).collect(),
            exif::Value::SRational(p) if p.iter().all(|r| r.denom != 0) => p.iter().map(|r| r.to_f64()).collect(),
            _ => return None,
        };
        if parts.len() < 3 {
            return None;
        }
        let deg = parts[0] + parts[1] / 60.0 + parts[2] / 3600.0;
        let sign = match exif.get_field(ref_tag, exif::In::PRIMARY) {
            Some(r) if r.display_value().to_string().contains(negative) => -1.0,
            _ => 1.0,
        };
        Some(sign * deg)
    };
    let position = coord(exif::Tag::GPSLatitude, exif::Tag::GPSLatitudeRef, "S")
        .zip(coord(exif::Tag::GPSLongitude, exif::Tag::GPSLongitudeRef, "W"))
        .filter(|(lat, lon)| (-90.0..=90.0).contains(lat) && (-180.0..=180.0).contains(lon));
    (taken_at, position)
}
