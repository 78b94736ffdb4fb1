package experiment

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"

	"github.com/faildirs/faildirs/distill"
	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/caption"
	"github.com/faildirs/faildirs/distill/clip"
	"github.com/faildirs/faildirs/distill/data"
	"github.com/faildirs/faildirs/distill/models"
	"github.com/faildirs/faildirs/distill/tinyclip"
	"github.com/faildirs/faildirs/internal/atomicfile"
)

// Summary is the machine-readable result of an analysis (summary.json).
type Summary struct {
	// Spec is the analysis, defaults applied.
	Spec Spec `json:"spec"`
	// Dataset describes the data as analysed.
	Dataset DatasetSummary `json:"dataset"`
	// Backend is the compute backend used.
	Backend backend.Info `json:"backend"`
	// BaseModel reports the base classifier's accuracy, overall and per group.
	BaseModel BaseModelSummary `json:"base_model"`
	// Latent describes the latent space.
	Latent LatentSummary `json:"latent"`
	// SVM reports each class's fit and its test quality at predicting the base model's errors; ErrorPrediction
	// the same over every test example and as a mean over the classes with an SVM.
	SVM             []ClassSVM             `json:"svm"`
	ErrorPrediction ErrorPredictionSummary `json:"error_prediction"`
	// Surfacing holds the paper's subgroup metrics on test, per view; nil when the data has no groups.
	Surfacing *SurfacingSummary `json:"surfacing,omitempty"`
	// Captions holds each class's top-3 hard and easy captions; CaptionCheck each class's caption check at
	// K = Spec.CaptionK.
	Captions     []ClassCaptions     `json:"captions"`
	CaptionCheck []ClassCaptionCheck `json:"caption_check"`
	// Status is "ok", or distill.WarnNoFailureSignal when no class has a failure direction (nothing to surface).
	Status string `json:"status"`
	// Warnings are the fit's findings about degenerate data (distill.FailureModel.Warnings).
	Warnings []distill.Warning `json:"warnings,omitempty"`
	// Notes record what a stage skipped or decided.
	Notes []string `json:"notes,omitempty"`
	// Timings are the stages' wall-clock seconds (of the process that wrote the summary).
	Timings []Timing `json:"timings"`
}

// DatasetSummary describes the data.
type DatasetSummary struct {
	Name     string            `json:"name"`
	Classes  []string          `json:"classes"`
	ClassIDs []string          `json:"class_ids,omitempty"`
	Params   map[string]string `json:"params"`
	// Splits are the number of examples per split.
	Splits map[string]int `json:"splits"`
	// Groups describes the ground-truth groups with the base model's test accuracy on each; Minorities are the
	// group ids the surfacing metrics count as minority.
	Groups     []GroupSummary `json:"groups,omitempty"`
	Minorities []int          `json:"minorities,omitempty"`
	// Skipped lists the images that failed to decode (with SkipBad).
	Skipped []clip.BadImage `json:"skipped,omitempty"`
}

// GroupSummary describes one ground-truth group and the base model's test accuracy on it.
type GroupSummary struct {
	ID           int     `json:"id"`
	Name         string  `json:"name"`
	Class        int     `json:"class"`
	Minority     bool    `json:"minority"`
	TestN        int     `json:"test_n"`
	TestAccuracy float64 `json:"test_accuracy"`
}

// BaseModelSummary reports the base classifier.
type BaseModelSummary struct {
	// Source is "trained" (here, in GoMLX) or "predictions" (CSVs from elsewhere, Preds).
	Source string         `json:"source"`
	Preds  string         `json:"preds,omitempty"`
	Config *models.Config `json:"config,omitempty"`
	Epochs int            `json:"epochs,omitempty"`
	// Accuracy is the base model's accuracy per split.
	Accuracy map[string]float64 `json:"accuracy"`
	// WorstGroup and its accuracy, and the best group's accuracy, on test (when the data has groups).
	WorstGroup         string  `json:"worst_group,omitempty"`
	WorstGroupAccuracy float64 `json:"worst_group_accuracy,omitempty"`
	BestGroupAccuracy  float64 `json:"best_group_accuracy,omitempty"`
}

// LatentSummary describes the latent space.
type LatentSummary struct {
	// Latent is Spec.Latent; Source where the CLIP came from (folder, hub id, "random:<seed>").
	Latent     string            `json:"latent"`
	Source     string            `json:"source,omitempty"`
	Dim        int               `json:"dim"`
	Quality    *tinyclip.Quality `json:"quality,omitempty"`
	Embeddings []string          `json:"embeddings,omitempty"`
	// WhiteningSample is the sample of train rows the whitening statistics came from (absent: every row).
	WhiteningSample *distill.TrainSample `json:"whitening_sample,omitempty"`
}

