package intervene

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/faildirs/faildirs/distill/caption"
	"github.com/faildirs/faildirs/distill/data"
	"github.com/faildirs/faildirs/distill/experiment"
	"github.com/faildirs/faildirs/internal/atomicfile"
)

// The methods of a run besides the pool selections ([Selector]) and the reweighting schemes ([Scheme]).
const (
	// MethodBase retrains the base model as it is (the spec's training set, another seed): the reference point.
	MethodBase = "base"
	// OraclePrefix names the oracle reweightings: "oracle_overweight_2" and "oracle_balanced" flag the true
	// minority groups instead of the examples with decision value ≤ 0.
	OraclePrefix = "oracle_"
)

// Kinds of method.
const (
	KindBase     = "base"
	KindPool     = "pool"
	KindReweight = "reweight"
	KindOracle   = "oracle"
)

// DefaultMethods are the methods of a run when Options.Methods is empty: the base model and the three pool
// selections (the paper's CIFAR interventions).
var DefaultMethods = []string{MethodBase, string(SelectSVM), string(SelectConfidence), string(SelectRandom)}

// AllMethods lists every method, in the order reports show them.
var AllMethods = []string{MethodBase, string(SelectSVM), string(SelectConfidence), string(SelectRandom),
	string(Overweight2), string(Balanced), string(Soft), OraclePrefix + string(Overweight2), OraclePrefix + string(Balanced)}

// KindOf returns the kind of a method name, or an error for an unknown one.
func KindOf(method string) (string, error) {
	switch {
	case method == MethodBase:
		return KindBase, nil
	case slices.Contains(Selectors, Selector(method)):
		return KindPool, nil
	case slices.Contains(Schemes, Scheme(method)):
		return KindReweight, nil
	case method == OraclePrefix+string(Overweight2) || method == OraclePrefix+string(Balanced):
		return KindOracle, nil
	}
	return "", fmt.Errorf("intervene: unknown method %q (want one of %s)", method, strings.Join(AllMethods, ", "))
}

// Options sets up [Run]. The zero value runs DefaultMethods at K = 100 over five seeds.
type Options struct {
	// Methods are the methods to compare (default DefaultMethods); each runs once per seed, pool selections once
	// per seed and budget.
	Methods []string
	// Ks are the pool budgets: pool examples added per class (default 100). Only pool selections use them.
	Ks []int
	// Seeds drive each retrained model's initial weights and example order, and the random selection (default:
	// the spec's seed and the four next).
	Seeds []uint64
	// Out is the folder each run's selection or weights file is written to (under runs/); "" writes none.
	Out string
	// Log receives a line per run (method, budget, seed, i/n, time, cached); nil means none.
	Log io.Writer
}

// WithDefaults returns o with its empty fields set, seeds counting from seed (the spec's).
func (o Options) WithDefaults(seed uint64) Options {
	if len(o.Methods) == 0 {
		o.Methods = slices.Clone(DefaultMethods)
	}
	if len(o.Ks) == 0 {
		o.Ks = []int{100}
	}
	if len(o.Seeds) == 0 {
		for i := range uint64(5) {
			o.Seeds = append(o.Seeds, seed+i)
		}
	}
	return o
}

// Validate checks the options: known methods, none twice, budgets ≥ 1, seeds not repeated.
func (o Options) Validate() error {
	seen := map[string]bool{}
	for _, m := range o.Methods {
		if _, err := KindOf(m); err != nil {
			return err
		}
		if seen[m] {
			return fmt.Errorf("intervene: method %q given twice", m)
		}
		seen[m] = true
	}
	for _, k := range o.Ks {
		if k < 1 {
			return fmt.Errorf("intervene: budget K = %d per class, want ≥ 1", k)
		}
	}
	if len(o.Ks) != len(slicesCompact(o.Ks)) {
		return fmt.Errorf("intervene: budgets %v repeat a value", o.Ks)
	}
	if len(o.Seeds) != len(slicesCompact(o.Seeds)) {
		return fmt.Errorf("intervene: seeds %v repeat a value", o.Seeds)
	}
	return nil
}

func slicesCompact[T int | uint64](v []T) []T {
	s := slices.Clone(v)
	slices.Sort(s)
	return slices.Compact(s)
}

