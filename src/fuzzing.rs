//! Entry points for the fuzz targets in `fuzz/` and for the test that replays their
//! corpora on stable. Not part of the public API.
