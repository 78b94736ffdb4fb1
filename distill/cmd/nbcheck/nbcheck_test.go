package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCheckFindsProblems(t *testing.T) {
	tests := []struct {
		name   string
		nb     string
		wantOK bool
		want   string
	}{
		{"clean with expectations met",
			`{"metadata":{"faildirs":{"expect_mime":["image/png"],"expect_text":["hello"]}},"cells":[{"cell_type":"code","source":"x","outputs":[
			 {"output_type":"stream","name":"stdout","text":["hel","lo\n"]},{"output_type":"display_data","data":{"image/png":"iVBOR"}}]}]}`,
			true, ""},
		{"error output",
			`{"cells":[{"cell_type":"code","source":["boom()"],"outputs":[{"output_type":"error","ename":"ERROR","evalue":"exit status 2","traceback":["panic: bad"]}]}]}`,
			false, "cell 1: error ERROR: exit status 2"},
		{"panic on stderr",
			`{"cells":[{"cell_type":"markdown","source":"m"},{"cell_type":"code","source":"p","outputs":[{"output_type":"stream","name":"stderr","text":"panic: oh no\n"}]}]}`,
			false, "cell 2: stderr shows a failure"},
		{"missing mime",
			`{"metadata":{"faildirs":{"expect_mime":["image/png"]}},"cells":[{"cell_type":"code","source":"","outputs":[{"output_type":"display_data","data":{"text/html":"<b>"}}]}]}`,
			false, "expected an output of type image/png; outputs have [text/html]"},
		{"missing text",
			`{"metadata":{"faildirs":{"expect_text":["backend:"]}},"cells":[{"cell_type":"code","source":"","outputs":[{"output_type":"execute_result","data":{"text/plain":"other"}}]}]}`,
			false, `expected output text "backend:" not found`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var nb notebook
			if err := json.Unmarshal([]byte(tc.nb), &nb); err != nil {
				t.Fatal(err)
			}
			problems := check(&nb)
			if tc.wantOK {
				if len(problems) != 0 {
					t.Fatalf("want no problems, got %q", problems)
				}
				return
			}
			if len(problems) == 0 || !strings.Contains(strings.Join(problems, "\n"), tc.want) {
				t.Fatalf("want a problem containing %q, got %q", tc.want, problems)
			}
		})
	}
}

func TestPatchKernelSpec(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kernel.json")
	if err := os.WriteFile(path, []byte(`{"argv":["/x/gonb","--kernel","{connection_file}"],"display_name":"Go (gonb)","env":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := patchKernelSpec(path, "/go/bin:/usr/bin", "amd64", "go1.27.3-X:simd", cellGoFlags("-buildvcs=false", false)); err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Argv []string          `json:"argv"`
		Env  map[string]string `json:"env"`
	}
	raw, _ := os.ReadFile(path)
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	if spec.Env["GOEXPERIMENT"] != "simd" || spec.Env["PATH"] != "/go/bin:/usr/bin" || spec.Env["GOTOOLCHAIN"] != "go1.27.3" ||
		spec.Env["GOFLAGS"] != "-buildvcs=false -ldflags=-w -mod=mod -tags=noxla" ||
		len(spec.Argv) != 3 {
		t.Fatalf("patched spec = %s", raw)
	}
}

// TestHarnessOnRealNotebooks executes notebooks with Jupyter and the GoNB kernel (installed by `make setup`):
// a passing one, one whose cell panics (the harness must fail and show the panic), and one missing its
// declared image output.
func TestHarnessOnRealNotebooks(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-out", t.TempDir(), "-parallel", "2",
		"testdata/passes.ipynb", "testdata/panics.ipynb", "testdata/missing_expectation.ipynb"}, &out, &errOut)
	got := out.String()
	t.Logf("harness output:\n%s\nstderr:\n%s", got, errOut.String())
	if code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	last := -1
	for _, want := range []string{ // in the order given, although two run at a time
		"PASS testdata/passes.ipynb",
		"FAIL testdata/panics.ipynb",
		"panic: deliberate failure: sentinel 7f3a", // the failing cell's panic message is shown
		"FAIL testdata/missing_expectation.ipynb",
		"expected an output of type image/png",
		"1 passed, 2 failed",
	} {
		i := strings.Index(got, want)
		if i < 0 {
			t.Errorf("harness output lacks %q", want)
		} else if i < last {
			t.Errorf("%q comes out of order", want)
		}
		last = max(last, i)
	}
}

func TestLabServerArgs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		root    bool
		port    int
		token   string
		browser bool
		want    []string
		absent  []string
	}{
		{"make lab as a user", false, 0, "", true, []string{"notebook", "--notebook-dir=nb"}, []string{"--allow-root", "--no-browser", "--port-retries=0"}},
		{"make lab as root, headless", true, 0, "", false, []string{"--allow-root", "--no-browser"}, []string{"--ip=127.0.0.1"}},
		{"lab check", true, 4242, "t0k", false, []string{"--allow-root", "--ip=127.0.0.1", "--port=4242", "--port-retries=0", "--NotebookApp.token=t0k", "--no-browser"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := labServerArgs("nb", tc.root, tc.port, tc.token, tc.browser)
			for _, w := range tc.want {
				if !slices.Contains(args, w) {
					t.Errorf("args %q lack %q", args, w)
				}
			}
			for _, a := range tc.absent {
				if slices.Contains(args, a) {
					t.Errorf("args %q contain %q", args, a)
				}
			}
		})
	}
}

// TestLabCheck runs the `make lab` path headless with the kernel `make setup` registered, then checks that the
// same check fails clearly when no GoNB kernel is registered (an empty HOME and JUPYTER_DATA_DIR).
func TestLabCheck(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-lab-check", "testdata"}, &out, &errOut); code != 0 {
		t.Fatalf("lab check failed (exit %d):\n%s%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), `cell output "lab check: 42"`) {
		t.Errorf("lab check output lacks the cell's output:\n%s", out.String())
	}

	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("JUPYTER_DATA_DIR", filepath.Join(home, "jupyter"))
	out.Reset()
	if code := run(context.Background(), []string{"-lab-check", "testdata"}, &out, &errOut); code == 0 {
		t.Fatalf("lab check passed without a registered GoNB kernel:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "no gonb kernel") {
		t.Errorf("the failure does not say the kernel is missing:\n%s", out.String())
	}
}

func TestReleaseToolchain(t *testing.T) {
	for in, want := range map[string]string{"go1.27.3": "go1.27.3", "go1.27.3-X:simd": "go1.27.3", "go1.26.8 X:simd": "go1.26.8",
		"devel go1.28-abcdef": "", "go1.27rc1": "", "": ""} {
		if got := releaseToolchain(in); got != want {
			t.Errorf("releaseToolchain(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCellGoFlags(t *testing.T) {
	if got := cellGoFlags("", true); got != "-ldflags=-w -mod=mod" {
		t.Errorf("with XLA installed: %q", got)
	}
	if got := cellGoFlags(" -trimpath ", false); got != "-trimpath -ldflags=-w -mod=mod -tags=noxla" {
		t.Errorf("without XLA: %q", got)
	}
}
