module gomap/go-ref

go 1.24
