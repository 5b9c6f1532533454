//go:build goexperiment.swissmap

package main

// implName is what the output lines call this build: Go 1.24's default
// Swiss-table map (internal/runtime/maps).
const implName = "go-swiss"
