//! Go's hash functions (placeholder; being written).
