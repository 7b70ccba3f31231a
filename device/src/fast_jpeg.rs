//! The fast path for JPEG photos, which is what phone cameras give: decode with libjpeg-turbo (through
//! `mozjpeg`, built from source for every target, SIMD on x86 and ARM) at a reduced DCT scale (1/2, 1/4,
//! 1/8 — the decoder skips the work for pixels we would throw away), and encode with a fast encoder.
//! Anything this path cannot take (CMYK, a file libjpeg gives up on) goes back to the general path.

use image::{DynamicImage, RgbImage};

use crate::error::{DeviceError, DeviceResult};

/// The DCT scale (numerator over 8) that still gives a long edge of at least `max_edge`: 1/8, 1/4, 1/2 or 1,
/// the scales libjpeg-turbo has SIMD code for.
fn scale_numerator(long: u32, max_edge: u32) -> u8 {
    [1u8, 2, 4].into_iter().find(|n| long * u32::from(*n) / 8 >= max_edge).unwrap_or(8)
}

/// A JPEG decoded at the smallest DCT scale that still gives a long edge of at least `max_edge`, and its
/// raw EXIF block (from the TIFF header on). `None` when the fast path cannot decode it.
pub fn decode_scaled(
    input: &[u8],
    max_edge: u32,
    max_pixels: u64,
) -> Option<DeviceResult<(DynamicImage, Option<Vec<u8>>)>> {
    // libjpeg reports a fatal error by unwinding out of the decoder (mozjpeg's `unwinding`); such a file
    // goes to the general path, which gives a picture or a clear error.
    std::panic::catch_unwind(|| decode_with_libjpeg(input, max_edge, max_pixels)).ok().flatten()
}

fn decode_with_libjpeg(
    input: &[u8],
    max_edge: u32,
    max_pixels: u64,
) -> Option<DeviceResult<(DynamicImage, Option<Vec<u8>>)>> {
    let mut decoder = mozjpeg::Decompress::with_markers(&[mozjpeg::Marker::APP(1)]).from_mem(input).ok()?;
    let (w, h) = (u32::try_from(decoder.width()).ok()?, u32::try_from(decoder.height()).ok()?);
    if u64::from(w) * u64::from(h) > max_pixels {
        return Some(Err(DeviceError::BadPhoto(format!("{w}×{h} pixels is more than the {max_pixels} allowed"))));
    }
    let exif = decoder.markers().find_map(|m| m.data.strip_prefix(b"Exif\0\0".as_slice()).map(<[u8]>::to_vec));
    decoder.scale(scale_numerator(w.max(h), max_edge));
    let mut started = decoder.rgb().ok()?;
    let (sw, sh) = (u32::try_from(started.width()).ok()?, u32::try_from(started.height()).ok()?);
    let pixels: Vec<u8> = started.read_scanlines().ok()?;
    started.finish().ok()?;
    let img = RgbImage::from_raw(sw, sh, pixels)?;
    Some(Ok((DynamicImage::ImageRgb8(img), exif)))
}

/// Encodes RGB pixels as a baseline JPEG (4:2:0, standard Huffman tables) without any metadata, with
/// libjpeg-turbo's SIMD code.
pub fn encode(rgb: &RgbImage, quality: u8) -> DeviceResult<Vec<u8>> {
    let (w, h) = rgb.dimensions();
    std::panic::catch_unwind(|| -> std::io::Result<Vec<u8>> {
        let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
        c.set_fastest_defaults();
        c.set_quality(f32::from(quality.clamp(1, 100)));
        c.set_size(w as usize, h as usize);
        let mut started = c.start_compress(Vec::with_capacity(rgb.len() / 8))?;
        started.write_scanlines(rgb.as_raw())?;
        started.finish()
    })
    .map_err(|_| DeviceError::BadPhoto(format!("a {w}×{h} photo could not be encoded")))?
    .map_err(|e| DeviceError::BadPhoto(e.to_string()))
}

/// A copy of the picture scaled to a long edge of at most `max_edge`, with a SIMD convolution resizer
/// (bilinear: enough for a downscale after the decoder's DCT scaling, and several times quicker). The source
/// is read in place.
pub fn thumbnail(rgb: &RgbImage, max_edge: u32) -> DeviceResult<RgbImage> {
    use fast_image_resize::images::{Image, ImageRef};
    use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
    let (w, h) = rgb.dimensions();
    let Some((dw, dh)) = target_size(w, h, max_edge) else { return Ok(rgb.clone()) };
    let src = ImageRef::new(w, h, rgb.as_raw(), PixelType::U8x3).map_err(|e| DeviceError::BadPhoto(e.to_string()))?;
    let mut dst = Image::new(dw, dh, PixelType::U8x3);
    Resizer::new()
        .resize(&src, &mut dst, &ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear)))
        .map_err(|e| DeviceError::BadPhoto(e.to_string()))?;
    RgbImage::from_raw(dw, dh, dst.into_vec()).ok_or_else(|| DeviceError::BadPhoto("resize produced no pixels".into()))
}

/// The size with a long edge of `max_edge` and the same shape; `None` when the picture is small enough.
fn target_size(w: u32, h: u32, max_edge: u32) -> Option<(u32, u32)> {
    let long = w.max(h);
    if long <= max_edge {
        return None;
    }
    let scale = f64::from(max_edge) / f64::from(long);
    Some((((f64::from(w) * scale).round() as u32).max(1), ((f64::from(h) * scale).round() as u32).max(1)))
}

/// Scales RGB pixels so that the long edge is at most `max_edge` (a picture small enough is returned as it is).
pub fn fit(rgb: RgbImage, max_edge: u32) -> DeviceResult<RgbImage> {
    let (w, h) = rgb.dimensions();
    if target_size(w, h, max_edge).is_none() {
        return Ok(rgb);
    }
    thumbnail(&rgb, max_edge)
}
