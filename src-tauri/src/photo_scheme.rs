//! `photo://localhost/<sha256>` (`http://photo.localhost/...` on Android and Windows): stored photos for
//! `<img>` tags. The asset protocol fails on Android; a custom scheme works everywhere. `?thumb=1` serves
//! the thumbnail.

use tauri::http::{Request, Response, StatusCode, header};
use tauri::{Manager, Runtime, UriSchemeContext, UriSchemeResponder};

use crate::Core;

pub fn serve<R: Runtime>(ctx: UriSchemeContext<'_, R>, request: Request<Vec<u8>>, responder: UriSchemeResponder) {
    let home = ctx.app_handle().try_state::<Core>().map(|c| c.home.clone());
    let path = request.uri().path().trim_start_matches('/').trim_end_matches(".jpg").to_owned();
    let thumb = request.uri().query().is_some_and(|q| q.split('&').any(|p| p == "thumb=1"));
    std::thread::spawn(move || {
        let not_found = || Response::builder().status(StatusCode::NOT_FOUND).body(Vec::new()).expect("static response");
        let response = match home {
            Some(home) if protocol::is_sha256_hex(&path) => {
                let dir = home.join("photos");
                let file = if thumb { dir.join(format!("{path}.thumb.jpg")) } else { dir.join(format!("{path}.jpg")) };
                let file = if file.is_file() { file } else { dir.join(format!("{path}.jpg")) };
                match std::fs::read(&file) {
                    Ok(bytes) => Response::builder()
                        .header(header::CONTENT_TYPE, "image/jpeg")
                        .header(header::CACHE_CONTROL, "max-age=31536000, immutable")
                        .body(bytes)
                        .unwrap_or_else(|_| not_found()),
                    Err(_) => not_found(),
                }
            }
            _ => not_found(),
        };
        responder.respond(response);
    });
}