// Run compares the methods on the pipeline's spec: it fits the SVMs once on val with the base model of the spec's
// seed (the paper's protocol: the failure directions come from the model being fixed), scores the training set
// and the pool with them, then, per method, budget and seed, retrains the base model from scratch through
// [experiment.Pipeline.TrainBase] (cached by data, settings, seed, weights and added examples: a rerun loads
// finished runs, an interrupted one resumes) and evaluates it on test. The pipeline must train its base model (no
// predictions CSVs, no weights file); pool selections need a pool split, the oracle needs ground-truth minority
// groups (checked before any training).
func Run(ctx context.Context, p *experiment.Pipeline, opts Options) (*Result, error) {
	start := time.Now()
	opts = opts.WithDefaults(p.Spec.Seed)
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if p.Spec.Preds != "" {
		return nil, fmt.Errorf("intervene: the base model comes from predictions CSVs (%s); interventions retrain it here", p.Spec.Preds)
	}
	if p.Spec.Weights != "" {
		return nil, fmt.Errorf("intervene: the spec has a weights file (%s); interventions set the training weights themselves", p.Spec.Weights)
	}
	if err := p.LoadData(ctx); err != nil {
		return nil, err
	}
	d := p.Data
	nc := len(d.Classes)
	r := &Result{Spec: p.Spec, Methods: opts.Methods, Seeds: opts.Seeds, Dataset: Dataset{Name: d.Name, Classes: d.Classes,
		Groups: d.Groups, Train: d.Train.Len(), Val: d.Val.Len(), Test: d.Test.Len()}}
	r.Spec.Work, r.Spec.Out = "", "" // where the caches and outputs live is no part of the result
	kinds := map[string]bool{}
	for _, m := range opts.Methods {
		k, _ := KindOf(m)
		kinds[k] = true
	}
	if kinds[KindPool] {
		r.Ks = slices.Clone(opts.Ks)
		if d.Pool == nil {
			return nil, fmt.Errorf("intervene: pool selection needs a pool split, and data %s has none", d.Name)
		}
		r.Dataset.Pool = d.Pool.Len()
	}
	minority := minoritySet(p)
	if kinds[KindOracle] && minority == nil {
		return nil, fmt.Errorf("intervene: the oracle needs ground-truth minority groups, and data %s has none", d.Name)
	}
	// Everything that can be checked is checked: now the base model, the embeddings and the SVMs.
	if err := p.Fit(ctx); err != nil {
		return nil, err
	}
	skip := make([]bool, nc)
	for _, c := range p.SVM.Classes() {
		r.SVMs = append(r.SVMs, ClassSVM{Class: c.Class, Name: d.Classes[c.Class], Status: string(c.Status), C: c.C,
			ValErrors: c.NErrors, Val: c.NVal})
		if !c.Status.HasClassifier() {
			skip[c.Class] = true
			r.Notes = append(r.Notes, fmt.Sprintf("class %s has no SVM (%s): reweighting leaves its weights at 1, SVM pool selection picks its examples at random", d.Classes[c.Class], c.Status))
		}
	}
	for c := len(r.SVMs); c < nc; c++ {
		skip[c] = true
	}
	// What every run is evaluated on: groups and the hard subsets of test.
	ev, err := newEvaluator(ctx, p, minority)
	if err != nil {
		return nil, err
	}
	r.Metrics = ev.metrics()
	r.HardSubsets = ev.hard
	r.Notes = append(r.Notes, ev.notes...)
	r.Base = ev.eval(p.Preds["test"])

	// The scores the methods choose by: every training example's decision value (reweighting), the pool's decision
	// values and the base model's confidences (pool selection).
	var trainDV, poolDV, poolConf []float32
	if kinds[KindReweight] {
		train, err := p.Split(ctx, "train")
		if err != nil {
			return nil, err
		}
		if trainDV, err = p.SVM.Decision(train); err != nil {
			return nil, err
		}
	}
	var poolLabels []int
	if kinds[KindPool] {
		pool, err := p.Split(ctx, "pool")
		if err != nil {
			return nil, err
		}
		if poolDV, err = p.SVM.Decision(pool); err != nil {
			return nil, err
		}
		poolConf, poolLabels = p.Preds["pool"].Conf, pool.Labels
	}
	var trainMinority []bool
	if minority != nil {
		trainMinority = make([]bool, d.Train.Len())
		for i, g := range d.Train.Groups {
			trainMinority[i] = minority[g]
		}
		if kinds[KindReweight] {
			r.TrainFlagged = flagged(d.Train.Labels, d.Train.Groups, trainDV, skip, minority)
		}
		if kinds[KindPool] {
			r.PoolFlagged = flagged(poolLabels, d.Pool.Groups, poolDV, skip, minority)
		}
	}

	sc := &scores{data: d, nc: nc, skip: skip, minority: minority, trainMinority: trainMinority, trainDV: trainDV,
		poolDV: poolDV, poolConf: poolConf, poolLabels: poolLabels}
	jobs := plan(opts)
	for n, j := range jobs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		t0 := time.Now()
		tr, run, file, write, err := sc.training(j)
		if err != nil {
			return nil, err
		}
		if file != "" && opts.Out != "" {
			run.File = filepath.ToSlash(filepath.Join("runs", file))
			if err := os.MkdirAll(filepath.Join(opts.Out, "runs"), 0o755); err != nil {
				return nil, fmt.Errorf("intervene: %w", err)
			}
			if err := atomicfile.Write(filepath.Join(opts.Out, "runs", file), write); err != nil {
				return nil, fmt.Errorf("intervene: %w", err)
			}
		}
		br, err := p.TrainBase(ctx, tr)
		if err != nil {
			return nil, fmt.Errorf("intervene: %s, seed %d: %w", label(j.method, j.k), j.seed, err)
		}
		run.Metrics = ev.eval(br.Preds["test"])
		r.Runs = append(r.Runs, run)
		secs := time.Since(t0).Seconds()
		r.timing.Runs = append(r.timing.Runs, RunTiming{Method: j.method, K: j.k, Seed: j.seed, Seconds: secs, Cached: br.Cached})
		if opts.Log != nil {
			how := ""
			if br.Cached {
				how = " (cached)"
			}
			fmt.Fprintf(opts.Log, "intervene %3d/%d  %-22s seed %-3d %6.1fs%s  test acc %.3f\n", n+1, len(jobs), label(j.method, j.k),
				j.seed, secs, how, run.Metrics.Overall)
		}
	}
	r.Summary = summarize(r)
	r.Comparisons = compare(r)
	r.timing.Total = time.Since(start).Seconds()
	r.timing.Backend = p.BackendInfo.String()
	return r, nil
}

