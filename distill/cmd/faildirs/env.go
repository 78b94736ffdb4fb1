package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"runtime"

	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/internal/cli"
)

// envReport is what "faildirs env" prints (as text, or JSON with -json).
type envReport struct {
	Backend      backend.Info `json:"backend"`
	GoVersion    string       `json:"go_version"`
	GOARCH       string       `json:"goarch"`
	NumCPU       int          `json:"num_cpu"`
	SIMDCompiled bool         `json:"simd_compiled"`
	MatmulN      int          `json:"matmul_n"`
	MatmulGFLOPS float64      `json:"matmul_gflops"`
}

// envMaxN bounds -n: three float32 matrices of 8192² take 805 MB and one product about 10 s on two cores.
const envMaxN = 8192

func runEnv(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("env", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 1024, fmt.Sprintf("matrix size of the float32 matmul benchmark, 1 to %d", envMaxN))
	reps := fs.Int("reps", 5, "timed repetitions (the best is reported), 1 to 100")
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	var c cli.Checks
	c.IntIn("n", *n, 1, envMaxN)
	c.IntIn("reps", *reps, 1, 100)
	if err := c.Err(); err != nil {
		return err
	}
	b, info, err := backend.New(backend.Options{})
	if err != nil {
		return err
	}
	defer b.Finalize()
	gflops, err := backend.MatmulGFLOPS(ctx, b, *n, *reps)
	if err != nil {
		return err
	}
	rep := envReport{Backend: info, GoVersion: runtime.Version(), GOARCH: runtime.GOARCH, NumCPU: runtime.NumCPU(),
		SIMDCompiled: backend.SIMDCompiled, MatmulN: *n, MatmulGFLOPS: gflops}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "backend:       %s\n", info.Config)
	fmt.Fprintf(stdout, "description:   %s\n", info.Description)
	fmt.Fprintf(stdout, "chosen because: %s\n", info.Reason)
	fmt.Fprintf(stdout, "go:            %s %s, %d CPUs\n", rep.GoVersion, rep.GOARCH, rep.NumCPU)
	simd := "yes"
	if !backend.SIMDCompiled {
		simd = "NO: rebuild with GOEXPERIMENT=simd for ~15x faster matmul on amd64"
	}
	fmt.Fprintf(stdout, "simd kernels:  %s\n", simd)
	fmt.Fprintf(stdout, "matmul:        %.1f GFLOP/s (float32 %dx%d, best of %d)\n", gflops, *n, *n, *reps)
	return nil
}
