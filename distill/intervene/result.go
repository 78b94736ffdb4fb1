package intervene

import (
	"fmt"
	"math"

	"github.com/faildirs/faildirs/distill/data"
	"github.com/faildirs/faildirs/distill/experiment"
)

// The metrics of a run, in the order tables show them. Only those the data supports are measured: worst group
// and minority need ground-truth groups, hard subset needs captions.
const (
	MetricOverall    = "overall"
	MetricWorstGroup = "worst_group"
	MetricMinority   = "minority"
	MetricHardSubset = "hard_subset"
)

// MetricTitle returns a metric's column title.
func MetricTitle(m string) string {
	switch m {
	case MetricOverall:
		return "overall"
	case MetricWorstGroup:
		return "worst group"
	case MetricMinority:
		return "minority"
	case MetricHardSubset:
		return "hard subset"
	}
	return m
}

// Result is the outcome of [Run] (interventions.json): the same spec, options, Fashion-MNIST and latent space give
// the same Result byte for byte; timings are kept apart ([Result.Timing], timing.json).
type Result struct {
	// Spec is the pipeline's spec (defaults applied; without the cache and output folders).
	Spec    experiment.Spec `json:"spec"`
	Dataset Dataset         `json:"dataset"`
	// Methods, Ks (pool budgets per class, when a pool selection runs) and Seeds are the run's options.
	Methods []string `json:"methods"`
	Ks      []int    `json:"ks,omitempty"`
	Seeds   []uint64 `json:"seeds"`
	// Metrics lists the metrics measured (see MetricOverall...).
	Metrics []string `json:"metrics"`
	// SVMs describes the per-class SVMs every method scores with, fitted once on val with the base model of the
	// spec's seed.
	SVMs []ClassSVM `json:"svms"`
	// HardSubsets are, per class with captions, the test images nearest the class's hardest caption.
	HardSubsets []HardSubset `json:"hard_subsets,omitempty"`
	// TrainFlagged and PoolFlagged are the examples the SVMs flag (decision value ≤ 0) in the training set (what the
	// reweighting schemes act on) and in the pool (what SVM selection draws from first), against the true minority
	// groups; nil without groups, or when no method uses the split.
	TrainFlagged *Flagged `json:"train_flagged,omitempty"`
	PoolFlagged  *Flagged `json:"pool_flagged,omitempty"`
	// Base is the test evaluation of the model the SVMs were fitted on (the spec's seed).
	Base Metrics `json:"base_model"`
	// Runs holds every retrained model's evaluation, in run order.
	Runs []RunResult `json:"runs"`
	// Summary has one row per method and budget: mean ± std over seeds.
	Summary []Row `json:"summary"`
	// Comparisons judge SVM selection against random, per budget and on the main metric.
	Comparisons []Comparison `json:"comparisons,omitempty"`
	Notes       []string     `json:"notes,omitempty"`

	timing Timing
}

// Dataset describes the data: its classes, groups and split sizes.
type Dataset struct {
	Name    string       `json:"name"`
	Classes []string     `json:"classes"`
	Groups  []data.Group `json:"groups,omitempty"`
	Train   int          `json:"train"`
	Val     int          `json:"val"`
	Test    int          `json:"test"`
	Pool    int          `json:"pool,omitempty"`
}

// Flagged counts a split's examples flagged by the SVMs (decision value ≤ 0, classes with an SVM only) against
// its minority groups.
type Flagged struct {
	N               int `json:"n"`
	Flagged         int `json:"flagged"`
	Minority        int `json:"minority"`
	FlaggedMinority int `json:"flagged_minority"`
}

// Precision is the minority share of the flagged examples; Recall the flagged share of the minority.
func (f Flagged) Precision() float64 { return ratio(f.FlaggedMinority, f.Flagged) }

// Recall is the share of the minority examples that are flagged.
func (f Flagged) Recall() float64 { return ratio(f.FlaggedMinority, f.Minority) }

func (f Flagged) String() string {
	return fmt.Sprintf("the SVMs flag %d of %d images; %d of the %d minority images are flagged (recall %.3f, precision %.3f)",
		f.Flagged, f.N, f.FlaggedMinority, f.Minority, f.Recall(), f.Precision())
}

// flagged counts the flagged and minority examples of a split.
func flagged(labels, groups []int, dv []float32, skip, minority []bool) *Flagged {
	f := &Flagged{N: len(labels)}
	for i, l := range labels {
		m := minority[groups[i]]
		fl := !skip[l] && dv[i] <= 0
		if m {
			f.Minority++
		}
		if fl {
			f.Flagged++
			if m {
				f.FlaggedMinority++
			}
		}
	}
	return f
}