// job is one retraining: a method, its budget (pool selections) and a seed.
type job struct {
	method, kind string
	k            int
	seed         uint64
}

// plan lists the retrainings in order: per method, per budget, per seed.
func plan(opts Options) []job {
	var jobs []job
	for _, m := range opts.Methods {
		kind, _ := KindOf(m)
		ks := []int{0}
		if kind == KindPool {
			ks = opts.Ks
		}
		for _, k := range ks {
			for _, s := range opts.Seeds {
				jobs = append(jobs, job{m, kind, k, s})
			}
		}
	}
	return jobs
}

// scores are what the methods choose by: the data, the decision values of train and pool, the base model's pool
// confidences, the classes without an SVM and the minority groups.
type scores struct {
	data                      *data.Dataset
	nc                        int
	skip, minority            []bool
	trainMinority             []bool
	trainDV, poolDV, poolConf []float32
	poolLabels                []int
}

// training returns what job j trains on, the run's record so far, and the name and writer of its selection or
// weights file ("" for base).
func (s *scores) training(j job) (experiment.Training, RunResult, string, func(io.Writer) error, error) {
	seed := j.seed
	tr := experiment.Training{Seed: &seed}
	run := RunResult{Method: j.method, Kind: j.kind, K: j.k, Seed: j.seed}
	d := s.data
	switch j.kind {
	case KindPool:
		sel, err := selectPool(Selector(j.method), s.poolLabels, s.poolDV, s.poolConf, s.nc, j.k, j.seed, s.skip)
		if err != nil {
			return tr, run, "", nil, err
		}
		tr.AddPool, run.Added = sel, len(sel)
		if s.minority != nil {
			for _, i := range sel {
				if s.minority[d.Pool.Groups[i]] {
					run.AddedMinority++
				}
			}
		}
		file := fmt.Sprintf("selection-%s-k%d.csv", j.method, j.k)
		if j.method == string(SelectRandom) {
			file = fmt.Sprintf("selection-%s-k%d-seed%d.csv", j.method, j.k, j.seed)
		}
		return tr, run, file, func(w io.Writer) error { return writeSelection(w, d, sel, s.poolDV, s.poolConf) }, nil
	case KindReweight, KindOracle:
		var w []float32
		var err error
		if j.kind == KindReweight {
			w, err = Weights(Scheme(j.method), d.Train.Labels, s.trainDV, s.nc, s.skip)
		} else {
			w, err = OracleWeights(Scheme(strings.TrimPrefix(j.method, OraclePrefix)), d.Train.Labels, s.trainMinority, s.nc)
		}
		if err != nil {
			return tr, run, "", nil, err
		}
		tr.Weights = w
		if s.trainMinority != nil {
			run.MinorityWeight = minorityShare(w, s.trainMinority)
		}
		return tr, run, fmt.Sprintf("weights-%s.csv", j.method), func(wr io.Writer) error { return writeWeights(wr, d.Train.IDs, w) }, nil
	}
	if s.trainMinority != nil { // base: the unweighted training set's minority share
		run.MinorityWeight = minorityShare(ones(len(s.trainMinority)), s.trainMinority)
	}
	return tr, run, "", nil, nil
}

