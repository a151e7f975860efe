//! The one pagination type: `page` (from 1) and `page_size` (default 20, at most 100).

use crate::http::{Params, envelope::Pagination};

pub const DEFAULT_PAGE_SIZE: u64 = 20;
pub const MAX_PAGE_SIZE: u64 = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u64,
    pub page_size: u64,
}

impl PageRequest {
    /// Reads `page` and `page_size`, recording a field error for values out of range.
    pub fn read(params: &mut Params) -> Self {
        let page = params.int("page", 1, 1_000_000).unwrap_or(1);
        let page_size = params.int("page_size", 1, MAX_PAGE_SIZE as i64).unwrap_or(DEFAULT_PAGE_SIZE as i64);
        Self { page: page as u64, page_size: page_size as u64 }
    }

    pub fn offset(&self) -> u64 {
        (self.page - 1) * self.page_size
    }

    pub fn of<T>(&self, items: Vec<T>, total: u64) -> Page<T> {
        Page { items, pagination: Pagination { page: self.page, page_size: self.page_size, total } }
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self { page: 1, page_size: DEFAULT_PAGE_SIZE }
    }
}

/// One page of a list and where it sits in the whole.
pub struct Page<T> {
    pub items: Vec<T>,
    pub pagination: Pagination,
}
