package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
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
	if err := patchKernelSpec(path, "/go/bin:/usr/bin", "amd64"); err != nil {
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
	if spec.Env["GOEXPERIMENT"] != "simd" || spec.Env["PATH"] != "/go/bin:/usr/bin" || len(spec.Argv) != 3 {
		t.Fatalf("patched spec = %s", raw)
	}
}

// TestHarnessOnRealNotebooks executes notebooks with Jupyter and the GoNB kernel (installed by `make setup`):
// a passing one, one whose cell panics (the harness must fail and show the panic), and one missing its
// declared image output.
func TestHarnessOnRealNotebooks(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-out", t.TempDir(),
		"testdata/passes.ipynb", "testdata/panics.ipynb", "testdata/missing_expectation.ipynb"}, &out, &errOut)
	got := out.String()
	t.Logf("harness output:\n%s\nstderr:\n%s", got, errOut.String())
	if code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	for _, want := range []string{
		"PASS testdata/passes.ipynb",
		"FAIL testdata/panics.ipynb",
		"panic: deliberate failure: sentinel 7f3a", // the failing cell's panic message is shown
		"FAIL testdata/missing_expectation.ipynb",
		"expected an output of type image/png",
		"1 passed, 2 failed",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("harness output lacks %q", want)
		}
	}
}
