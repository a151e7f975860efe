//! Booking references: short codes a buyer can read over the phone (`CUR-7K3Q9X`), from an
//! alphabet without look-alikes (no 0/O, 1/I/L).

use rand::Rng;

const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

pub fn new_reference() -> String {
    let mut rng = rand::rng();
    let code: String = (0..6).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect();
    format!("CUR-{code}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_short_and_unambiguous() {
        for _ in 0..200 {
            let r = new_reference();
            assert_eq!(r.len(), 10);
            assert!(r.starts_with("CUR-"));
            assert!(!r[4..].contains(['0', 'O', '1', 'I', 'L']), "{r}");
        }
    }
}
