package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"

	"github.com/faildirs/faildirs/internal/atomicfile"
	"github.com/faildirs/faildirs/internal/cli"
)

// recognizeProfile accepts an existing file as a -cpuprofile output only if it is a pprof profile (gzip data), so
// that a mistyped path does not replace an unrelated file.
func recognizeProfile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var magic [2]byte
	if _, err := io.ReadFull(f, magic[:]); err != nil || magic != [2]byte{0x1f, 0x8b} {
		return errors.New("not a pprof profile")
	}
	return nil
}

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
		if err := cli.MakeParent(path); err != nil {
			return err
		}
		return atomicfile.WriteBytes(path, buf.Bytes())
	}, nil
}
