package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/faildirs/faildirs/internal/atomicfile"
	"github.com/faildirs/faildirs/internal/cli"
)

// benchRow is one line of "faildirs bench": a figure of this build against its reference measured in the same run.
type benchRow struct {
	// Name says what is measured; Unit its unit; Better "higher" or "lower".
	Name   string `json:"name"`
	Unit   string `json:"unit"`
	Better string `json:"better"`
	// Ours is the median of OursRuns; Reference the median of RefRuns (0 without a reference) from RefSource.
	Ours      float64   `json:"ours"`
	OursRuns  []float64 `json:"ours_runs"`
	Reference float64   `json:"reference,omitempty"`
	RefRuns   []float64 `json:"reference_runs,omitempty"`
	RefSource string    `json:"reference_source,omitempty"`
	// Ratio is how many times better ours is (Ours/Reference when higher is better, Reference/Ours otherwise).
	Ratio float64 `json:"ratio,omitempty"`
	// Target is the goal the figure is held to, in words; Note anything else worth knowing.
	Target string `json:"target,omitempty"`
	Note   string `json:"note,omitempty"`
	// Load is the load average before and after the measurement.
	Load string `json:"load"`
}

// benchReport is the JSON of "faildirs bench -json".
type benchReport struct {
	Date    string     `json:"date"`
	Machine string     `json:"machine"`
	Rows    []benchRow `json:"rows"`
}

// benchStages are the measurements "faildirs bench" knows, in the order they run.
var benchStages = []string{"matmul", "clip", "clip16", "tinyclip", "svm", "notebook"}

// runBench is "faildirs bench": the speed figures of this build in one table, each against its reference run in the
// same process tree (alternating rounds), with the machine's load average, as text and JSON.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ref := fs.String("ref", "", "folder of the reference scripts (clip_torch.py, clip_ort.sh, gen_data.py, fit_svm_ref.py); without it only this build's figures")
	only := fs.String("only", strings.Join(benchStages, ","), "comma-separated measurements: "+strings.Join(benchStages, ", "))
	rounds := fs.Int("rounds", 2, "alternating rounds of ours and the reference, 1 to 20 (medians are reported)")
	work := fs.String("work", "", "scratch folder (default: a temporary one, removed at the end)")
	svmData := fs.String("svm-data", "", "folder with celeba_like/ and imagenet_like/ from gen_data.py (default: generated into -work with -ref's gen_data.py)")
	svmRef := fs.Bool("svm-ref", true, "also run the reference SVC fit (celeba_like takes about 5 minutes on 2 cores)")
	svmSets := fs.String("svm-sets", "celeba_like,imagenet_like", "comma-separated synthetic sets of the svm measurement: celeba_like, imagenet_like")
	notebookTimes := fs.String("notebook-times", "", "cell timings written by nbcheck -times (a run with every stage cached) to fold into the table")
	jsonOut := fs.String("json", "", "also write the table as JSON to this file")
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	var c cli.Checks
	c.IntIn("rounds", *rounds, 1, 20)
	stages := strings.Split(*only, ",")
	for _, s := range stages {
		c.OneOf("only", strings.TrimSpace(s), benchStages...)
	}
	sets := strings.Split(*svmSets, ",")
	for _, s := range sets {
		c.OneOf("svm-sets", strings.TrimSpace(s), "celeba_like", "imagenet_like")
	}
	if *ref != "" {
		if st, err := os.Stat(*ref); err != nil || !st.IsDir() {
			c.Addf("-ref %s: not a folder", *ref)
		}
	}
	c.Add(cli.OutputFile("json", *jsonOut, nil))
	if err := c.Err(); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if *work == "" {
		tmp, err := os.MkdirTemp("", "faildirs-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*work = tmp
	}
	b := &bencher{ctx: ctx, self: self, ref: *ref, work: *work, rounds: *rounds, log: stderr}
	rep := benchReport{Date: time.Now().Format("2006-01-02 15:04"), Machine: machineLine()}
	for _, stage := range benchStages {
		if !slices.Contains(stages, stage) {
			continue
		}
		var rows []benchRow
		var err error
		switch stage {
		case "matmul":
			rows, err = b.matmul()
		case "clip":
			rows, err = b.clip(32)
		case "clip16":
			rows, err = b.clip(16)
		case "tinyclip":
			rows, err = b.tinyCLIP()
		case "svm":
			rows, err = b.svm(*svmData, *svmRef, sets)
		case "notebook":
			rows, err = notebookRows(*notebookTimes)
		}
		if err != nil {
			return fmt.Errorf("bench %s: %w", stage, err)
		}
		rep.Rows = append(rep.Rows, rows...)
	}
	printBenchTable(stdout, rep)
	if *jsonOut != "" {
		data, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		return atomicfile.WriteBytes(*jsonOut, append(data, '\n'))
	}
	return nil
}

