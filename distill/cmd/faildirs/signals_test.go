package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/clip"
	"github.com/faildirs/faildirs/distill/npy"
	"github.com/faildirs/faildirs/internal/lockfile"
)

// envRunMain makes the test binary run faildirs' main() instead of the tests: the signal tests start it as a
// subprocess (the faildirs binary with the same code, flags, signal handling and exit codes, without a separate
// build step), signal it and look at what it left on disk.
const envRunMain = "FAILDIRS_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envRunMain) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// faildirsProcess is a started faildirs subprocess; its stdout and stderr lines arrive on lines.
type faildirsProcess struct {
	cmd    *exec.Cmd
	lines  chan string
	output *bytes.Buffer // complete once lines is closed
	exit   chan int      // the exit code, once the process has ended
}

func startFaildirs(t *testing.T, args ...string) *faildirsProcess {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), envRunMain+"=1", backend.EnvBackend+"=go")
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	p := &faildirsProcess{cmd: cmd, lines: make(chan string, 1000), output: &bytes.Buffer{}, exit: make(chan int, 1)}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			p.output.WriteString(sc.Text() + "\n")
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		close(p.lines)
	}()
	go func() {
		_ = cmd.Wait()
		_ = pw.Close()
		p.exit <- cmd.ProcessState.ExitCode()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return p
}

// waitLine waits until an output line contains want.
func (p *faildirsProcess) waitLine(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(2 * time.Minute)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				t.Fatalf("faildirs ended before printing %q:\n%s", want, p.output)
			}
			if strings.Contains(line, want) {
				return
			}
		case <-deadline:
			t.Fatalf("no line with %q after 2 minutes:\n%s", want, p.output)
		}
	}
}

// signalAndWait sends sig and returns the exit code; the process must end within limit.
func (p *faildirsProcess) signalAndWait(t *testing.T, sig os.Signal, limit time.Duration) int {
	t.Helper()
	sent := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	code := p.wait(t, limit)
	t.Logf("%v: exit %d after %v", sig, code, time.Since(sent).Round(time.Millisecond))
	return code
}

// wait returns the exit code once the process has ended and its output is complete; it must end within limit.
func (p *faildirsProcess) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case code := <-p.exit:
		for range p.lines { // drain: the output is complete once the pipe closes
		}
		return code
	case <-time.After(limit):
		t.Fatalf("still running after %v", limit)
	}
	return -1
}

// TestEmbedSIGTERMSavesAndResumes holds issue 11's "embed loses all unsaved work on SIGTERM". The image list ends
// with a FIFO that nobody writes, so the run is stuck in a decode when SIGTERM arrives: embed must still stop at
// once, save the rows it has, release the lock and exit with 143; the rerun takes those rows from the cache and
// embeds the rest.
func TestEmbedSIGTERMSavesAndResumes(t *testing.T) {
	dir := t.TempDir()
	imgs := filepath.Join(dir, "imgs")
	os.MkdirAll(imgs, 0o755)
	for i := range 20 {
		img := image.NewRGBA(image.Rect(0, 0, 12, 10))
		for p := range img.Pix {
			img.Pix[p] = uint8(p * (i + 1))
		}
		img.Set(0, 0, color.RGBA{255, 0, 0, 255})
		var buf bytes.Buffer
		png.Encode(&buf, img)
		os.WriteFile(filepath.Join(imgs, fmt.Sprintf("%02d.png", i)), buf.Bytes(), 0o644)
	}
	fifo := filepath.Join(imgs, "zz-stuck.png")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("no FIFO on this system: %v", err)
	}
	out := filepath.Join(dir, "emb.safetensors")
	args := []string{"embed", "-model", filepath.Join("..", "..", "clip", "testdata", "tiny-a"), "-batch", "2", "-skip-bad", "-json",
		"-out", out, imgs}
	p := startFaildirs(t, args...)
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(out + lockfile.Suffix); err == nil {
			break // embedding has started
		}
		if time.Now().After(deadline) {
			t.Fatalf("embed never locked its cache:\n%s", p.output)
		}
	}
	time.Sleep(2 * time.Second) // the 20 images take milliseconds; then the run waits on the FIFO for ever
	if code := p.signalAndWait(t, syscall.SIGTERM, 20*time.Second); code != 143 {
		t.Fatalf("exit code %d, want 143:\n%s", code, p.output)
	}
	if !strings.Contains(p.output.String(), "cache saved; rerun to resume") {
		t.Errorf("output lacks the resume notice:\n%s", p.output)
	}
	first, err := clip.LoadCache(out)
	if err != nil {
		t.Fatalf("no cache after SIGTERM: %v", err)
	}
	if first.Done == 0 || first.Done > 20 {
		t.Fatalf("the interrupted run saved %d rows, want some of the 20 readable images", first.Done)
	}
	if _, err := os.Stat(out + lockfile.Suffix); !os.IsNotExist(err) {
		t.Errorf("lock file left after SIGTERM: %v", err)
	}

	// The rerun: the FIFO gets a writer that closes at once, so it decodes as an unreadable (skipped) image.
	go func() {
		if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
	}()
	second := startFaildirs(t, args...)
	if code := second.wait(t, time.Minute); code != 0 {
		t.Fatalf("rerun: exit %d\n%s", code, second.output)
	}
	var sum embedSummary
	if err := json.Unmarshal([]byte(second.output.String()[strings.Index(second.output.String(), "{"):]), &sum); err != nil {
		t.Fatalf("rerun summary: %v\n%s", err, second.output)
	}
	if sum.FromCache != first.Done || sum.Computed != 20-first.Done || len(sum.Skipped) != 1 {
		t.Errorf("rerun: %d from the cache, %d computed, %d skipped; want %d, %d, 1", sum.FromCache, sum.Computed,
			len(sum.Skipped), first.Done, 20-first.Done)
	}
}

