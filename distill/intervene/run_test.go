package intervene

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/data"
	"github.com/faildirs/faildirs/distill/experiment"
)

// tinyRun runs every method on a tiny planted experiment (untrained CLIP, two epochs, two seeds) with its caches
// in work, writing the outputs to out.
func tinyRun(t *testing.T, work, out string) *Result {
	t.Helper()
	if _, err := data.LoadFashion(""); err != nil {
		t.Fatalf("Fashion-MNIST is needed (make setup installs Debian's dataset-fashion-mnist): %v", err)
	}
	b, _, err := backend.Go()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	spec := experiment.Spec{Data: experiment.FashionSpurious, TrainPerClass: 200, ValPerGroup: 40, TestPerClass: 100,
		PoolPerClass: 60, Epochs: 2, Latent: experiment.LatentRandom, CaptionK: 20, Work: work}
	p, err := experiment.New(b, spec, experiment.Options{Progress: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var log bytes.Buffer
	res, err := Run(context.Background(), p, Options{Methods: AllMethods, Ks: []int{5, 10}, Seeds: []uint64{3, 4}, Out: out, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Write(out); err != nil {
		t.Fatal(err)
	}
	// A progress line per run: 2 seeds × (base + 3 selections × 2 budgets + 5 reweightings).
	if n := strings.Count(log.String(), "\n"); n != 24 || !strings.Contains(log.String(), " 7/24  confidence K=5") {
		t.Errorf("%d progress lines, want 24:\n%s", n, log.String())
	}
	return res
}

// TestRunTiny runs the interventions twice on a tiny planted experiment, each with its own caches (so every model
// trains twice): the results are identical byte for byte; every run's selection or weights file is saved and
// holds what the run trained on; the oracle's weights follow the true groups; the tables show only columns with
// data.
func TestRunTiny(t *testing.T) {
	dir := t.TempDir()
	outA, outB := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	res := tinyRun(t, filepath.Join(dir, "work-a"), outA)
	tinyRun(t, filepath.Join(dir, "work-b"), outB)
	ja, err := os.ReadFile(filepath.Join(outA, ResultFile))
	if err != nil {
		t.Fatal(err)
	}
	jb, err := os.ReadFile(filepath.Join(outB, ResultFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ja, jb) {
		t.Fatal("two runs of the same spec and options wrote different interventions.json")
	}
	var back Result
	if err := json.Unmarshal(ja, &back); err != nil || len(back.Runs) != 24 || len(back.Summary) != 12 {
		t.Fatalf("interventions.json: %d runs, %d rows, %v", len(back.Runs), len(back.Summary), err)
	}
	if !slices.Equal(res.Metrics, []string{MetricOverall, MetricWorstGroup, MetricMinority, MetricHardSubset}) {
		t.Errorf("metrics %v", res.Metrics)
	}
	// The flagged counts: 2×200 train images, 2×40 of them minority (4:1); 2×60 pool images, 2×12 minority.
	if f := res.TrainFlagged; f == nil || f.N != 400 || f.Minority != 80 || f.FlaggedMinority > f.Flagged || f.FlaggedMinority > f.Minority {
		t.Errorf("train flagged %+v", f)
	}
	if f := res.PoolFlagged; f == nil || f.N != 120 || f.Minority != 24 || f.FlaggedMinority > f.Flagged {
		t.Errorf("pool flagged %+v", f)
	}
	// Seeds change the retrained model.
	if a, b := res.Runs[0].Metrics, res.Runs[1].Metrics; a.Overall == b.Overall && slices.Equal(a.Groups, b.Groups) {
		t.Error("seeds 3 and 4 gave the same base model")
	}

	// Reload the data to check the saved files against it.
	d, err := data.LoadFashion("")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := data.Spurious(d, data.SpuriousConfig{TrainPerClass: 200, ValPerGroup: 40, TestPerClass: 100, PoolPerClass: 60})
	if err != nil {
		t.Fatal(err)
	}
	poolIdx := map[string]int{}
	for i, id := range ds.Pool.IDs {
		poolIdx[id] = i
	}
	for _, run := range res.Runs {
		if run.Kind == KindBase {
			if run.File != "" {
				t.Errorf("base run has a file %s", run.File)
			}
			continue
		}
		rows := readCSV(t, filepath.Join(outA, run.File))
		switch run.Kind {
		case KindPool:
			// K per class, each a pool image of that class, none twice.
			count := map[string]int{}
			seen := map[string]bool{}
			for _, r := range rows[1:] {
				i, ok := poolIdx[r[0]]
				if !ok || seen[r[0]] || strconv.Itoa(ds.Pool.Labels[i]) != r[1] {
					t.Fatalf("%s: row %v is not a new pool image of its class", run.File, r)
				}
				seen[r[0]] = true
				count[r[1]]++
			}
			if count["0"] != run.K || count["1"] != run.K || run.Added != 2*run.K {
				t.Errorf("%s: per-class counts %v, added %d, want K=%d each", run.File, count, run.Added, run.K)
			}
		case KindReweight, KindOracle:
			if len(rows) != ds.Train.Len()+1 {
				t.Fatalf("%s: %d rows for %d train images", run.File, len(rows)-1, ds.Train.Len())
			}
			if run.Kind == KindOracle {
				// Oracle weights depend only on the group: 2 for minority under overweight_2; under balanced the
				// minority (40 of 200 per class at 4:1) weighs 200/(2·40) = 2.5, the majority 200/(2·160) = 0.625.
				want := map[bool]string{true: "2", false: "1"}
				if run.Method == OraclePrefix+string(Balanced) {
					want = map[bool]string{true: "2.5", false: "0.625"}
				}
				for i, r := range rows[1:] {
					if r[0] != ds.Train.IDs[i] || r[1] != want[ds.Groups[ds.Train.Groups[i]].Minority] {
						t.Fatalf("%s row %d: %v, want id %s weight %s", run.File, i+1, r, ds.Train.IDs[i], want[ds.Groups[ds.Train.Groups[i]].Minority])
					}
				}
				if run.Method == OraclePrefix+string(Balanced) && (run.MinorityWeight < 0.4999 || run.MinorityWeight > 0.5001) {
					t.Errorf("oracle balanced: minority weight share %v, want 0.5", run.MinorityWeight)
				}
			}
		}
	}
	// SVM and confidence pick the lowest scores first; a larger budget extends a smaller one.
	checkSorted(t, outA, string(SelectSVM), res, 4)
	checkSorted(t, outA, string(SelectConfidence), res, 5)
	// Text tables: the pool table has a budget column and the reweighting table none.
	var txt bytes.Buffer
	if err := res.Fprint(&txt); err != nil {
		t.Fatal(err)
	}
	var heads [][]string
	for _, line := range strings.Split(txt.String(), "\n") {
		if strings.HasPrefix(line, "method ") {
			heads = append(heads, strings.Fields(line))
		}
	}
	if len(heads) != 2 || heads[0][1] != "K" || slices.Contains(heads[1], "K") || !strings.Contains(txt.String(), "minority weight") ||
		!strings.Contains(txt.String(), "SVM selection") {
		t.Errorf("tables:\n%s", txt.String())
	}
	for _, f := range []string{TimingFile, ReportFile, "interventions_pool.png", "interventions_reweight.png"} {
		if _, err := os.Stat(filepath.Join(outA, f)); err != nil {
			t.Error(err)
		}
	}
}

// checkSorted checks that a selection file lists each class's picks by ascending score (column col: 4 decision,
// 5 confidence), and that the smaller budget's file holds the first picks of the larger one's.
func checkSorted(t *testing.T, dir, method string, res *Result, col int) {
	t.Helper()
	perClass := map[int]map[string][]string{} // K → class → ids
	for _, run := range res.Runs {
		if run.Method != method || perClass[run.K] != nil {
			continue
		}
		rows := readCSV(t, filepath.Join(dir, run.File))
		perClass[run.K] = map[string][]string{}
		last := map[string]float64{}
		for _, r := range rows[1:] {
			v, err := strconv.ParseFloat(r[col], 64)
			if err != nil {
				t.Fatal(err)
			}
			if prev, ok := last[r[1]]; ok && v < prev {
				t.Errorf("%s: class %s picks not by ascending score (%v after %v)", run.File, r[1], v, prev)
			}
			last[r[1]] = v
			perClass[run.K][r[1]] = append(perClass[run.K][r[1]], r[0])
		}
	}
	small, large := perClass[res.Ks[0]], perClass[res.Ks[1]]
	for c, ids := range small {
		if !slices.Equal(ids, large[c][:len(ids)]) {
			t.Errorf("%s: class %s K=%d picks %v are not the first of K=%d's %v", method, c, res.Ks[0], ids, res.Ks[1], large[c])
		}
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestRunChecksBeforeTraining: a pool selection without a pool, and a spec with its own weights file, fail before
// any model is trained.
func TestRunChecksBeforeTraining(t *testing.T) {
	if _, err := data.LoadFashion(""); err != nil {
		t.Fatalf("Fashion-MNIST is needed (make setup installs Debian's dataset-fashion-mnist): %v", err)
	}
	b, _, err := backend.Go()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	dir := t.TempDir()
	weights := filepath.Join(dir, "w.csv")
	if err := os.WriteFile(weights, []byte("id,weight\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		spec    experiment.Spec
		methods []string
		want    string
	}{
		{experiment.Spec{PoolPerClass: -1}, []string{MethodBase, string(SelectSVM)}, "pool selection needs a pool split"},
		{experiment.Spec{Weights: weights}, []string{MethodBase, string(Balanced)}, "interventions set the training weights themselves"},
		{experiment.Spec{}, []string{MethodBase, "lime"}, `unknown method "lime"`},
	} {
		c.spec.Data, c.spec.TrainPerClass, c.spec.Latent, c.spec.Work = experiment.FashionSpurious, 50, experiment.LatentRandom, filepath.Join(dir, "work")
		p, err := experiment.New(b, c.spec, experiment.Options{Progress: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		_, err = Run(context.Background(), p, Options{Methods: c.methods, Seeds: []uint64{1}})
		p.Close()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err %v, want %q", c.methods, err, c.want)
		}
		if p.Preds != nil {
			t.Errorf("%v: the base model was trained before the check", c.methods)
		}
	}
}