// ClassSVM is one class's SVM fit and test quality.
type ClassSVM struct {
	Class              int            `json:"class"`
	Name               string         `json:"name"`
	Status             distill.Status `json:"status"`
	C                  float64        `json:"c"`
	CVBalancedAccuracy float64        `json:"cv_balanced_acc"`
	ValN               int            `json:"val_n"`
	ValErrors          int            `json:"val_errors"`
	TestN              int            `json:"test_n"`
	TestErrors         int            `json:"test_errors"`
	TestBalancedAcc    float64        `json:"test_balanced_acc"`
	TestAUROC          float64        `json:"test_auroc"`
	TestUndefined      []string       `json:"test_undefined,omitempty"`
}

// ErrorPredictionSummary is the SVMs' quality at predicting the base model's test errors.
type ErrorPredictionSummary struct {
	Global       distill.ErrorMetrics `json:"global"`
	MeanPerClass distill.ErrorMetrics `json:"mean_per_class"`
}

// SurfacingSummary holds the paper's subgroup metrics on the test split, per view.
type SurfacingSummary struct {
	// Minorities are the group ids counted as minority; Classes the classes evaluated (those with an SVM).
	Minorities []int `json:"minorities"`
	Classes    []int `json:"classes"`
	// Views are the test split as it is ("natural"), group-balanced per class ("balanced") and resampled to the
	// training split's group mix per class ("train-mix").
	Views []View `json:"views"`
}

// View is the subgroup metrics on one view of the test split.
type View struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// N is the number of test examples of the evaluated classes in the view.
	N int `json:"n"`
	// TopK holds the top-K minority-fraction curves (K = 10, 20, … per class and pooled); Flagged the flagged
	// set's minority precision and recall next to the minority share of the base model's errors.
	TopK    *distill.TopKReport    `json:"topk"`
	Flagged *distill.FlaggedReport `json:"flagged"`
	// Table holds the curves at Spec.Ks, per class and pooled (Class −1).
	Table []TopKRow `json:"table"`
}

// TopKRow is the minority fraction among the K top-ranked test images of a class (or all, Class −1).
type TopKRow struct {
	Class int    `json:"class"`
	Name  string `json:"name"`
	K     int    `json:"k"`
	// SVM ranks by decision value, Confidence by the base model's confidence in the true class (lowest first);
	// BaseRate is the minority's share.
	SVM        float64 `json:"svm"`
	Confidence float64 `json:"confidence"`
	BaseRate   float64 `json:"base_rate"`
}

// ClassCaptions are one class's extreme captions.
type ClassCaptions struct {
	Class     int              `json:"class"`
	Name      string           `json:"name"`
	Reference string           `json:"reference"`
	Hard      []caption.Scored `json:"hard"`
	Easy      []caption.Scored `json:"easy"`
}

// ClassCaptionCheck is one class's caption check at one K.
type ClassCaptionCheck struct {
	Class         int     `json:"class"`
	Name          string  `json:"name"`
	K             int     `json:"k"`
	HardCaption   string  `json:"hard_caption"`
	EasyCaption   string  `json:"easy_caption"`
	HardAccuracy  float64 `json:"hard_accuracy"`
	EasyAccuracy  float64 `json:"easy_accuracy"`
	ClassAccuracy float64 `json:"class_accuracy"`
}

// View names.
const (
	ViewNatural  = "natural"
	ViewBalanced = "balanced"
	ViewTrainMix = "train-mix"
)

