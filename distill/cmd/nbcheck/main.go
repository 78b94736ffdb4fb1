// Command nbcheck executes Jupyter notebooks headless with the GoNB kernel and checks their outputs.
//
// For each notebook it runs `jupyter nbconvert --execute` with a GoNB kernel registered in a temporary
// JUPYTER_DATA_DIR (so the user's Jupyter setup is untouched), then fails the notebook on a non-zero exit, an
// error output, a Go panic printed by a cell, or a missing declared expectation (see [expectations]). It prints
// one line per notebook and closes with "N passed, N failed"; the exit code is non-zero when any failed.
//
// The kernel it registers has GOEXPERIMENT=simd in its environment on amd64 (GoMLX's fast matmul kernels) and a
// PATH that finds go, gonb and goimports.
//
// Usage:
//
//	nbcheck [-out DIR] [-html DIR] [-timeout 900s] [-parallel N] notebook.ipynb...
//	nbcheck -install-kernel [-jupyter-data DIR]   # register the kernel for the user's Jupyter (make setup)
//	nbcheck -lab DIR                              # the classic notebook server on DIR (make lab)
//	nbcheck -lab-check DIR [-timeout 5m]          # the `make lab` path headless: server, kernel, one cell
//	nbcheck -times FILE.json notebook.ipynb...    # seconds per cell, run twice through a server (the second cached)
//
// -lab runs `jupyter-notebook` on DIR with the registered GoNB kernel (adding --allow-root as root: containers and
// CI machines run as root). -lab-check starts that same server on a free loopback port with a random token, checks
// that the gonb kernel is listed by /api/kernelspecs, starts a GoNB session through the REST API, executes one Go
// cell over the kernel's websocket channel, checks its output, and shuts everything down within the timeout.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/internal/atomicfile"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("nbcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	outDir := fs.String("out", "", "where executed notebooks are written (default: a temporary directory)")
	htmlDir := fs.String("html", "", "also export each executed notebook to DIR/<name>.html (images inline)")
	timeout := fs.Duration("timeout", 15*time.Minute, "per-cell timeout")
	installOnly := fs.Bool("install-kernel", false, "only register the GoNB kernel (in -jupyter-data) and exit")
	jupyterData := fs.String("jupyter-data", "", "JUPYTER_DATA_DIR for the kernel (default: temporary; with -install-kernel: Jupyter's default)")
	lab := fs.String("lab", "", "start the classic Jupyter notebook server on this folder with the GoNB kernel (make lab)")
	labCheckDir := fs.String("lab-check", "", "check the -lab path headless on this folder: server, gonb kernel spec, one cell over the kernel channel")
	parallel := fs.Int("parallel", 1, "notebooks executed at the same time")
	timesOut := fs.String("times", "", "instead of checking, run each notebook's code cells twice through a Jupyter server and write the client-side seconds of each cell of the second run (every stage cached) to this JSON file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *parallel < 1 {
		fmt.Fprintf(stderr, "nbcheck: -parallel %d: want at least 1\n", *parallel)
		return 2
	}
	if *lab != "" || *labCheckDir != "" {
		if fs.NArg() > 0 {
			fmt.Fprintf(stderr, "nbcheck: unexpected arguments %q with -lab/-lab-check\n", fs.Args())
			return 2
		}
		if *lab != "" {
			err := runLab(*lab, stdout) // returns only on failure
			fmt.Fprintf(stderr, "nbcheck: %v\n", err)
			return 1
		}
		labTimeout := *timeout
		if !isFlagSet(fs, "timeout") {
			labTimeout = 5 * time.Minute
		}
		start := time.Now()
		if err := labCheck(ctx, *labCheckDir, labTimeout, stdout); err != nil {
			fmt.Fprintf(stdout, "FAIL lab check (%.1fs): %v\n", time.Since(start).Seconds(), err)
			return 1
		}
		fmt.Fprintf(stdout, "PASS lab check (%.1fs)\n", time.Since(start).Seconds())
		return 0
	}
	if *installOnly {
		dir := *jupyterData
		if dir == "" {
			dir = defaultJupyterData()
		}
		if err := installKernel(ctx, dir, false); err != nil {
			fmt.Fprintf(stderr, "nbcheck: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "GoNB kernel registered in %s\n", dir)
		return 0
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "nbcheck: no notebooks given")
		return 2
	}
	dataDir := *jupyterData
	if dataDir == "" {
		tmp, err := os.MkdirTemp("", "nbcheck-jupyter-")
		if err != nil {
			fmt.Fprintf(stderr, "nbcheck: %v\n", err)
			return 1
		}
		defer os.RemoveAll(tmp)
		dataDir = tmp
	}
	if err := installKernel(ctx, dataDir, true); err != nil {
		fmt.Fprintf(stderr, "nbcheck: %v\n", err)
		return 1
	}
	if *timesOut != "" {
		times, err := timeCells(ctx, fs.Args(), dataDir, stdout)
		if err == nil {
			var data []byte
			if data, err = json.MarshalIndent(map[string]any{"notebooks": times}, "", "  "); err == nil {
				err = atomicfile.WriteBytes(*timesOut, append(data, '\n'))
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "nbcheck: %v\n", err)
			return 1
		}
		return 0
	}
	if *outDir == "" {
		tmp, err := os.MkdirTemp("", "nbcheck-out-")
		if err != nil {
			fmt.Fprintf(stderr, "nbcheck: %v\n", err)
			return 1
		}
		defer os.RemoveAll(tmp)
		*outDir = tmp
	}
	// Notebooks run -parallel at a time (each its own nbconvert and kernel); results print in the order given.
	type result struct {
		problems []string
		seconds  float64
	}
	results := make([]result, fs.NArg())
	sem := make(chan struct{}, *parallel)
	var wg sync.WaitGroup
	for i, path := range fs.Args() {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			start := time.Now()
			results[i] = result{execute(ctx, path, dataDir, *outDir, *htmlDir, *timeout), time.Since(start).Seconds()}
		})
	}
	wg.Wait()
	passed, failed := 0, 0
	for i, path := range fs.Args() {
		r := results[i]
		if len(r.problems) == 0 {
			passed++
			fmt.Fprintf(stdout, "PASS %s (%.1fs)\n", path, r.seconds)
			continue
		}
		failed++
		fmt.Fprintf(stdout, "FAIL %s (%.1fs)\n", path, r.seconds)
		for _, p := range r.problems {
			fmt.Fprintf(stdout, "    %s\n", strings.ReplaceAll(p, "\n", "\n    "))
		}
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return 1
	}
	return 0
}

