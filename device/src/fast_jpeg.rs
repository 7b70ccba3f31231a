//! The fast path for JPEG photos, which is what phone cameras give: decode at a reduced DCT scale (1/2,
//! 1/4, 1/8 — the decoder skips the work for pixels we would throw away), and encode with a fast encoder.
//! Anything this path cannot take (progressive oddities, CMYK, 16-bit) goes back to the general path.

use image::{DynamicImage, GrayImage, RgbImage};

use crate::error::{DeviceError, DeviceResult};

/// A JPEG decoded at the smallest DCT scale that still gives a long edge of at least `max_edge`, and its
/// raw EXIF block. `None` when the fast path cannot decode it.
pub fn decode_scaled(
    input: &[u8],
    max_edge: u32,
    max_pixels: u64,
) -> Option<DeviceResult<(DynamicImage, Option<Vec<u8>>)>> {
    let mut decoder = jpeg_decoder::Decoder::new(input);
    decoder.read_info().ok()?;
    let info = decoder.info()?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    if u64::from(w) * u64::from(h) > max_pixels {
        return Some(Err(DeviceError::BadPhoto(format!("{w}×{h} pixels is more than the {max_pixels} allowed"))));
    }
    let long = w.max(h);
    if long > max_edge {
        let f = f64::from(max_edge) / f64::from(long);
        let rw = ((f64::from(w) * f).ceil() as u16).max(1);
        let rh = ((f64::from(h) * f).ceil() as u16).max(1);
        decoder.scale(rw, rh).ok()?;
    }
    let pixels = decoder.decode().ok()?;
    let info = decoder.info()?;
    let exif = decoder.exif_data().map(<[u8]>::to_vec);
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    let img = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, pixels)?),
        jpeg_decoder::PixelFormat::L8 => DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, pixels)?),
        _ => return None,
    };
    Some(Ok((img, exif)))
}

/// Encodes RGB pixels as a baseline JPEG without any metadata.
pub fn encode(rgb: &RgbImage, quality: u8) -> DeviceResult<Vec<u8>> {
    let (w, h) = rgb.dimensions();
    let (Ok(w16), Ok(h16)) = (u16::try_from(w), u16::try_from(h)) else {
        return Err(DeviceError::BadPhoto(format!("{w}×{h} is too large to encode")));
    };
    let mut out = Vec::with_capacity(rgb.len() / 8);
    jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100))
        .encode(rgb.as_raw(), w16, h16, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| DeviceError::BadPhoto(e.to_string()))?;
    Ok(out)
}

/// Scales RGB pixels so that the long edge is at most `max_edge`, with a SIMD convolution resizer
/// (bilinear: enough for a downscale after the decoder's DCT scaling, and several times quicker).
pub fn fit(rgb: RgbImage, max_edge: u32) -> DeviceResult<RgbImage> {
    use fast_image_resize::images::Image;
    use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
    let (w, h) = rgb.dimensions();
    let long = w.max(h);
    if long <= max_edge {
        return Ok(rgb);
    }
    let scale = f64::from(max_edge) / f64::from(long);
    let (dw, dh) = (((f64::from(w) * scale).round() as u32).max(1), ((f64::from(h) * scale).round() as u32).max(1));
    let src =
        Image::from_vec_u8(w, h, rgb.into_raw(), PixelType::U8x3).map_err(|e| DeviceError::BadPhoto(e.to_string()))?;
    let mut dst = Image::new(dw, dh, PixelType::U8x3);
    Resizer::new()
        .resize(&src, &mut dst, &ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear)))
        .map_err(|e| DeviceError::BadPhoto(e.to_string()))?;
    RgbImage::from_raw(dw, dh, dst.into_vec()).ok_or_else(|| DeviceError::BadPhoto("resize produced no pixels".into()))
}
