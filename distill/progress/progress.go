// Package progress shows progress of long work (embedding images, training epochs, SVM fits): a one-line bar
// rewritten in place on a terminal, an HTML bar updated in place under a GoNB notebook, and plain periodic lines
// when writing to a file or pipe (logs stay readable).
//
// A Bar is safe for concurrent use. Every long computation in faildirs takes a Progress io.Writer option with the
// meaning of [New]'s w: nil for the default (stderr, or HTML in GoNB), io.Discard for none.
//
//	bar := progress.New(nil, "embedding images", n)
//	defer bar.Done()
//	for range n {
//		bar.Add(1)
//	}
package progress

import (
	"fmt"
	"html"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
)

// Bar reports the progress of one job of a known number of steps.
type Bar struct {
	mu       sync.Mutex
	w        io.Writer
	mode     mode
	label    string
	total    int
	done     int
	start    time.Time
	last     time.Time
	htmlID   string
	finished bool
	// minInterval is the least time between two redraws (the last step always draws).
	minInterval time.Duration
	// drawn is the count shown by the last redraw (-1 before the first).
	drawn int
	// quiet is how long a bar stays undrawn: jobs that finish sooner show nothing (terminal and notebook only).
	quiet time.Duration
}

// quietPeriod is the quiet time of terminal and notebook bars: a bar for a job shorter than this is never drawn,
// so a notebook cell that runs a few quick steps (or loads them from a cache) shows no bar at all.
const quietPeriod = time.Second

type mode int

const (
	modeTerminal mode = iota // carriage-return redraws
	modeLines                // one line per redraw, rate-limited harder
	modeNotebook             // GoNB HTML display updated in place
)

// New starts a bar for total steps. A nil w means: an HTML bar in a GoNB notebook, otherwise stderr.
// Writers that are not terminals (files, pipes, buffers) get plain lines at most every 10 seconds plus a final one.
// total may be 0 (unknown): then only the count and rate are shown. Nothing is drawn until the first step is
// done, and a bar finished without any step (work found in a cache) draws nothing at all. On a terminal and in a
// notebook a bar appears only once its job has run for a second: quick jobs show no bar.
func New(w io.Writer, label string, total int) *Bar {
	b := &Bar{w: w, label: label, total: total, start: time.Now(), drawn: -1}
	switch {
	case w == nil && gonbui.IsNotebook:
		b.mode = modeNotebook
		b.htmlID = "faildirs_progress_" + gonbui.UniqueID()
		b.minInterval, b.quiet = 500*time.Millisecond, quietPeriod
	case w == nil:
		b.w = os.Stderr
		b.mode, b.minInterval = modeFor(os.Stderr)
	default:
		b.mode, b.minInterval = modeFor(w)
	}
	if b.mode == modeTerminal {
		b.quiet = quietPeriod
	}
	return b
}

// modeFor picks terminal redraws for character devices, plain lines otherwise.
func modeFor(w io.Writer) (mode, time.Duration) {
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return modeTerminal, 200 * time.Millisecond
		}
	}
	return modeLines, 10 * time.Second
}

// Add records n more finished steps.
func (b *Bar) Add(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	b.done += n
	if b.done == 0 || (b.drawn < 0 && time.Since(b.start) < b.quiet) {
		return
	}
	b.draw(b.drawn < 0)
}

// Done marks the job finished and draws the final state.
func (b *Bar) Done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.finished {
		return
	}
	b.finished = true
	if b.drawn < 0 && (b.done == 0 || time.Since(b.start) < b.quiet) { // nothing ran, or too quickly to show
		return
	}
	if b.mode != modeLines || b.drawn != b.done { // a log already showing the final count gets no repeat line
		b.draw(true)
	}
	if b.mode == modeTerminal {
		fmt.Fprintln(b.w)
	}
}

// Count returns the number of steps recorded so far.
func (b *Bar) Count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.done
}

// draw renders the bar; force bypasses the rate limit. The caller holds b.mu.
func (b *Bar) draw(force bool) {
	now := time.Now()
	if !force && now.Sub(b.last) < b.minInterval && !(b.total > 0 && b.done >= b.total) {
		return
	}
	b.last = now
	b.drawn = b.done
	text := b.text(now)
	switch b.mode {
	case modeNotebook:
		frac := 0.0
		if b.total > 0 {
			frac = min(1, float64(b.done)/float64(b.total))
		}
		gonbui.UpdateHTML(b.htmlID, fmt.Sprintf(
			`<div style="font-family:monospace"><progress value="%.4f" max="1" style="width:20em"></progress> %s</div>`,
			frac, html.EscapeString(text)))
	case modeTerminal:
		fmt.Fprintf(b.w, "\r%s\x1b[K", text)
	default:
		fmt.Fprintln(b.w, text)
	}
}

// text is the one-line description: label, bar, count, rate and remaining time.
func (b *Bar) text(now time.Time) string {
	elapsed := now.Sub(b.start)
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(b.done) / s
	}
	var sb strings.Builder
	sb.WriteString(b.label)
	if b.total > 0 {
		const width = 24
		frac := min(1, float64(b.done)/float64(b.total))
		filled := int(frac * width)
		fmt.Fprintf(&sb, " [%s%s] %d/%d (%3.0f%%)", strings.Repeat("=", filled), strings.Repeat(" ", width-filled),
			b.done, b.total, 100*frac)
	} else {
		fmt.Fprintf(&sb, " %d", b.done)
	}
	fmt.Fprintf(&sb, " %.1f/s, %s elapsed", rate, elapsed.Round(time.Second))
	if b.total > 0 && rate > 0 && b.done < b.total && !b.finished {
		left := time.Duration(float64(b.total-b.done) / rate * float64(time.Second))
		fmt.Fprintf(&sb, ", %s left", left.Round(time.Second))
	}
	return sb.String()
}