// execute runs one notebook and returns its problems (none: passed).
func execute(ctx context.Context, path, dataDir, outDir, htmlDir string, timeout time.Duration) []string {
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	// --allow-errors keeps the executed notebook (with the failing cell's stderr: the panic message) so that check
	// can report it; nbconvert alone only prints the cell's source and "exit status 2".
	cmd := exec.CommandContext(ctx, "jupyter", "nbconvert", "--to", "notebook", "--execute", "--allow-errors",
		"--ExecutePreprocessor.kernel_name=gonb",
		fmt.Sprintf("--ExecutePreprocessor.timeout=%d", int(timeout.Seconds())),
		"--output-dir", outDir, "--output", name, path)
	cmd.Env = kernelEnv(os.Environ(), dataDir)
	var errBuf bytes.Buffer
	cmd.Stderr = &errBuf
	cmd.Stdout = &errBuf
	if err := cmd.Run(); err != nil {
		return []string{fmt.Sprintf("jupyter nbconvert failed (%v):\n%s", err, cellError(errBuf.String()))}
	}
	executed := filepath.Join(outDir, name+".ipynb")
	nb, err := readNotebook(executed)
	if err != nil {
		return []string{err.Error()}
	}
	problems := check(nb)
	if htmlDir != "" && len(problems) == 0 {
		if err := exportHTML(ctx, executed, htmlDir, name, dataDir); err != nil {
			problems = append(problems, err.Error())
		}
	}
	return problems
}

