//! Booking references: short codes a buyer can read over the phone (`CUR-7K3Q9X`), from an
//! alphabet without look-alikes (no 0/O, 1/I/L). Codes are random, so two bookings can draw the
//! same one (31^6 codes): the unique index refuses the second, which then draws again.

use entity::bookings;
use rand::Rng;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseTransaction, TransactionTrait};

use crate::error::{AppError, AppResult, is_unique_violation};

const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// References drawn for one booking before giving up: one collision is rare, five in a row mean
/// something other than chance.
const ATTEMPTS: usize = 5;

pub fn new_reference() -> String {
    let mut rng = rand::rng();
    let code: String = (0..6).map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())])).collect();
    format!("CUR-{code}")
}

/// Inserts `booking` with a reference from `draw`, drawing again while the reference is taken.
/// Each try runs in a savepoint: on PostgreSQL a failed INSERT would otherwise abort the whole
/// hold transaction. Running out of tries is a 503, never a 500.
pub async fn insert_with_fresh_reference(
    txn: &DatabaseTransaction,
    booking: bookings::ActiveModel,
    mut draw: impl FnMut() -> String,
) -> AppResult<bookings::Model> {
    for attempt in 1..=ATTEMPTS {
        let mut row = booking.clone();
        row.reference = Set(draw());
        let savepoint = txn.begin().await?;
        match row.insert(&savepoint).await {
            Ok(inserted) => {
                savepoint.commit().await?;
                return Ok(inserted);
            }
            // The only unique index of `bookings` besides its id is the reference's.
            Err(err) if is_unique_violation(&err) => {
                savepoint.rollback().await?;
                tracing::info!(attempt, "booking reference already taken; drawing another");
            }
            Err(err) => return Err(err.into()),
        }
    }
    Err(AppError::Unavailable("no free booking reference after several draws".into()))
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
