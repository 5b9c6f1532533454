//go:build !goexperiment.swissmap

package main

// implName is what the output lines call this build: the classic map
// (runtime/map_noswiss.go), selected with GOEXPERIMENT=noswissmap.
const implName = "go-classic"
