//! Unit tests for `lookup`.