// label names a method and its budget: "svm K=100", "balanced".
func label(method string, k int) string {
	if k > 0 {
		return fmt.Sprintf("%s K=%d", method, k)
	}
	return method
}

// minoritySet returns which group ids are minority groups, nil when the data has no groups or no minority group.
func minoritySet(p *experiment.Pipeline) []bool {
	if p.Data.Test.Groups == nil || len(p.Minorities) == 0 {
		return nil
	}
	out := make([]bool, len(p.Data.Groups))
	for _, g := range p.Minorities {
		out[g] = true
	}
	return out
}

// selectPool picks K pool examples per class with selector s. SVM selection picks classes without an SVM at random.
func selectPool(s Selector, labels []int, dv, conf []float32, nc, k int, seed uint64, skip []bool) ([]int, error) {
	switch s {
	case SelectSVM:
		sel, err := Lowest(labels, dv, nc, k, skip)
		if err != nil || !slices.Contains(skip, true) {
			return sel, err
		}
		rnd, err := Random(labels, nc, k, seed)
		if err != nil {
			return nil, err
		}
		for _, i := range rnd {
			if skip[labels[i]] {
				sel = append(sel, i)
			}
		}
		return sel, nil
	case SelectConfidence:
		return Lowest(labels, conf, nc, k, nil)
	case SelectRandom:
		return Random(labels, nc, k, seed)
	}
	return nil, fmt.Errorf("intervene: unknown selector %q", s)
}

// minorityShare is the minority examples' share of the total training weight.
func minorityShare(w []float32, minority []bool) float64 {
	var tot, min float64
	for i, v := range w {
		tot += float64(v)
		if minority[i] {
			min += float64(v)
		}
	}
	if tot == 0 {
		return 0
	}
	return min / tot
}

// writeSelection writes the chosen pool examples: id, label, group (when known), decision value, confidence.
func writeSelection(w io.Writer, d *data.Dataset, sel []int, dv, conf []float32) error {
	cw := csv.NewWriter(w)
	head := []string{"id", "label", "class"}
	if d.Pool.Groups != nil {
		head = append(head, "group")
	}
	cw.Write(append(head, "decision", "confidence"))
	for _, i := range sel {
		l := d.Pool.Labels[i]
		rec := []string{d.Pool.IDs[i], strconv.Itoa(l), d.Classes[l]}
		if d.Pool.Groups != nil {
			rec = append(rec, d.GroupName(d.Pool.Groups[i]))
		}
		cw.Write(append(rec, fmtF32(dv[i]), fmtF32(conf[i])))
	}
	cw.Flush()
	return cw.Error()
}

