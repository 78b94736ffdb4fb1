// Package backend is the one place faildirs obtains a GoMLX compute backend.
//
// The choice, in order:
//
//  1. GOMLX_BACKEND, when set (e.g. "go", "xla:cpu", "xla:cuda"), is honoured as GoMLX documents it.
//  2. Otherwise XLA, CUDA first then CPU, when a PJRT plugin for it is already installed. go-xla can download
//     plugins from the internet; faildirs allows that only when the user opts in with
//     FAILDIRS_XLA_AUTOINSTALL=1, because offline the download fails (and older go-xla code paths panic).
//  3. Otherwise the pure Go backend, with one line on stderr saying why and how to enable XLA — except inside a
//     GoNB notebook, where every cell is a new process: there the line would repeat in red under every cell, so
//     it is left out and the notebook prints [Info] once, as an ordinary line (the notebooks' first cell does).
//
// The Go backend is created as [GoConfig], "go:ops_sequential" (also when GOMLX_BACKEND is exactly "go"):
// graph nodes run one after the other while each matmul still uses every core, which avoids the worker-pool
// deadlock of the parallel node schedule described in the README's "Go backend notes". A GOMLX_BACKEND with
// options ("go:ops_parallel", "go:parallelism=2") is used as given.
//
// Nothing here panics: a failing backend constructor (including a panicking one) becomes an error or a fallback.
// The [Info] returned with every backend says what was chosen and why, for notebooks, logs and result files.
//
//	b, info, err := backend.New(backend.Options{}) // reads GOMLX_BACKEND, FAILDIRS_XLA_AUTOINSTALL
//	defer b.Finalize()
//	fmt.Println(info)                              // e.g. "go:ops_sequential (...; no XLA PJRT plugin installed; simd=true)"
package backend

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/gobackend"
)

// GoConfig is the configuration faildirs uses for the pure Go backend (see the package documentation).
const GoConfig = gobackend.BackendName + ":ops_sequential"

// EnvBackend is GoMLX's environment variable naming the backend configuration ("go", "xla:cpu", ...).
const EnvBackend = compute.ConfigEnvVar

// envGoNBPipe is set by the GoNB kernel in the environment of every cell it runs.
const envGoNBPipe = "GONB_PIPE"

// EnvXLAAutoInstall opts in to go-xla downloading its PJRT plugins when none is installed ("1" or "true").
const EnvXLAAutoInstall = "FAILDIRS_XLA_AUTOINSTALL"

// Info describes the backend that was chosen.
type Info struct {
	// Name is the backend's registered name: "go" or "xla".
	Name string `json:"name"`
	// Config is the full GoMLX configuration string used, e.g. "xla:cuda" or "go".
	Config string `json:"config"`
	// Description is the backend's own description (device, plugin version).
	Description string `json:"description"`
	// Reason says why this backend was chosen, e.g. "GOMLX_BACKEND=go" or "no XLA PJRT plugin installed".
	Reason string `json:"reason"`
	// SIMD reports whether the Go backend's SIMD matmul kernels are compiled into this binary.
	SIMD bool `json:"simd"`
}

// String formats the info on one line.
func (i Info) String() string {
	return fmt.Sprintf("%s (%s; %s; simd=%v)", i.Config, i.Description, i.Reason, i.SIMD)
}

// Options adjusts [New]. The zero value reads the process environment and logs fallbacks to stderr.
type Options struct {
	// Getenv reads environment variables; nil means os.Getenv / os.LookupEnv semantics (an empty value counts as unset).
	Getenv func(string) string
	// Log receives the one-line fallback notice; nil means os.Stderr, or nothing inside a GoNB notebook (the
	// GONB_PIPE environment variable, read through Getenv, is set). Use io.Discard to silence it.
	Log io.Writer
	// Plugins lists the installed XLA PJRT plugins; nil means ask go-xla (without auto-install unless opted in).
	Plugins func() []string
}

// MustNew is like [New] but panics on error; meant for notebooks and tests only.
func MustNew(opts Options) (compute.Backend, Info) {
	b, info, err := New(opts)
	if err != nil {
		panic(err)
	}
	return b, info
}

// New returns a backend chosen as the package documentation describes; Options{} reads the process environment.
// Release it with Finalize when done.
func New(opts Options) (compute.Backend, Info, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	logw := opts.Log
	if logw == nil {
		logw = os.Stderr
		if getenv(envGoNBPipe) != "" {
			logw = io.Discard
		}
	}
	xlaEnableAutoInstall(isTrue(getenv(EnvXLAAutoInstall)))

	if cfg := strings.TrimSpace(getenv(EnvBackend)); cfg != "" {
		if cfg == gobackend.BackendName {
			cfg = GoConfig
		}
		b, err := construct(cfg)
		if err != nil {
			return nil, Info{}, fmt.Errorf("backend: %s=%q: %w", EnvBackend, cfg, err)
		}
		return b, describe(b, cfg, EnvBackend+"="+cfg), nil
	}

	plugins := opts.Plugins
	if plugins == nil {
		plugins = installedPlugins
	}
	available := plugins()
	var reasons []string
	for _, p := range []string{"cuda", "cpu"} {
		if !hasPlugin(available, p) {
			continue
		}
		cfg := "xla:" + p
		b, err := construct(cfg)
		if err == nil {
			return b, describe(b, cfg, "XLA PJRT plugin "+p+" installed"), nil
		}
		reasons = append(reasons, fmt.Sprintf("%s failed: %v", cfg, err))
	}
	if len(reasons) == 0 {
		reasons = append(reasons, noXLAReason)
	}
	reason := strings.Join(reasons, "; ")
	b, err := construct(GoConfig)
	if err != nil {
		return nil, Info{}, fmt.Errorf("backend: Go backend: %w (after XLA: %s)", err, reason)
	}
	fmt.Fprintf(logw, "faildirs: using the pure Go backend (%s); for XLA install a PJRT plugin or set %s=1 to let go-xla download one, or set %s\n",
		reason, EnvXLAAutoInstall, EnvBackend)
	return b, describe(b, GoConfig, reason), nil
}

// Go returns the pure Go backend regardless of the environment (for tests that must be deterministic).
func Go() (compute.Backend, Info, error) {
	b, err := construct(GoConfig)
	if err != nil {
		return nil, Info{}, fmt.Errorf("backend: Go backend: %w", err)
	}
	return b, describe(b, GoConfig, "requested explicitly"), nil
}

func describe(b compute.Backend, cfg, reason string) Info {
	name, _, _ := strings.Cut(cfg, ":")
	return Info{Name: name, Config: cfg, Description: b.Description(), Reason: reason, SIMD: SIMDCompiled}
}

// construct builds a backend from a GoMLX configuration string, turning panics into errors.
func construct(cfg string) (b compute.Backend, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("panic while creating backend: %v", r)
		}
	}()
	b, err = compute.NewWithConfig(cfg)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, errors.New("backend constructor returned nil")
	}
	return b, nil
}

func hasPlugin(available []string, name string) bool {
	return slices.ContainsFunc(available, func(p string) bool {
		return p == name || strings.HasPrefix(p, name+"_")
	})
}

func isTrue(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}