// TestBenchSVMSIGINTStopsTheFit holds issue 11's "bench-svm ignores Ctrl-C": a fit that would run for minutes
// (tolerance 1e-9) stops within seconds of SIGINT with exit code 130 and writes no output.
func TestBenchSVMSIGINTStopsTheFit(t *testing.T) {
	dir := t.TempDir()
	writeLargeBenchFolder(t, dir, 1500, 48)
	report := filepath.Join(dir, "report.json")
	p := startFaildirs(t, "bench-svm", "-data", dir, "-tol", "1e-9", "-max-iter", "10000000", "-progress", "-json", report)
	p.waitLine(t, "fitting SVMs")
	time.Sleep(500 * time.Millisecond)
	if code := p.signalAndWait(t, os.Interrupt, 30*time.Second); code != 130 {
		t.Fatalf("exit code %d, want 130:\n%s", code, p.output)
	}
	if _, err := os.Stat(report); !os.IsNotExist(err) || strings.Contains(p.output.String(), "fit wall:") {
		t.Errorf("the fit was not interrupted (report %v):\n%s", err, p.output)
	}
}

// TestTrainSIGTERMLeavesNoHalfModel: SIGTERM during training ends the run with 143 and leaves nothing at -out (the
// model, summary and CSVs appear only together, at the end), nor any temporary folder beside it.
func TestTrainSIGTERMLeavesNoHalfModel(t *testing.T) {
	parent := t.TempDir()
	out := filepath.Join(parent, "run")
	p := startFaildirs(t, "train", "-dataset", "fashion-spurious", "-train-per-class", "100", "-val-per-group", "10",
		"-test-per-class", "20", "-pool-per-class", "-1", "-epochs", "10000", "-out", out)
	p.waitLine(t, "epoch 2/")
	if code := p.signalAndWait(t, syscall.SIGTERM, 30*time.Second); code != 143 {
		t.Fatalf("exit code %d, want 143:\n%s", code, p.output)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 || strings.Contains(p.output.String(), "trained in") {
		t.Errorf("left after SIGTERM: %v\n%s", entries, p.output)
	}
}

// writeLargeBenchFolder writes a bench-svm folder of 2 classes × perClass examples of dimension d with a planted
// failure subgroup.
func writeLargeBenchFolder(t *testing.T, dir string, perClass, d int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	for _, split := range []string{"train", "val", "test"} {
		var feat []float32
		var labels, preds []int64
		for c := range 2 {
			for range perClass {
				z := rng.Float64() < 0.3
				for k := range d {
					v := rng.NormFloat64() + 0.2*float64(c)
					if z && k < 4 {
						v += 1.5
					}
					feat = append(feat, float32(v))
				}
				p := int64(c)
				if z && rng.Float64() < 0.7 || rng.Float64() < 0.05 {
					p = int64(1 - c)
				}
				labels, preds = append(labels, int64(c)), append(preds, p)
			}
		}
		n := len(labels)
		if err := npy.SaveFloat32(filepath.Join(dir, split+"_features.npy"), []int{n, d}, feat); err != nil {
			t.Fatal(err)
		}
		writeNPYInts(t, filepath.Join(dir, split+"_labels.npy"), labels)
		writeNPYInts(t, filepath.Join(dir, split+"_preds.npy"), preds)
	}
}