// writeWeights writes "id,weight" rows (the format of the spec's weights file).
func writeWeights(w io.Writer, ids []string, weights []float32) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"id", "weight"})
	for i, id := range ids {
		cw.Write([]string{id, fmtF32(weights[i])})
	}
	cw.Flush()
	return cw.Error()
}

func fmtF32(v float32) string { return strconv.FormatFloat(float64(v), 'g', -1, 32) }

// evaluator measures a model's test predictions: overall, per group, worst group, minority and hard-subset
// accuracy.
type evaluator struct {
	test     *data.ImageSplit
	groups   int
	minority []bool
	hard     []HardSubset
	notes    []string
}

func newEvaluator(ctx context.Context, p *experiment.Pipeline, minority []bool) (*evaluator, error) {
	ev := &evaluator{test: p.Data.Test, minority: minority}
	if p.Data.Test.Groups != nil {
		ev.groups = len(p.Data.Groups)
	}
	if err := p.Captions(ctx); err != nil {
		return nil, err
	}
	if p.Rankings == nil {
		ev.notes = append(ev.notes, "no hard-subset accuracy: the analysis has no captions")
		return ev, nil
	}
	te, err := p.TextEmbedder(ctx)
	if err != nil {
		return nil, err
	}
	test, err := p.Split(ctx, "test")
	if err != nil {
		return nil, err
	}
	k := p.Spec.CaptionK
	for c, rk := range p.Rankings {
		if rk == nil || len(rk.Captions) == 0 {
			continue
		}
		var idx []int
		for i, l := range test.Labels {
			if l == c {
				idx = append(idx, i)
			}
		}
		if len(idx) == 0 {
			continue
		}
		hard := rk.Hard(1)[0].Text
		vec, err := te.EmbedTexts(ctx, []string{hard})
		if err != nil {
			return nil, fmt.Errorf("intervene: embedding the hard caption of %s: %w", rk.Name, err)
		}
		order, err := caption.Nearest(test.Latents.Select(idx), vec.Row(0))
		if err != nil {
			return nil, fmt.Errorf("intervene: hard subset of %s: %w", rk.Name, err)
		}
		hs := HardSubset{Class: c, Name: p.Data.Classes[c], Caption: hard}
		for _, j := range order[:min(k, len(order))] {
			hs.Test = append(hs.Test, idx[j])
		}
		slices.Sort(hs.Test)
		if minority != nil {
			for _, i := range hs.Test {
				if minority[test.Groups[i]] {
					hs.Minority++
				}
			}
		}
		ev.hard = append(ev.hard, hs)
	}
	return ev, nil
}

// metrics lists the metrics this evaluator measures (the columns that have data).
func (ev *evaluator) metrics() []string {
	out := []string{MetricOverall}
	if ev.groups > 0 {
		out = append(out, MetricWorstGroup)
	}
	if ev.minority != nil {
		out = append(out, MetricMinority)
	}
	if len(ev.hard) > 0 {
		out = append(out, MetricHardSubset)
	}
	return out
}

func (ev *evaluator) eval(pr *data.Predictions) Metrics {
	m := Metrics{Overall: pr.Accuracy()}
	if ev.groups > 0 {
		right, n := make([]int, ev.groups), make([]int, ev.groups)
		for i, g := range ev.test.Groups {
			n[g]++
			if pr.Correct(i) {
				right[g]++
			}
		}
		m.Groups = make([]float64, ev.groups)
		m.WorstGroup = math.Inf(1)
		for g := range n {
			if n[g] == 0 {
				m.Groups[g] = -1 // no test example: not a group of the worst-group minimum
				continue
			}
			m.Groups[g] = ratio(right[g], n[g])
			m.WorstGroup = math.Min(m.WorstGroup, m.Groups[g])
		}
	}
	if ev.minority != nil {
		right, n := 0, 0
		for i, g := range ev.test.Groups {
			if ev.minority[g] {
				n++
				if pr.Correct(i) {
					right++
				}
			}
		}
		m.Minority = ratio(right, n)
	}
	if len(ev.hard) > 0 {
		right, n := 0, 0
		for _, hs := range ev.hard {
			for _, i := range hs.Test {
				n++
				if pr.Correct(i) {
					right++
				}
			}
		}
		m.HardSubset = ratio(right, n)
	}
	return m
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}