// exportHTML converts an executed notebook to DIR/name.html (outputs only rendered, images embedded).
func exportHTML(ctx context.Context, executed, htmlDir, name, dataDir string) error {
	if err := os.MkdirAll(htmlDir, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(htmlDir, ".html-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, "jupyter", "nbconvert", "--to", "html", "--output-dir", tmp, "--output", name, executed)
	cmd.Env = kernelEnv(os.Environ(), dataDir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("html export of %s failed: %v\n%s", executed, err, out)
	}
	// Written atomically so a reader never sees a half-written report.
	html, err := os.ReadFile(filepath.Join(tmp, name+".html"))
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(htmlDir, name+".html"), html)
}

// cellError keeps the informative part of nbconvert's output on failure: the CellExecutionError block if present
// (it shows the failing cell's source and error), else the last 40 lines.
func cellError(out string) string {
	if i := strings.Index(out, "CellExecutionError"); i >= 0 {
		return strings.TrimSpace(out[i:])
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) > 40 {
		lines = lines[len(lines)-40:]
	}
	return strings.Join(lines, "\n")
}

// kernelEnv returns env with JUPYTER_DATA_DIR set and the variables the GoNB kernel needs.
func kernelEnv(env []string, dataDir string) []string {
	env = append(env, "JUPYTER_DATA_DIR="+dataDir)
	if runtime.GOARCH == "amd64" {
		env = append(env, "GOEXPERIMENT=simd")
	}
	return env
}

// releaseToolchain returns the Go release named by a runtime.Version() string ("go1.27.3-X:simd" → "go1.27.3"),
// or "" for a development build.
func releaseToolchain(version string) string {
	v, _, _ := strings.Cut(version, "-")
	v, _, _ = strings.Cut(v, " ")
	if !strings.HasPrefix(v, "go1.") || strings.Trim(v[len("go1."):], "0123456789.") != "" {
		return ""
	}
	return v
}

func isFlagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func defaultJupyterData() string {
	if d := os.Getenv("JUPYTER_DATA_DIR"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".local", "share", "jupyter")
}

// installKernel registers GoNB in dataDir (gonb --install) and adds to its kernel.json the environment the kernel
// needs: GOEXPERIMENT=simd on amd64 and a PATH with go, gonb and goimports. rawErrors makes compile errors plain
// text (for headless runs) instead of HTML (for the Jupyter UI). gopls (autocomplete only) is not required.
func installKernel(ctx context.Context, dataDir string, rawErrors bool) error {
	gonb, err := exec.LookPath("gonb")
	if err != nil {
		return errors.New("gonb is not on PATH: run `make setup` (it runs `go install tool`, which installs gonb and goimports into $(go env GOPATH)/bin) and put that directory on PATH")
	}
	if _, err := exec.LookPath("goimports"); err != nil {
		return errors.New("goimports is not on PATH (GoNB needs it): run `make setup`")
	}
	if _, err := exec.LookPath("jupyter"); err != nil {
		return errors.New("jupyter is not on PATH: run `make setup` (Debian packages jupyter-nbconvert, python3-nbclient, python3-ipykernel, jupyter-client, python3-notebook)")
	}
	args := []string{"--install", "--force_deps", "--logtostderr"}
	if rawErrors {
		args = append(args, "--raw_error")
	}
	cmd := exec.CommandContext(ctx, gonb, args...)
	cmd.Env = append(os.Environ(), "JUPYTER_DATA_DIR="+dataDir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("gonb --install: %v\n%s", err, out)
	}
	spec := filepath.Join(dataDir, "kernels", "gonb", "kernel.json")
	return patchKernelSpec(spec, os.Getenv("PATH"), runtime.GOARCH, runtime.Version(),
		cellGoFlags(os.Getenv("GOFLAGS"), len(backend.InstalledXLAPlugins()) > 0))
}

// cellGoFlags returns the GOFLAGS of the kernel's cell builds: the user's own, plus -ldflags=-w (no DWARF: a cell
// is linked again at every run, and compressing debug sections is the slowest part of that link), -mod=mod (a
// notebook that turns GoNB's `go get` before every cell off with %noautoget still builds: missing go.sum lines are
// added by the build) and, when no XLA PJRT plugin is installed, -tags=noxla, which leaves out go-xla and its cgo
// so the Go linker links internally (measured 1.7–1.8 s instead of 5.3–5.9 s per cell link on 2 cores).
func cellGoFlags(user string, xlaInstalled bool) string {
	flags := strings.Fields(user)
	flags = append(flags, "-ldflags=-w", "-mod=mod")
	if !xlaInstalled {
		flags = append(flags, "-tags=noxla")
	}
	return strings.Join(flags, " ")
}

// patchKernelSpec adds GOEXPERIMENT=simd (amd64), PATH, GOTOOLCHAIN and GOFLAGS to the "env" of a kernel.json, writing
// atomically. toolchain is the Go release nbcheck was built with (the one go.mod needs, e.g. "go1.27.3"): the kernel
// compiles cells with that same toolchain, whatever Go the machine has installed; a development build sets none.
func patchKernelSpec(path, pathEnv, goarch, toolchain, goflags string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading kernel spec: %w", err)
	}
	var spec map[string]any
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("kernel spec %s: %w", path, err)
	}
	env, _ := spec["env"].(map[string]any)
	if env == nil {
		env = map[string]any{}
	}
	if goarch == "amd64" {
		env["GOEXPERIMENT"] = "simd"
	}
	if pathEnv != "" {
		env["PATH"] = pathEnv
	}
	if tc := releaseToolchain(toolchain); tc != "" {
		env["GOTOOLCHAIN"] = tc
	}
	if goflags != "" {
		env["GOFLAGS"] = goflags
	}
	spec["env"] = env
	out, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, out)
}
