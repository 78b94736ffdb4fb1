package main

import (
	"bytes"
	"fmt"
	"runtime/pprof"

	"github.com/faildirs/faildirs/internal/atomicfile"
)

// startCPUProfile starts a CPU profile for the -cpuprofile flag of the bench commands; stop ends it and writes it
// to path atomically. An empty path profiles nothing (stop then does nothing).
func startCPUProfile(path string) (stop func() error, err error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	var buf bytes.Buffer
	if err := pprof.StartCPUProfile(&buf); err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		return atomicfile.WriteBytes(path, buf.Bytes())
	}, nil
}