// bencher runs the measurements as subprocesses: this binary for ours, the reference scripts for theirs.
type bencher struct {
	ctx       context.Context
	self, ref string
	work      string
	rounds    int
	log       io.Writer
}

// run executes name with args, returning its stdout and the CPU seconds it used (user + system).
func (b *bencher) run(name string, args ...string) ([]byte, float64, error) {
	cmd := exec.CommandContext(b.ctx, name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	fmt.Fprintf(b.log, "bench: %s %s\n", filepath.Base(name), strings.Join(args, " "))
	if err := cmd.Run(); err != nil {
		return nil, 0, fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, tailLines(errb.String(), 15))
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return out.Bytes(), cpu.Seconds(), nil
}

// script returns the path of a reference script, or "" when -ref is not given or lacks it.
func (b *bencher) script(name string) string {
	if b.ref == "" {
		return ""
	}
	p := filepath.Join(b.ref, name)
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

func (b *bencher) matmul() ([]benchRow, error) {
	load := readLoadAvg()
	var runs []float64
	for range b.rounds {
		out, _, err := b.run(b.self, "env", "-json")
		if err != nil {
			return nil, err
		}
		var env envReport
		if err := json.Unmarshal(out, &env); err != nil {
			return nil, err
		}
		runs = append(runs, env.MatmulGFLOPS)
	}
	return []benchRow{finishRow(benchRow{Name: "Go backend float32 matmul 1024² (faildirs env)", Unit: "GFLOP/s",
		Better: "higher", OursRuns: runs, Load: load + " → " + readLoadAvg()})}, nil
}

// clip measures the image and text towers (random weights, batch 32) against PyTorch (clip_torch.py) and, for
// ViT-B/32 images, ONNX Runtime (clip_ort.sh), alternating.
func (b *bencher) clip(patch int) ([]benchRow, error) {
	load := readLoadAvg()
	var img, txt, tImg, tTxt, ort []float64
	torch, ortScript := b.script("clip_torch.py"), b.script("clip_ort.sh")
	for range b.rounds {
		out, _, err := b.run(b.self, "bench-clip", "-json", "-patch", fmt.Sprint(patch), "-runs", "3")
		if err != nil {
			return nil, err
		}
		var r benchClipReport
		if err := json.Unmarshal(out, &r); err != nil {
			return nil, err
		}
		img = append(img, r.Images.PerSecond)
		txt = append(txt, r.Texts.PerSecond)
		if torch != "" {
			out, _, err := b.run("/usr/bin/python3", torch, "--batch", "32", "--runs", "3", "--patch", fmt.Sprint(patch), "--threads", "2")
			if err != nil {
				return nil, err
			}
			var t torchBenchResult
			if err := json.Unmarshal(lastLine(out), &t); err != nil {
				return nil, fmt.Errorf("clip_torch.py output: %w", err)
			}
			tImg, tTxt = append(tImg, t.ImagesPerS), append(tTxt, t.TextsPerS)
		}
		if ortScript != "" && patch == 32 {
			out, _, err := b.run("bash", ortScript, filepath.Join(b.work, "ort"))
			if err != nil {
				return nil, err
			}
			var o struct {
				ImagesPerS float64 `json:"images_per_s"`
			}
			if err := json.Unmarshal(lastLine(out), &o); err != nil {
				return nil, fmt.Errorf("clip_ort.sh output: %w", err)
			}
			ort = append(ort, o.ImagesPerS)
		}
	}
	loads := load + " → " + readLoadAvg()
	name := fmt.Sprintf("CLIP ViT-B/%d", patch)
	rows := []benchRow{
		finishRow(benchRow{Name: name + " image tower, batch 32, vs PyTorch", Unit: "images/s", Better: "higher",
			OursRuns: img, RefRuns: tImg, RefSource: "clip_torch.py (PyTorch, 2 threads)", Load: loads}),
		finishRow(benchRow{Name: name + " text tower, 77 tokens, batch 32, vs PyTorch", Unit: "texts/s", Better: "higher",
			OursRuns: txt, RefRuns: tTxt, RefSource: "clip_torch.py (PyTorch, 2 threads)", Load: loads}),
	}
	if patch == 32 {
		rows = append(rows, finishRow(benchRow{Name: name + " image tower, batch 32, vs ONNX Runtime", Unit: "images/s",
			Better: "higher", OursRuns: img, RefRuns: ort, RefSource: "clip_ort.sh (onnxruntime-node 1.30, 2 threads)",
			Target: "≥ 1.0× ONNX Runtime", Load: loads}))
	}
	return rows, nil
}

// tinyCLIP trains the tiny CLIP from scratch (into the scratch folder) and reports its training time, the cores it
// kept busy and its zero-shot quality.
func (b *bencher) tinyCLIP() ([]benchRow, error) {
	load := readLoadAvg()
	var secs, cores []float64
	var note string
	for r := range b.rounds {
		start := time.Now()
		out, cpu, err := b.run(b.self, "train-clip", "-json", "-force", "-out", filepath.Join(b.work, fmt.Sprintf("tinyclip-%d", r)))
		if err != nil {
			return nil, err
		}
		wall := time.Since(start).Seconds()
		var rec struct {
			Seconds float64 `json:"seconds"`
			Quality struct {
				Item   float64 `json:"item_accuracy"`
				Colour float64 `json:"colour_accuracy"`
			} `json:"quality"`
		}
		if err := json.Unmarshal(out, &rec); err != nil {
			return nil, err
		}
		secs = append(secs, rec.Seconds)
		cores = append(cores, cpu/wall)
		note = fmt.Sprintf("zero-shot item %.3f (floor 0.75), colour %.3f (floor 0.95)", rec.Quality.Item, rec.Quality.Colour)
	}
	loads := load + " → " + readLoadAvg()
	return []benchRow{
		finishRow(benchRow{Name: "tiny CLIP training (900 steps of 128)", Unit: "s", Better: "lower", OursRuns: secs,
			Target: "≤ 45 s", Note: note, Load: loads}),
		finishRow(benchRow{Name: "tiny CLIP: cores busy over the whole command (CPU s / wall s, evaluation included)",
			Unit: "cores", Better: "higher", OursRuns: cores, Target: "≥ 1.7", Load: loads}),
	}, nil
}

// svm fits the failure SVMs on the given synthetic sets with bench-svm and the reference's SVC recipe.
func (b *bencher) svm(dataDir string, withRef bool, sets []string) ([]benchRow, error) {
	if dataDir == "" {
		gen := b.script("gen_data.py")
		if gen == "" {
			return nil, errors.New("no -svm-data folder and no gen_data.py in -ref to generate one")
		}
		dataDir = filepath.Join(b.work, "svmbench")
		if _, _, err := b.run("/usr/bin/python3", gen, "--out", dataDir); err != nil {
			return nil, err
		}
	}
	fitRef := b.script("fit_svm_ref.py")
	var rows []benchRow
	for _, name := range sets {
		name = strings.TrimSpace(name)
		load := readLoadAvg()
		dir := filepath.Join(dataDir, name)
		var total, solve []float64
		for r := range b.rounds {
			js := filepath.Join(b.work, fmt.Sprintf("svm-%s-%d.json", name, r))
			if _, _, err := b.run(b.self, "bench-svm", "-data", dir, "-json", js); err != nil {
				return nil, err
			}
			var rep benchSVMReport
			if err := readJSON(js, &rep); err != nil {
				return nil, err
			}
			total = append(total, rep.FitWallS)
			solve = append(solve, rep.FitWallS-rep.PreprocessS)
		}
		var refFit, refTotal []float64
		if withRef && fitRef != "" {
			outDir := filepath.Join(b.work, "svmref")
			if _, _, err := b.run("/usr/bin/python3", fitRef, "--data", dir, "--method", "svc", "--out-dir", outDir); err != nil {
				return nil, err
			}
			var r struct {
				Pre float64 `json:"preprocess_s"`
				Fit float64 `json:"fit_wall_s"`
			}
			if err := readJSON(filepath.Join(outDir, "svm_"+name+"_svc.json"), &r); err != nil {
				return nil, err
			}
			refFit, refTotal = []float64{r.Fit}, []float64{r.Pre + r.Fit}
		}
		loads := load + " → " + readLoadAvg()
		rows = append(rows,
			finishRow(benchRow{Name: "SVM fit " + name + ": whitening + solve + CV + refits", Unit: "s", Better: "lower",
				OursRuns: total, RefRuns: refTotal, RefSource: "fit_svm_ref.py --method svc (preprocess + fit)", Load: loads}),
			finishRow(benchRow{Name: "SVM fit " + name + ": without the whitening (the reference's fit_wall_s)", Unit: "s",
				Better: "lower", OursRuns: solve, RefRuns: refFit, RefSource: "fit_svm_ref.py --method svc (fit_wall_s)",
				Target: map[string]string{"imagenet_like": "≥ 30× the reference"}[name], Load: loads}))
	}
	return rows, nil
}

// notebookRows reads the cell timings written by nbcheck -times and reports the cached cells' median and slowest.
func notebookRows(path string) ([]benchRow, error) {
	if path == "" {
		return nil, nil
	}
	var t struct {
		Notebooks []struct {
			Path  string    `json:"path"`
			Cells []float64 `json:"cell_seconds"`
			Load  string    `json:"load"`
		} `json:"notebooks"`
	}
	if err := readJSON(path, &t); err != nil {
		return nil, err
	}
	var rows []benchRow
	for _, nb := range t.Notebooks {
		if len(nb.Cells) == 0 {
			continue
		}
		rows = append(rows, finishRow(benchRow{Name: "notebook " + filepath.Base(nb.Path) + ": seconds per cell, every stage cached",
			Unit: "s", Better: "lower", OursRuns: nb.Cells, Target: "≤ 2 s", Load: nb.Load,
			Note: fmt.Sprintf("slowest cell %.1f s", slices.Max(nb.Cells))}))
	}
	return rows, nil
}

// finishRow fills in the medians and the ratio.
func finishRow(r benchRow) benchRow {
	r.Ours = median(r.OursRuns)
	if len(r.RefRuns) > 0 {
		r.Reference = median(r.RefRuns)
		if r.Ours > 0 && r.Reference > 0 {
			r.Ratio = r.Ours / r.Reference
			if r.Better == "lower" {
				r.Ratio = r.Reference / r.Ours
			}
		}
	}
	return r
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func printBenchTable(w io.Writer, rep benchReport) {
	fmt.Fprintf(w, "faildirs bench, %s, %s\n", rep.Date, rep.Machine)
	for _, r := range rep.Rows {
		line := fmt.Sprintf("%-92s %9.2f %-8s", r.Name, r.Ours, r.Unit)
		if r.Reference > 0 {
			line += fmt.Sprintf(" ref %9.2f  ratio %.2f×", r.Reference, r.Ratio)
		}
		if r.Target != "" {
			line += "  (target " + r.Target + ")"
		}
		fmt.Fprintln(w, line)
		if r.Note != "" {
			fmt.Fprintf(w, "    %s\n", r.Note)
		}
		fmt.Fprintf(w, "    load %s; ours %v", r.Load, roundAll(r.OursRuns))
		if len(r.RefRuns) > 0 {
			fmt.Fprintf(w, "; reference %v (%s)", roundAll(r.RefRuns), r.RefSource)
		}
		fmt.Fprintln(w)
	}
}

func roundAll(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = math.Round(x*100) / 100
	}
	return out
}

func readJSON(path string, v any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// lastLine returns the last non-empty line of out (the scripts print their JSON last).
func lastLine(out []byte) []byte {
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	return lines[len(lines)-1]
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// machineLine describes the CPU and core count.
func machineLine() string {
	model := "unknown CPU"
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(raw), "\n") {
			if strings.HasPrefix(l, "model name") {
				_, v, _ := strings.Cut(l, ":")
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d CPUs", model, runtime.NumCPU())
}
