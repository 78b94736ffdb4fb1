package backend

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestChoice(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		plugins    []string
		wantName   string
		wantReason string
		wantLog    string
		wantErr    string
	}{
		{name: "GOMLX_BACKEND=go is honoured", env: map[string]string{EnvBackend: "go"}, plugins: []string{"cpu"},
			wantName: "go", wantReason: "GOMLX_BACKEND=go"},
		{name: "no plugin falls back to go with one line", env: map[string]string{},
			wantName: "go", wantReason: noXLAReason, wantLog: "using the pure Go backend"},
		{name: "unknown backend is an error, not a panic", env: map[string]string{EnvBackend: "nosuchbackend"},
			wantErr: `GOMLX_BACKEND="nosuchbackend"`},
		{name: "a plugin that cannot load falls back to go", env: map[string]string{},
			plugins: []string{"cuda"}, wantName: "go", wantReason: "xla:cuda failed", wantLog: "xla:cuda failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var log bytes.Buffer
			b, info, err := New(Options{Getenv: env(tc.env), Log: &log,
				Plugins: func() []string { return tc.plugins }})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer b.Finalize()
			if info.Name != tc.wantName {
				t.Fatalf("chose %q (backend %q), want %q", info.Name, b.Name(), tc.wantName)
			}
			if !strings.Contains(info.Reason, tc.wantReason) {
				t.Fatalf("reason %q lacks %q", info.Reason, tc.wantReason)
			}
			if tc.wantLog == "" && log.Len() != 0 {
				t.Fatalf("unexpected log %q", log.String())
			}
			if tc.wantLog != "" {
				if !strings.Contains(log.String(), tc.wantLog) || strings.Count(log.String(), "\n") != 1 {
					t.Fatalf("log %q: want exactly one line containing %q", log.String(), tc.wantLog)
				}
			}
			if info.SIMD != SIMDCompiled {
				t.Fatalf("info.SIMD = %v, SIMDCompiled = %v", info.SIMD, SIMDCompiled)
			}
		})
	}
}

func TestMatmulGFLOPS(t *testing.T) {
	b, _, err := Go()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	g, err := MatmulGFLOPS(context.Background(), b, 64, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !(g > 0) {
		t.Fatalf("GFLOP/s = %v, want > 0", g)
	}
	if _, err := MatmulGFLOPS(context.Background(), b, 0, 1); err == nil {
		t.Fatal("n=0 should be an error")
	}
}

func BenchmarkMatmul1024(b *testing.B) {
	be, _, err := Go()
	if err != nil {
		b.Fatal(err)
	}
	defer be.Finalize()
	var g float64
	for b.Loop() {
		g, err = MatmulGFLOPS(context.Background(), be, 1024, 1)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(g, "GFLOP/s")
}

// TestInstalledPluginsOffline checks that listing XLA plugins with auto-install off neither panics nor downloads.
func TestInstalledPluginsOffline(t *testing.T) {
	_, _, err := New(Options{Getenv: env(map[string]string{EnvBackend: "go"}), Log: &bytes.Buffer{}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range installedPlugins() { // must return (possibly empty), not panic
		if p == "" {
			t.Fatal("empty plugin name")
		}
	}
}

// TestGoBackendManyParallelMatmuls runs a graph of many independent large matmuls, the shape that deadlocked
// compute v0.1.2's worker pool under its default (parallel node) schedule; with GoConfig it must finish.
func TestGoBackendManyParallelMatmuls(t *testing.T) {
	b, info, err := Go()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	if info.Config != GoConfig {
		t.Fatalf("config %q, want %q", info.Config, GoConfig)
	}
	const n = 384
	data := make([]float32, n*n)
	for i := range data {
		data[i] = float32(i%7) / 7
	}
	x := tensors.FromFlatDataAndDimensions(data, n, n)
	exec, err := graph.NewExec(b, func(a *graph.Node) *graph.Node {
		var sum *graph.Node
		for k := range 8 {
			m := graph.MatMul(graph.MulScalar(a, float64(k+1)), a)
			if sum == nil {
				sum = m
			} else {
				sum = graph.Add(sum, m)
			}
		}
		return graph.ReduceAllSum(sum)
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for range 10 {
			out, err := exec.Call1(x)
			if err != nil {
				done <- err
				return
			}
			_ = out.FinalizeAll()
		}
		done <- nil
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("graph execution did not finish in 2 minutes: worker-pool deadlock")
	}
}

// TestNoticeQuietInNotebook checks that the fallback notice goes to stderr by default and is left out under GoNB.
func TestNoticeQuietInNotebook(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want bool
	}{{"terminal", map[string]string{}, true}, {"GoNB cell", map[string]string{envGoNBPipe: "/tmp/gonb_pipe"}, false}} {
		t.Run(tc.name, func(t *testing.T) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			saved := os.Stderr
			os.Stderr = w
			b, _, err := New(Options{Getenv: env(tc.env), Plugins: func() []string { return nil }})
			os.Stderr = saved
			w.Close()
			got, _ := io.ReadAll(r)
			if err != nil {
				t.Fatal(err)
			}
			b.Finalize()
			if has := strings.Contains(string(got), "using the pure Go backend"); has != tc.want {
				t.Errorf("stderr %q: notice printed %v, want %v", got, has, tc.want)
			}
		})
	}
}