// Summary runs every stage (from the caches where possible) and gathers the results.
func (p *Pipeline) Summary(ctx context.Context) (*Summary, error) {
	if err := p.RunAll(ctx); err != nil {
		return nil, err
	}
	d := p.Data
	s := &Summary{Spec: p.Spec, Backend: p.BackendInfo, Notes: p.Notes, Timings: p.Timings, Status: "ok",
		Warnings: p.SVM.Warnings}
	if p.SVM.NoFailureSignal() {
		s.Status = distill.WarnNoFailureSignal
	}
	s.Dataset = DatasetSummary{Name: d.Name, Classes: d.Classes, ClassIDs: d.ClassIDs, Params: d.Params,
		Splits: map[string]int{}, Minorities: p.Minorities, Skipped: p.Skipped}
	for _, sp := range d.Splits() {
		s.Dataset.Splits[sp.Name] = sp.Len()
	}
	s.Dataset.Groups = p.groupSummaries()
	s.BaseModel = p.baseModelSummary(s.Dataset.Groups)
	s.Latent = LatentSummary{Latent: p.Spec.Latent, Source: p.CLIPSource, Dim: p.Emb["test"].Cols, Quality: p.CLIPQuality,
		Embeddings: p.Spec.Embeddings}
	if t := p.trainSample(); t.Sampled() {
		s.Latent.WhiteningSample = &t
	}
	perClass := map[int]distill.ClassErrorMetrics{}
	for _, m := range p.Eval.PerClass {
		perClass[m.Class] = m
	}
	s.ErrorPrediction = ErrorPredictionSummary{Global: p.Eval.Global, MeanPerClass: p.Eval.MeanPerClass}
	for _, ci := range p.SVM.Classes() {
		cs := ClassSVM{Class: ci.Class, Name: d.Classes[ci.Class], Status: ci.Status, C: ci.C,
			CVBalancedAccuracy: ci.CVBalancedAcc, ValN: ci.NVal, ValErrors: ci.NErrors}
		if m, ok := perClass[ci.Class]; ok {
			cs.TestN, cs.TestErrors = m.N, m.Errors
			cs.TestBalancedAcc, cs.TestAUROC, cs.TestUndefined = m.BalancedAccuracy, m.AUROC, m.Undefined
		}
		s.SVM = append(s.SVM, cs)
	}
	var err error
	if s.Surfacing, err = p.surfacing(); err != nil {
		return nil, err
	}
	for c, r := range p.Rankings {
		if r != nil {
			s.Captions = append(s.Captions, ClassCaptions{Class: c, Name: r.Name, Reference: r.Reference,
				Hard: r.Hard(3), Easy: r.Easy(3)})
		}
	}
	for c, ck := range p.Checks {
		if ck == nil {
			continue
		}
		hard, easy, _ := ck.At(p.Spec.CaptionK)
		s.CaptionCheck = append(s.CaptionCheck, ClassCaptionCheck{Class: c, Name: ck.Class, K: p.Spec.CaptionK,
			HardCaption: ck.Hard, EasyCaption: ck.Easy, HardAccuracy: hard, EasyAccuracy: easy, ClassAccuracy: ck.ClassAccuracy})
	}
	s.Notes, s.Timings = p.Notes, p.Timings
	return s, nil
}

// groupSummaries returns the base model's test accuracy per ground-truth group.
func (p *Pipeline) groupSummaries() []GroupSummary {
	pr := p.Preds["test"]
	if pr.Groups == nil || len(p.Data.Groups) == 0 {
		return nil
	}
	acc, count := pr.GroupAccuracy(len(p.Data.Groups))
	out := make([]GroupSummary, len(p.Data.Groups))
	for i, g := range p.Data.Groups {
		out[i] = GroupSummary{ID: g.ID, Name: g.Name, Class: g.Class, Minority: slices.Contains(p.Minorities, g.ID), TestN: count[i]}
		if count[i] > 0 { // an empty group's accuracy is NaN, which JSON cannot hold: it stays 0 with TestN 0
			out[i].TestAccuracy = acc[i]
		}
	}
	return out
}

func (p *Pipeline) baseModelSummary(groups []GroupSummary) BaseModelSummary {
	bm := BaseModelSummary{Source: "predictions", Preds: p.Spec.Preds, Accuracy: map[string]float64{}}
	if p.Base != nil {
		bm.Source, bm.Epochs = "trained", p.Spec.Epochs
		cfg := p.Base.Model.Config
		bm.Config = &cfg
	}
	for name, pr := range p.Preds {
		if pr.Len() > 0 {
			bm.Accuracy[name] = pr.Accuracy()
		}
	}
	worst := math.Inf(1)
	for _, g := range groups {
		if g.TestN == 0 {
			continue
		}
		if g.TestAccuracy < worst {
			worst, bm.WorstGroup = g.TestAccuracy, g.Name
		}
		bm.BestGroupAccuracy = max(bm.BestGroupAccuracy, g.TestAccuracy)
	}
	if bm.WorstGroup != "" {
		bm.WorstGroupAccuracy = worst
	}
	return bm
}

