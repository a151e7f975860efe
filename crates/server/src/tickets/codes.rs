//! Ticket codes: 128 random bits and a MAC over them, so a code cannot be guessed, and a forged
//! or mistyped one is refused before any database look-up.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Longest code accepted at check-in (real ones are 39 characters).
pub const MAX_LEN: usize = 64;
const MAC_BYTES: usize = 12;

#[derive(Clone)]
pub struct TicketSigner {
    key: Vec<u8>,
}

impl TicketSigner {
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    /// A fresh code: `<22 chars random>.<16 chars MAC>`, URL- and QR-safe.
    pub fn issue(&self) -> String {
        let mut random = [0u8; 16];
        rand::rng().fill_bytes(&mut random);
        let body = URL_SAFE_NO_PAD.encode(random);
        let mac = self.mac(&body);
        format!("{body}.{}", URL_SAFE_NO_PAD.encode(&mac[..MAC_BYTES]))
    }

    /// Whether `code` was issued with this key (constant-time MAC check).
    pub fn verify(&self, code: &str) -> bool {
        if code.len() > MAX_LEN {
            return false;
        }
        let Some((body, tag)) = code.split_once('.') else { return false };
        let Ok(tag) = URL_SAFE_NO_PAD.decode(tag) else { return false };
        let Ok(mut mac) = HmacSha256::new_from_slice(&self.key) else { return false };
        mac.update(body.as_bytes());
        tag.len() == MAC_BYTES && mac.verify_truncated_left(&tag).is_ok()
    }

    fn mac(&self, body: &str) -> Vec<u8> {
        match HmacSha256::new_from_slice(&self.key) {
            Ok(mut mac) => {
                mac.update(body.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            // HMAC takes keys of any length; this arm cannot run.
            Err(_) => vec![0; 32],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_codes_verify_and_forgeries_do_not() {
        let signer = TicketSigner::new(b"key-one");
        let code = signer.issue();
        assert_eq!(code.len(), 39);
        assert!(signer.verify(&code));
        assert!(!TicketSigner::new(b"key-two").verify(&code));
        assert_ne!(signer.issue(), code);
        let (body, tag) = code.split_once('.').unwrap_or_default();
        let mut flipped = body.to_owned();
        flipped.replace_range(0..1, if body.starts_with('A') { "B" } else { "A" });
        assert!(!signer.verify(&format!("{flipped}.{tag}")));
        assert!(!signer.verify(body));
        assert!(!signer.verify(""));
        assert!(!signer.verify(&"x".repeat(500)));
    }
}