// ClassSVM is one class's SVM as the methods use it.
type ClassSVM struct {
	Class     int     `json:"class"`
	Name      string  `json:"name"`
	Status    string  `json:"status"`
	C         float64 `json:"c,omitempty"`
	ValErrors int     `json:"val_errors"`
	Val       int     `json:"val"`
}

// HardSubset is one class's hard subset of test: the (at most Spec.CaptionK) test images of the class nearest its
// hardest caption in the CLIP space — the accuracy measure without group labels.
type HardSubset struct {
	Class   int    `json:"class"`
	Name    string `json:"name"`
	Caption string `json:"caption"`
	// Test are the indices of the images in the test split, ascending.
	Test []int `json:"test"`
	// Minority counts the minority-group images among them (0 without groups).
	Minority int `json:"minority,omitempty"`
}

// Metrics is one model's test accuracy: overall, per group (−1 for a group without test images), the worst group,
// the minority groups pooled, and the hard subsets pooled. Fields the data cannot measure are zero (see
// Result.Metrics).
type Metrics struct {
	Overall    float64   `json:"overall"`
	Groups     []float64 `json:"groups,omitempty"`
	WorstGroup float64   `json:"worst_group,omitempty"`
	Minority   float64   `json:"minority,omitempty"`
	HardSubset float64   `json:"hard_subset,omitempty"`
}

// Get returns the metric named m.
func (m Metrics) Get(name string) float64 {
	switch name {
	case MetricOverall:
		return m.Overall
	case MetricWorstGroup:
		return m.WorstGroup
	case MetricMinority:
		return m.Minority
	case MetricHardSubset:
		return m.HardSubset
	}
	return math.NaN()
}

// RunResult is one retrained model: its method, budget (pool selections) and seed, what it trained on, and its
// test metrics.
type RunResult struct {
	Method string `json:"method"`
	Kind   string `json:"kind"`
	K      int    `json:"k,omitempty"`
	Seed   uint64 `json:"seed"`
	// Added is the number of pool examples added (AddedMinority of them from minority groups).
	Added         int `json:"added,omitempty"`
	AddedMinority int `json:"added_minority,omitempty"`
	// MinorityWeight is the minority examples' share of the total training weight (reweighting, with groups).
	MinorityWeight float64 `json:"minority_weight,omitempty"`
	// File is the selection (pool ids chosen) or weights file (id,weight) of the run, relative to the output
	// folder.
	File    string  `json:"file,omitempty"`
	Metrics Metrics `json:"metrics"`
}

// Stat is a mean and a standard deviation over seeds (sample standard deviation, n−1; 0 for one seed).
type Stat struct {
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
}

func (s Stat) String() string { return fmt.Sprintf("%.3f ± %.3f", s.Mean, s.Std) }

// Row is one method (and budget) over the seeds.
type Row struct {
	Method string `json:"method"`
	Kind   string `json:"kind"`
	K      int    `json:"k,omitempty"`
	Seeds  int    `json:"seeds"`
	// Stats holds each metric of Result.Metrics; Groups each group's accuracy.
	Stats  map[string]Stat `json:"stats"`
	Groups []Stat          `json:"groups,omitempty"`
	// Added and AddedMinority are the mean pool examples added and minority ones among them.
	Added         float64 `json:"added,omitempty"`
	AddedMinority float64 `json:"added_minority,omitempty"`
	// MinorityWeight is the mean minority share of the training weight.
	MinorityWeight float64 `json:"minority_weight,omitempty"`
}

// Label names the row's method and budget ("svm K=100").
func (r Row) Label() string { return label(r.Method, r.K) }

// Comparison is the acceptance test of SVM pool selection against random at one budget: it beats random when its
// mean exceeds random's by more than the larger of the two standard deviations.
type Comparison struct {
	K      int     `json:"k"`
	Metric string  `json:"metric"`
	SVM    Stat    `json:"svm"`
	Random Stat    `json:"random"`
	Margin float64 `json:"margin"`
	Beats  bool    `json:"beats"`
	// Paired is the per-seed difference SVM − random (both retrained with the same seed): its mean ± std over the
	// seeds both ran, a second view that removes the seed-to-seed variation the two share.
	Paired Stat `json:"paired"`
}

// Timing records the run's wall-clock times (timing.json; not part of the deterministic result).
type Timing struct {
	Total   float64     `json:"total_seconds"`
	Backend string      `json:"backend"`
	Runs    []RunTiming `json:"runs"`
}

// RunTiming is one retraining's time; Cached when it was loaded from the cache.
type RunTiming struct {
	Method  string  `json:"method"`
	K       int     `json:"k,omitempty"`
	Seed    uint64  `json:"seed"`
	Seconds float64 `json:"seconds"`
	Cached  bool    `json:"cached"`
}