// surfacing computes the subgroup metrics on the test views (nil without groups, minorities or fitted classes).
func (p *Pipeline) surfacing() (*SurfacingSummary, error) {
	classes := p.fittedClasses()
	test := p.Data.Test
	if len(p.Minorities) == 0 || test.Groups == nil || len(classes) == 0 {
		return nil, nil
	}
	pr := p.Preds["test"]
	correct := make([]bool, pr.Len())
	for i := range correct {
		correct[i] = pr.Correct(i)
	}
	all := SubgroupData{Decisions: p.Decisions["test"], Confs: pr.Conf, Labels: pr.Labels, Groups: test.Groups,
		Correct: correct}
	out := &SurfacingSummary{Minorities: p.Minorities, Classes: classes}
	views := []struct {
		name, desc string
		idx        []int
	}{{ViewNatural, "the test split as it is", nil}}
	rng := rand.New(rand.NewPCG(p.Spec.DataSeed, 0x76696577)) // "view"
	views = append(views, struct {
		name, desc string
		idx        []int
	}{ViewBalanced, "per class, every group subsampled to the smallest group's count", balancedView(test, rng)})
	if p.Data.Train.Groups != nil {
		views = append(views, struct {
			name, desc string
			idx        []int
		}{ViewTrainMix, "per class, the groups resampled to their shares in the training split", trainMixView(p.Data.Train, test, rng)})
	}
	for _, v := range views {
		in := all.subset(v.idx)
		rep, err := in.report(p.Minorities, classes)
		if err != nil {
			return nil, fmt.Errorf("surfacing, %s view: %w", v.name, err)
		}
		view := View{Name: v.name, Description: v.desc, N: rep.Flagged.Overall.N, TopK: rep.TopK, Flagged: rep.Flagged}
		view.Table = in.table(p.Minorities, classes, p.Spec.Ks, p.Data.Classes)
		out.Views = append(out.Views, view)
	}
	return out, nil
}

// SubgroupData holds what the subgroup metrics read per test example.
type SubgroupData struct {
	Decisions []float32
	Confs     []float32
	Labels    []int
	Groups    []int
	Correct   []bool
}

func (s SubgroupData) subset(idx []int) SubgroupData {
	if idx == nil {
		return s
	}
	return SubgroupData{Decisions: pick(s.Decisions, idx), Confs: pick(s.Confs, idx), Labels: pick(s.Labels, idx),
		Groups: pick(s.Groups, idx), Correct: pick(s.Correct, idx)}
}

func (s SubgroupData) input(minorities, classes []int) distill.SubgroupInput {
	return distill.SubgroupInput{Decisions: s.Decisions, Confs: s.Confs, Labels: s.Labels, Groups: s.Groups,
		Correct: s.Correct, Minorities: minorities, Classes: classes}
}

func (s SubgroupData) report(minorities, classes []int) (*distill.SubgroupReport, error) {
	in := s.input(minorities, classes)
	tk, err := distill.TopKCurves(in)
	if err != nil {
		return nil, err
	}
	fl, err := distill.FlaggedMinority(in)
	if err != nil {
		return nil, err
	}
	return &distill.SubgroupReport{Minorities: minorities, TopK: tk, Flagged: fl}, nil
}

// table returns the minority fraction among the top K by decision value and by confidence, for each K of ks
// (capped at the class size), per class and pooled (class −1); orders are stable like distill.TopKCurves'.
func (s SubgroupData) table(minorities, classes, ks []int, names []string) []TopKRow {
	isMin := func(i int) bool { return slices.Contains(minorities, s.Groups[i]) }
	var rows []TopKRow
	add := func(class int, name string, idx []int) {
		if len(idx) == 0 {
			return
		}
		bySVM := slices.Clone(idx)
		slices.SortStableFunc(bySVM, func(a, b int) int { return cmp.Compare(s.Decisions[a], s.Decisions[b]) })
		byConf := slices.Clone(idx)
		slices.SortStableFunc(byConf, func(a, b int) int { return cmp.Compare(s.Confs[a], s.Confs[b]) })
		nMin := 0
		for _, i := range idx {
			if isMin(i) {
				nMin++
			}
		}
		for _, k := range ks {
			k = min(k, len(idx))
			var a, b int
			for j := range k {
				if isMin(bySVM[j]) {
					a++
				}
				if isMin(byConf[j]) {
					b++
				}
			}
			rows = append(rows, TopKRow{Class: class, Name: name, K: k, SVM: float64(a) / float64(k),
				Confidence: float64(b) / float64(k), BaseRate: float64(nMin) / float64(len(idx))})
		}
	}
	var all []int
	for _, c := range classes {
		var idx []int
		for i, l := range s.Labels {
			if l == c {
				idx = append(idx, i)
			}
		}
		add(c, names[c], idx)
		all = append(all, idx...)
	}
	slices.Sort(all)
	add(-1, "all classes", all)
	return rows
}

