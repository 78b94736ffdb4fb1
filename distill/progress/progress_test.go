package progress

import (
	"bytes"
	"strings"
	"testing"
)

func TestBarLinesToBuffer(t *testing.T) {
	tests := []struct {
		name      string
		total     int
		adds      []int
		wantFinal string
	}{
		{"known total", 10, []int{3, 3, 4}, "10/10 (100%)"},
		{"unknown total", 0, []int{2, 5}, "work 7 "},
		{"overshoot clamps bar", 4, []int{3, 3}, "6/4 (100%)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			b := New(&buf, "work", tc.total)
			for _, n := range tc.adds {
				b.Add(n)
			}
			b.Done()
			b.Add(100) // ignored after Done
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			last := lines[len(lines)-1]
			if !strings.Contains(last, tc.wantFinal) {
				t.Fatalf("final line %q does not contain %q; all output:\n%s", last, tc.wantFinal, buf.String())
			}
			if len(lines) > 1 && lines[len(lines)-2] == last {
				t.Fatalf("final line repeated: %q", buf.String())
			}
			if strings.Contains(buf.String(), "\r") {
				t.Fatalf("non-terminal output must not use carriage returns: %q", buf.String())
			}
			if got, want := b.Count(), sum(tc.adds); got != want {
				t.Fatalf("Count() = %d, want %d", got, want)
			}
		})
	}
}

func sum(xs []int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}
