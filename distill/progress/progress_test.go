package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
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

// TestBarSilentWithoutWork checks that a bar finished without any step (a cached stage) prints nothing, and that
// the first step draws at once.
func TestBarSilentWithoutWork(t *testing.T) {
	for _, total := range []int{0, 5} {
		var buf bytes.Buffer
		b := New(&buf, "embedding images", total)
		b.Add(0)
		b.Done()
		if buf.Len() != 0 {
			t.Errorf("total %d: a bar without work printed %q", total, buf.String())
		}
	}
	var buf bytes.Buffer
	b := New(&buf, "work", 5)
	if buf.Len() != 0 {
		t.Fatalf("New drew before any work: %q", buf.String())
	}
	b.Add(1)
	if !strings.Contains(buf.String(), "1/5") {
		t.Fatalf("first step not drawn: %q", buf.String())
	}
	b.Done()
	if lines := strings.Split(strings.TrimSpace(buf.String()), "\n"); len(lines) != 1 {
		t.Fatalf("a log already showing the final count got more lines: %q", buf.String())
	}
}

// TestBarQuietPeriod checks that a terminal or notebook bar stays undrawn for its quiet period: a job finished
// within it shows nothing, a longer one is drawn.
func TestBarQuietPeriod(t *testing.T) {
	for _, tc := range []struct {
		name  string
		quiet time.Duration
		want  bool
	}{{"quick job", time.Hour, false}, {"long job", 0, true}} {
		var buf bytes.Buffer
		b := New(&buf, "embedding texts", 3)
		b.mode, b.quiet = modeTerminal, tc.quiet
		b.Add(2)
		b.Add(1)
		b.Done()
		if drawn := strings.Contains(buf.String(), "3/3"); drawn != tc.want {
			t.Errorf("%s: output %q, drawn %v, want %v", tc.name, buf.String(), drawn, tc.want)
		}
	}
}
