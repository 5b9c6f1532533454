//go:build goexperiment.swissmap

package main

// The oracle mirrors the classic map implementation; build it with
// GOEXPERIMENT=noswissmap.
var _ = mustBuildWithGOEXPERIMENTnoswissmap