// Timing returns the run's timings.
func (r *Result) Timing() Timing { return r.timing }

// Rows returns the summary rows of one kind of comparison: "pool" (base and the pool selections) or "reweight"
// (base, the reweighting schemes and the oracle); the base row leads both.
func (r *Result) Rows(kind string) []Row {
	var out []Row
	for _, row := range r.Summary {
		switch {
		case row.Kind == KindBase,
			kind == KindPool && row.Kind == KindPool,
			kind == KindReweight && (row.Kind == KindReweight || row.Kind == KindOracle):
			out = append(out, row)
		}
	}
	for _, row := range out {
		if row.Kind != KindBase {
			return out
		}
	}
	return nil // only the base row: nothing of this kind was run
}

// MainMetric is the metric the comparisons judge by: minority accuracy when the data has groups, else the
// hard-subset accuracy, else overall.
func (r *Result) MainMetric() string {
	for _, m := range []string{MetricMinority, MetricHardSubset} {
		for _, have := range r.Metrics {
			if have == m {
				return m
			}
		}
	}
	return MetricOverall
}

// summarize groups the runs by method and budget (in run order) and computes mean ± std over seeds.
func summarize(r *Result) []Row {
	var rows []Row
	index := map[string]int{}
	var members [][]RunResult
	for _, run := range r.Runs {
		key := label(run.Method, run.K)
		i, ok := index[key]
		if !ok {
			i = len(rows)
			index[key] = i
			rows = append(rows, Row{Method: run.Method, Kind: run.Kind, K: run.K})
			members = append(members, nil)
		}
		members[i] = append(members[i], run)
	}
	for i := range rows {
		runs := members[i]
		row := &rows[i]
		row.Seeds = len(runs)
		row.Stats = map[string]Stat{}
		for _, m := range r.Metrics {
			v := make([]float64, len(runs))
			for j, run := range runs {
				v[j] = run.Metrics.Get(m)
			}
			row.Stats[m] = stat(v)
		}
		if ng := len(runs[0].Metrics.Groups); ng > 0 {
			row.Groups = make([]Stat, ng)
			for g := range ng {
				v := make([]float64, len(runs))
				for j, run := range runs {
					v[j] = run.Metrics.Groups[g]
				}
				row.Groups[g] = stat(v)
			}
		}
		var added, addedMin, mw []float64
		for _, run := range runs {
			added = append(added, float64(run.Added))
			addedMin = append(addedMin, float64(run.AddedMinority))
			mw = append(mw, run.MinorityWeight)
		}
		row.Added, row.AddedMinority, row.MinorityWeight = stat(added).Mean, stat(addedMin).Mean, stat(mw).Mean
	}
	return rows
}

// compare judges SVM selection against random at every budget on the main metric.
func compare(r *Result) []Comparison {
	metric := r.MainMetric()
	find := func(method string, k int) (Row, bool) {
		for _, row := range r.Summary {
			if row.Method == method && row.K == k {
				return row, true
			}
		}
		return Row{}, false
	}
	var out []Comparison
	for _, k := range r.Ks {
		svm, ok1 := find(string(SelectSVM), k)
		rnd, ok2 := find(string(SelectRandom), k)
		if !ok1 || !ok2 {
			continue
		}
		c := Comparison{K: k, Metric: metric, SVM: svm.Stats[metric], Random: rnd.Stats[metric]}
		c.Margin = math.Max(c.SVM.Std, c.Random.Std)
		c.Beats = c.SVM.Mean-c.Random.Mean > c.Margin
		bySeed := map[uint64]float64{}
		for _, run := range r.Runs {
			if run.Method == string(SelectRandom) && run.K == k {
				bySeed[run.Seed] = run.Metrics.Get(metric)
			}
		}
		var diffs []float64
		for _, run := range r.Runs {
			if v, ok := bySeed[run.Seed]; ok && run.Method == string(SelectSVM) && run.K == k {
				diffs = append(diffs, run.Metrics.Get(metric)-v)
			}
		}
		c.Paired = stat(diffs)
		out = append(out, c)
	}
	return out
}

// stat returns the mean and the sample standard deviation of v.
func stat(v []float64) Stat {
	if len(v) == 0 {
		return Stat{}
	}
	var s float64
	for _, x := range v {
		s += x
	}
	mean := s / float64(len(v))
	if len(v) == 1 {
		return Stat{Mean: mean}
	}
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return Stat{Mean: mean, Std: math.Sqrt(ss / float64(len(v)-1))}
}
