//go:build goexperiment.swissmap

package main

const noswissmap = false
