package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// notebook is the part of the Jupyter notebook format (nbformat 4) the harness reads.
type notebook struct {
	Cells    []cell `json:"cells"`
	Metadata struct {
		Faildirs expectations `json:"faildirs"`
	} `json:"metadata"`
}

type cell struct {
	CellType string          `json:"cell_type"`
	Source   json.RawMessage `json:"source"`
	Outputs  []output        `json:"outputs"`
}

type output struct {
	OutputType string                     `json:"output_type"`
	Name       string                     `json:"name"` // stream name: stdout or stderr
	Text       json.RawMessage            `json:"text"` // string or list of strings
	Data       map[string]json.RawMessage `json:"data"`
	EName      string                     `json:"ename"`
	EValue     string                     `json:"evalue"`
	Traceback  []string                   `json:"traceback"`
}

// expectations are declared by a notebook in its metadata under "faildirs":
//
//	"metadata": {"faildirs": {"expect_mime": ["image/png"], "expect_text": ["backend:"]}}
//
// expect_mime lists MIME types that must appear in some display output; expect_text lists strings that must appear
// in some output (stream text or text/plain, text/html, text/markdown data).
type expectations struct {
	ExpectMIME []string `json:"expect_mime"`
	ExpectText []string `json:"expect_text"`
}

// readNotebook parses an .ipynb file.
func readNotebook(path string) (*notebook, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var nb notebook
	if err := json.Unmarshal(raw, &nb); err != nil {
		return nil, fmt.Errorf("%s: not a notebook: %w", path, err)
	}
	return &nb, nil
}

// joinText decodes a notebook text field, which is either a string or a list of strings.
func joinText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []string
	if json.Unmarshal(raw, &parts) == nil {
		return strings.Join(parts, "")
	}
	return ""
}

// panicMarkers are stderr texts that mean a cell failed even if the kernel did not report an error output.
var panicMarkers = []string{"panic: ", "goroutine 1 [running]"}

// check inspects an executed notebook: error outputs, panics printed to stderr, and the declared expectations.
// It returns one problem per line; none means the notebook passed.
func check(nb *notebook) []string {
	var problems []string
	mimes := map[string]bool{}
	var allText strings.Builder
	for i, c := range nb.Cells {
		if c.CellType != "code" {
			continue
		}
		for _, o := range c.Outputs {
			switch o.OutputType {
			case "error":
				problems = append(problems, fmt.Sprintf("cell %d: error %s: %s\n%s\nsource:\n%s", i+1, o.EName, o.EValue,
					strings.Join(o.Traceback, "\n"), joinText(c.Source)))
			case "stream":
				text := joinText(o.Text)
				allText.WriteString(text)
				if o.Name == "stderr" {
					for _, m := range panicMarkers {
						if strings.Contains(text, m) {
							problems = append(problems, fmt.Sprintf("cell %d: stderr shows a failure (%q):\n%s", i+1,
								strings.TrimSpace(m), text))
							break
						}
					}
				}
			case "display_data", "execute_result", "update_display_data":
				for mime, data := range o.Data {
					mimes[mime] = true
					if strings.HasPrefix(mime, "text/") {
						allText.WriteString(joinText(data))
					}
				}
			}
		}
	}
	exp := nb.Metadata.Faildirs
	for _, m := range exp.ExpectMIME {
		if !mimes[m] {
			have := make([]string, 0, len(mimes))
			for k := range mimes {
				have = append(have, k)
			}
			slices.Sort(have)
			problems = append(problems, fmt.Sprintf("expected an output of type %s; outputs have %v", m, have))
		}
	}
	text := allText.String()
	for _, s := range exp.ExpectText {
		if !strings.Contains(text, s) {
			problems = append(problems, fmt.Sprintf("expected output text %q not found", s))
		}
	}
	return problems
}
