// Limits of the sync protocol that the front-ends enforce before the phone's store or the server would
// refuse. Each constant mirrors the constant of the same name in the Rust `protocol` crate
// (protocol/src/*.rs); `limits.test.ts` reads those sources and fails when one of them drifts. Numbers the
// protocol does not define (note lengths, the nearby radius) are not here.

/**
 * Photos of one finding, "before" and "after" together: protocol/src/finding.rs `MAX_PHOTOS`. The UI
 * applies the same cap to a verification result's photos and a handling report's photos.
 */
export const MAX_PHOTOS = 9;

/**
 * Characters of a finding's description: protocol/src/finding.rs `MAX_DESCRIPTION_CHARS`. Rust counts
 * Unicode scalar values; an HTML `maxlength` counts UTF-16 units, which is never more lenient.
 */
export const MAX_DESCRIPTION_CHARS = 2000;

