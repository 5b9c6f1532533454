//! MapType presets (placeholder; being written).