// balancedView returns, in order, the test examples kept when every group of a class is subsampled to the
// smallest group count of that class (groups absent from the class do not count).
func balancedView(test *data.ImageSplit, rng *rand.Rand) []int {
	byClassGroup := map[[2]int][]int{}
	for i, l := range test.Labels {
		k := [2]int{l, test.Groups[i]}
		byClassGroup[k] = append(byClassGroup[k], i)
	}
	smallest := map[int]int{}
	for k, idx := range byClassGroup {
		if n, ok := smallest[k[0]]; !ok || len(idx) < n {
			smallest[k[0]] = len(idx)
		}
	}
	return keepPerGroup(test.Len(), byClassGroup, func(k [2]int) int { return smallest[k[0]] }, rng)
}

// trainMixView returns, in order, the test examples kept when each class's groups are resampled to their shares
// among that class's train examples, keeping as many examples as the test split allows (groups absent from train
// are dropped).
func trainMixView(train, test *data.ImageSplit, rng *rand.Rand) []int {
	trainCount := map[[2]int]int{}
	trainClass := map[int]int{}
	for i, l := range train.Labels {
		trainCount[[2]int{l, train.Groups[i]}]++
		trainClass[l]++
	}
	byClassGroup := map[[2]int][]int{}
	for i, l := range test.Labels {
		k := [2]int{l, test.Groups[i]}
		byClassGroup[k] = append(byClassGroup[k], i)
	}
	total := map[int]float64{} // per class: the largest test size at the train mix
	for k, idx := range byClassGroup {
		share := float64(trainCount[k]) / float64(max(trainClass[k[0]], 1))
		if share == 0 {
			continue
		}
		n := float64(len(idx)) / share
		if t, ok := total[k[0]]; !ok || n < t {
			total[k[0]] = n
		}
	}
	return keepPerGroup(test.Len(), byClassGroup, func(k [2]int) int {
		share := float64(trainCount[k]) / float64(max(trainClass[k[0]], 1))
		return min(int(math.Round(share*math.Floor(total[k[0]]+1e-9))), len(byClassGroup[k]))
	}, rng)
}

// keepPerGroup draws want(k) examples of every (class, group) k at random and returns the kept indices in order.
func keepPerGroup(n int, byKey map[[2]int][]int, want func([2]int) int, rng *rand.Rand) []int {
	keys := make([][2]int, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]int) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) })
	keep := make([]bool, n)
	for _, k := range keys {
		idx := byKey[k]
		for _, j := range rng.Perm(len(idx))[:want(k)] {
			keep[idx[j]] = true
		}
	}
	out := []int{}
	for i, k := range keep {
		if k {
			out = append(out, i)
		}
	}
	return out
}

// pick returns x at the indices idx.
func pick[T any](x []T, idx []int) []T {
	out := make([]T, len(idx))
	for i, j := range idx {
		out[i] = x[j]
	}
	return out
}

// Write writes the summary to w as indented JSON.
func (s *Summary) Write(w io.Writer) error {
	raw, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("experiment: summary: %w", err)
	}
	_, err = w.Write(append(raw, '\n'))
	return err
}

// Save writes the summary as JSON ([Summary.Write]) to path atomically, creating its folder if needed.
func (s *Summary) Save(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(path, s.Write)
}

// LoadSummary reads a summary.json.
func LoadSummary(path string) (*Summary, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("experiment: %w", err)
	}
	var s Summary
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("experiment: %s: %w", path, jsonError(raw, err))
	}
	return &s, nil
}

// Row returns the table row of class c (−1: all classes) at K = k in the view, if present.
func (v *View) Row(c, k int) (TopKRow, bool) {
	for _, r := range v.Table {
		if r.Class == c && r.K == k {
			return r, true
		}
	}
	return TopKRow{}, false
}

// View returns the named view, or nil.
func (s *SurfacingSummary) View(name string) *View {
	if s == nil {
		return nil
	}
	for i := range s.Views {
		if s.Views[i].Name == name {
			return &s.Views[i]
		}
	}
	return nil
}
