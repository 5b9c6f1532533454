//go:build !goexperiment.swissmap

package main

// The vectors describe Go's classic map (map_noswiss.go); the map type layout
// read in maptypes.go is abi.OldMapType, which only exists under this
// experiment.
const noswissmap = true
