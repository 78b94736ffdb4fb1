package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/faildirs/faildirs/distill"
	"github.com/faildirs/faildirs/distill/backend"
	"github.com/faildirs/faildirs/distill/npy"
	"github.com/faildirs/faildirs/internal/atomicfile"
	"github.com/faildirs/faildirs/internal/cli"
)

// benchSVMReport is the JSON written by "faildirs bench-svm --json". Its keys are those of the report of the
// scikit-learn reference benchmark (the paper's SVC recipe on the same .npy folder), so the two compare field by
// field.
type benchSVMReport struct {
	Data                        string                            `json:"data"`
	Method                      string                            `json:"method"`
	Backend                     string                            `json:"backend"`
	NClasses                    int                               `json:"n_classes_total"`
	NClassesFit                 int                               `json:"n_classes_fit"`
	Grid                        []float64                         `json:"grid"`
	CVFolds                     int                               `json:"cv_folds"`
	Tol                         float64                           `json:"tol"`
	FitWallS                    float64                           `json:"fit_wall_s"`
	FitOthersCores              float64                           `json:"fit_others_cores"`
	FitCPUS                     float64                           `json:"fit_cpu_s"`
	LoadAvgBefore               string                            `json:"loadavg_before"`
	PreprocessS                 float64                           `json:"preprocess_s"`
	WhiteningRows               int                               `json:"whitening_rows"`
	SolveS                      float64                           `json:"solve_s"`
	Problems                    int                               `json:"problems"`
	LockstepIterations          int                               `json:"lockstep_iterations"`
	NotConverged                int                               `json:"not_converged"`
	MeanCVBalancedAcc           float64                           `json:"mean_cv_balanced_acc"`
	SkippedClasses              []int                             `json:"skipped_classes"`
	SkippedReasons              map[string]int                    `json:"skipped_reasons"`
	BestCHist                   map[string]int                    `json:"best_C_hist"`
	TestBalancedAccGlobal       float64                           `json:"test_balanced_acc_global"`
	TestAccGlobal               float64                           `json:"test_acc_global"`
	TestBalancedAccMeanPerClass float64                           `json:"test_balanced_acc_mean_per_class"`
	TestAUROCMeanPerClass       float64                           `json:"test_auroc_decision_vs_correct_mean_per_class"`
	TestPrecisionGlobal         float64                           `json:"test_error_precision_global"`
	TestRecallGlobal            float64                           `json:"test_error_recall_global"`
	TopKSurfacing               map[string]distill.SurfacingPoint `json:"topk_surfacing"`
	Compat                      string                            `json:"compat"`
	PerClassC                   []*float64                        `json:"per_class_C"`
	Reference                   *refComparison                    `json:"reference_comparison,omitempty"`
	Env                         map[string]string                 `json:"env"`
	// Status is "ok", or "no-failure-signal" when no class could be fitted (exit code 3); Warnings list the
	// degenerate data found (distill.Warning codes), empty when none.
	Status   string            `json:"status"`
	Warnings []distill.Warning `json:"warnings"`
}

// refComparison compares a fit with fit_svm_ref.py's results on the same data.
type refComparison struct {
	// File is the reference JSON; Decisions its test decision values.
	File      string `json:"file"`
	Decisions string `json:"decisions"`
	// ClassesWithClassifier counts the classes the reference fitted; CAgree how many of them got the same C here
	// (CAgreement is the fraction); FittedOnlyHere and FittedOnlyThere count classes with an SVM on one side only.
	ClassesWithClassifier int     `json:"classes_with_classifier"`
	CAgree                int     `json:"c_agree"`
	CAgreement            float64 `json:"c_agreement"`
	FittedOnlyHere        int     `json:"fitted_only_here"`
	FittedOnlyThere       int     `json:"fitted_only_there"`
	// SpearmanPooled is the Spearman rank correlation of all test decision values with the reference's;
	// SpearmanMeanPerClass the mean over the classes both sides fitted of the within-class correlation (classes
	// where either side is constant are left out, counted in ConstantClasses).
	SpearmanPooled       float64 `json:"spearman_pooled"`
	SpearmanMeanPerClass float64 `json:"spearman_mean_per_class"`
	ConstantClasses      int     `json:"constant_classes"`
}

func runBenchSVM(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench-svm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data", "", "folder of {train,val,test}_{features,labels,preds,confidence,subgroup}.npy (features float [N,D], the rest [N]; an optional _correct.npy is checked against preds == labels)")
	classes := fs.Int("classes", 0, fmt.Sprintf("number of classes, 1 to %d (default: 1 + the largest val or test label, which must not exceed the number of val and test examples)", distill.MaxClasses))
	ksFlag := fs.String("ks", "", "comma-separated K of the top-K surfacing (default 50,100,200 with ≤10 classes, else 10)")
	jsonOut := fs.String("json", "", "write the report as JSON to this file")
	decOut := fs.String("decisions", "", "write the test decision values (float32 .npy, test order) to this file")
	modelOut := fs.String("model", "", "save the fitted model to this file")
	tol := fs.Float64("tol", 1e-3, "solver tolerance: relative duality gap, above 0 and at most 1")
	maxIter := fs.Int("max-iter", 5000, "solver iteration limit, 1 to 10000000")
	showProgress := fs.Bool("progress", false, "show a progress bar of the solved SVM problems")
	compatFlag := fs.String("compat", "default", "default, or reference: the reference code's choices (ties to the smaller C, libsvm's bias)")
	refJSON := fs.String("ref", "", "fit_svm_ref.py's svm_<data>_<method>.json: compare per-class C and test decisions (decisions_*.npy beside it)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the fit to this file")
	trainSample := fs.Int("train-sample", 0, "whiten with the statistics of a seeded sample of this many train rows (0: every row)")
	trainSeed := fs.Uint64("train-sample-seed", 0, "seed of the train sample")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: faildirs bench-svm --data DIR [--classes N] [--compat reference] [--ref svm_X_svc.json] [--train-sample N] [--ks 50,100,200] [--json FILE] [--decisions FILE.npy] [--model FILE]")
		fmt.Fprintln(stderr, "\nFits the failure SVMs (paper recipe, batched GoMLX solver) on DIR's val split, whitening with")
		fmt.Fprintln(stderr, "train's statistics, and reports fit time and test metrics comparable with scikit-learn's SVC on the same data.")
		fmt.Fprintln(stderr, "Degenerate data is reported as warnings and in the report's status; exit code 3 when no class has a failure signal.")
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	var c cli.Checks
	if *dataDir == "" {
		c.Addf("-data is required")
	}
	if cli.IsSet(fs, "classes") {
		c.IntIn("classes", *classes, 1, distill.MaxClasses)
	}
	c.FloatAbove("tol", *tol, 0, 1)
	c.IntIn("max-iter", *maxIter, 1, 10_000_000)
	c.OneOf("compat", *compatFlag, "default", string(distill.CompatReference))
	c.IntIn("train-sample", *trainSample, 0, 1<<30)
	if *refJSON != "" {
		if _, err := os.Stat(*refJSON); err != nil {
			c.Addf("-ref: %w", err)
		}
	}
	if _, err := parseKs(*ksFlag, 1); err != nil {
		c.Add(err)
	}
	c.Add(cli.OutputFile("json", *jsonOut, recognizeBenchReport))
	c.Add(cli.OutputFile("decisions", *decOut, npy.Recognize))
	c.Add(cli.OutputFile("model", *modelOut, recognizeModel))
	c.Add(cli.OutputFile("cpuprofile", *cpuProfile, recognizeProfile))
	c.Add(distinctOutputs(map[string]string{"json": *jsonOut, "decisions": *decOut, "model": *modelOut, "cpuprofile": *cpuProfile}))
	inputs := benchSVMInputs(*dataDir, *refJSON)
	for _, o := range [][2]string{{"json", *jsonOut}, {"decisions", *decOut}, {"model", *modelOut}, {"cpuprofile", *cpuProfile}} {
		c.Add(cli.NotInput(o[0], o[1], inputs...))
	}
	if err := c.Err(); err != nil {
		return err
	}
	splits, warnings, err := loadBenchSplits(*dataDir)
	if err != nil {
		return err
	}
	test := splits["test"]
	nc, err := benchClassCount(*dataDir, splits, *classes)
	if err != nil {
		return err
	}
	b, info, err := backend.New(backend.Options{})
	if err != nil {
		return err
	}
	defer b.Finalize()

	opts := distill.DefaultOptions()
	if opts.Compat, err = distill.ParseCompat(*compatFlag); err != nil {
		return err
	}
	opts.Solver.Tol, opts.Solver.MaxIter = *tol, *maxIter
	opts.TrainSample = distill.TrainSample{Size: *trainSample, Seed: *trainSeed}
	opts.Progress = io.Discard
	if *showProgress {
		opts.Progress = stderr
	}
	opts.NumClasses = nc
	ks, err := parseKs(*ksFlag, nc)
	if err != nil {
		return err
	}

	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	var fit fitMeasure
	fit.start()
	model, err := distill.FitContext(ctx, b, splits["train"], splits["val"], opts)
	fit.stop()
	if perr := stopProfile(); perr != nil && err == nil {
		err = perr
	}
	if err != nil {
		return err
	}
	ev, err := model.Evaluate(test, 1, ks)
	if err != nil {
		return err
	}
	rep := newBenchSVMReport(filepath.Base(filepath.Clean(*dataDir)), info, model, ev, fit)
	if *refJSON != "" {
		if rep.Reference, err = compareWithReference(*refJSON, rep.PerClassC, test.Labels, ev.Decisions); err != nil {
			return err
		}
	}
	rep.Warnings = append(warnings, model.Warnings...)
	if model.NoFailureSignal() {
		rep.Status = distill.WarnNoFailureSignal
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	printBenchSVM(stdout, rep, ev)
	if err := writeBenchOutputs(rep, ev, model, *jsonOut, *decOut, *modelOut); err != nil {
		return err
	}
	if model.NoFailureSignal() {
		return fmt.Errorf("%w: no class of %s has a failure signal to fit (report status %q)", cli.ErrDegenerate, *dataDir, rep.Status)
	}
	return nil
}

// writeBenchOutputs renders every requested output first and writes them only then, each atomically (its folder
// created if missing), so that a failure to render leaves none of them.
func writeBenchOutputs(rep benchSVMReport, ev *distill.Evaluation, model *distill.FailureModel, jsonOut, decOut, modelOut string) error {
	type output struct {
		path string
		data []byte
	}
	var outs []output
	if jsonOut != "" {
		data, err := json.MarshalIndent(rep, "", " ")
		if err != nil {
			return fmt.Errorf("-json: %w", err)
		}
		outs = append(outs, output{jsonOut, append(data, '\n')})
	}
	if decOut != "" {
		var buf bytes.Buffer
		if err := npy.WriteFloat32(&buf, []int{len(ev.Decisions)}, ev.Decisions); err != nil {
			return fmt.Errorf("-decisions: %w", err)
		}
		outs = append(outs, output{decOut, buf.Bytes()})
	}
	if modelOut != "" {
		var buf bytes.Buffer
		if err := model.Write(&buf); err != nil {
			return fmt.Errorf("-model: %w", err)
		}
		outs = append(outs, output{modelOut, buf.Bytes()})
	}
	for _, o := range outs {
		if err := cli.MakeParent(o.path); err != nil {
			return err
		}
		if err := atomicfile.WriteBytes(o.path, o.data); err != nil {
			return err
		}
	}
	return nil
}

// distinctOutputs refuses two output flags naming one file.
func distinctOutputs(paths map[string]string) error {
	seen := map[string]string{}
	names := make([]string, 0, len(paths))
	for name := range paths {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := paths[name]
		if p == "" {
			continue
		}
		abs, _ := filepath.Abs(p)
		if other, dup := seen[abs]; dup {
			return cli.Usagef("-%s and -%s name the same file %s", other, name, p)
		}
		seen[abs] = name
	}
	return nil
}

// benchSVMInputs lists the files bench-svm reads: the data folder's split arrays and the reference's report with
// the decision values beside it.
func benchSVMInputs(dataDir, refJSON string) []string {
	var in []string
	if dataDir != "" {
		for _, split := range []string{"train", "val", "test"} {
			m, _ := filepath.Glob(filepath.Join(dataDir, split+"_*.npy"))
			in = append(in, m...)
		}
	}
	if refJSON != "" {
		m, _ := filepath.Glob(filepath.Join(filepath.Dir(refJSON), "decisions_*.npy"))
		in = append(append(in, refJSON), m...)
	}
	return in
}

// recognizeBenchReport accepts an existing -json file only if it is a bench-svm report.
func recognizeBenchReport(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var rep struct {
		Method *string `json:"method"`
		Data   *string `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(f, 64<<20)).Decode(&rep); err != nil || rep.Method == nil || rep.Data == nil {
		return errors.New("not a bench-svm JSON report")
	}
	return nil
}

// recognizeModel accepts an existing -model file only if it is a saved distill model.
func recognizeModel(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var head struct {
		Format string `json:"format"`
	}
	if err := json.NewDecoder(f).Decode(&head); err != nil || head.Format != distill.ModelFormat {
		return fmt.Errorf("not a saved %s", distill.ModelFormat)
	}
	return nil
}

// loadBenchSplits reads the train, val and test splits of a benchmark folder; test needs labels and predictions.
func loadBenchSplits(dir string) (map[string]distill.Split, []distill.Warning, error) {
	splits := map[string]distill.Split{}
	var warnings []distill.Warning
	for _, name := range []string{"train", "val", "test"} {
		s, w, err := distill.LoadNPYSplit(dir, name)
		if err != nil {
			return nil, nil, err
		}
		splits[name] = s
		warnings = append(warnings, w...)
	}
	if test := splits["test"]; len(test.Labels) == 0 || len(test.Preds) == 0 {
		return nil, nil, fmt.Errorf("%s: test labels and predictions are required", dir)
	}
	return splits, warnings, nil
}

// benchClassCount returns the number of classes: declared (every val and test label must be below it) or 1 + the
// largest val or test label, which must not exceed the number of val and test examples (a stray label of 10^6
// among a few hundred examples is an error, not a million empty classes).
func benchClassCount(dir string, splits map[string]distill.Split, declared int) (int, error) {
	nc, n := 0, 0
	var at string
	for _, name := range []string{"val", "test"} {
		s := splits[name]
		n += s.Len()
		for i, l := range s.Labels {
			if declared > 0 && l >= declared {
				return 0, fmt.Errorf("%s: label %d of example %d is not below -classes %d", filepath.Join(dir, name+"_labels.npy"), l, i, declared)
			}
			if l+1 > nc {
				nc, at = l+1, fmt.Sprintf("%s: label %d of example %d", filepath.Join(dir, name+"_labels.npy"), l, i)
			}
		}
	}
	if declared > 0 {
		return declared, nil
	}
	switch {
	case nc > distill.MaxClasses:
		return 0, fmt.Errorf("%s would make %d classes, more than the %d faildirs supports", at, nc, distill.MaxClasses)
	case nc > n:
		return 0, fmt.Errorf("%s would make %d classes from %d val and test examples; if that is right, declare it with -classes %d", at, nc, n, nc)
	}
	return nc, nil
}

// fitMeasure records the wall time of a fit, the machine load before it, this process's CPU seconds during it and
// the cores other processes used meanwhile.
type fitMeasure struct {
	t0           time.Time
	busy0, self0 float64
	wall         time.Duration
	load         string
	cpu, others  float64
}

func (f *fitMeasure) start() {
	f.load = readLoadAvg()
	f.busy0, f.self0 = machineBusySeconds(), selfCPUSeconds()
	f.t0 = time.Now()
}

func (f *fitMeasure) stop() {
	f.wall = time.Since(f.t0)
	f.cpu = selfCPUSeconds() - f.self0
	if f.busy0 >= 0 {
		f.others = max(0, (machineBusySeconds()-f.busy0)-(selfCPUSeconds()-f.self0)) / f.wall.Seconds()
	}
}

// newBenchSVMReport gathers the report of a fit of the benchmark folder named data and its test evaluation.
func newBenchSVMReport(data string, info backend.Info, model *distill.FailureModel, ev *distill.Evaluation,
	fit fitMeasure) benchSVMReport {
	stats := model.Stats
	rep := benchSVMReport{
		Data: data, Method: "faildirs-gomlx-batched", Backend: info.String(),
		NClasses: model.NumClasses(), Grid: model.Options.Cs, CVFolds: model.Options.Folds, Tol: model.Options.Tol,
		FitWallS: fit.wall.Seconds(), FitOthersCores: fit.others, FitCPUS: fit.cpu, LoadAvgBefore: fit.load,
		PreprocessS: stats.Preprocess.Seconds(), WhiteningRows: model.Whitening.Rows, SolveS: stats.Solve.Seconds(), Problems: stats.Problems,
		LockstepIterations: stats.LockstepIterations, NotConverged: stats.NotConverged,
		SkippedClasses: ev.Skipped, SkippedReasons: map[string]int{}, BestCHist: map[string]int{},
		TestBalancedAccGlobal: ev.Global.BalancedAccuracy, TestAccGlobal: ev.Global.Accuracy,
		TestBalancedAccMeanPerClass: ev.MeanPerClass.BalancedAccuracy, TestAUROCMeanPerClass: ev.MeanPerClass.AUROC,
		TestPrecisionGlobal: ev.Global.Precision, TestRecallGlobal: ev.Global.Recall,
		TopKSurfacing: map[string]distill.SurfacingPoint{}, Compat: cmp.Or(string(model.Options.Compat), "default"),
		Status: "ok", Warnings: []distill.Warning{},
		Env: map[string]string{"go": runtime.Version(), "goarch": runtime.GOARCH, "num_cpu": strconv.Itoa(runtime.NumCPU()),
			"simd": strconv.FormatBool(backend.SIMDCompiled)},
	}
	if rep.SkippedClasses == nil {
		rep.SkippedClasses = []int{}
	}
	var cvSum float64
	for _, c := range model.Classes() {
		if !c.Status.HasClassifier() {
			rep.SkippedReasons[string(c.Status)]++
			rep.PerClassC = append(rep.PerClassC, nil)
			continue
		}
		rep.PerClassC = append(rep.PerClassC, &c.C)
		rep.NClassesFit++
		cvSum += c.CVBalancedAcc
		rep.BestCHist[strconv.FormatFloat(c.C, 'g', -1, 64)]++
	}
	if rep.NClassesFit > 0 {
		rep.MeanCVBalancedAcc = cvSum / float64(rep.NClassesFit)
	}
	if ev.Surfacing != nil {
		for _, p := range ev.Surfacing.Points {
			rep.TopKSurfacing[strconv.Itoa(p.K)] = p
		}
	}
	return rep
}

// printBenchSVM prints the report as text.
func printBenchSVM(w io.Writer, rep benchSVMReport, ev *distill.Evaluation) {
	fmt.Fprintf(w, "data:            %s (%d classes, %d fitted, %d skipped %v)\n", rep.Data, rep.NClasses, rep.NClassesFit,
		len(rep.SkippedClasses), rep.SkippedReasons)
	fmt.Fprintf(w, "status:          %s (%d warnings)\n", rep.Status, len(rep.Warnings))
	fmt.Fprintf(w, "backend:         %s\n", rep.Backend)
	fmt.Fprintf(w, "fit wall:        %.3f s (pre-processing %.3f s, solver %.3f s; %d problems, %d lock-step iterations, %d not converged)\n",
		rep.FitWallS, rep.PreprocessS, rep.SolveS, rep.Problems, rep.LockstepIterations, rep.NotConverged)
	fmt.Fprintf(w, "machine load:    %s before; other processes used %.2f cores during the fit; this one %.2f CPU s\n",
		rep.LoadAvgBefore, rep.FitOthersCores, rep.FitCPUS)
	fmt.Fprintf(w, "mean CV bal acc: %.4f   best C: %v\n", rep.MeanCVBalancedAcc, rep.BestCHist)
	fmt.Fprintf(w, "test bal acc:    global %.4f, mean per class %.4f (accuracy %.4f; error precision %.3f, recall %.3f; AUROC %.4f)\n",
		rep.TestBalancedAccGlobal, rep.TestBalancedAccMeanPerClass, rep.TestAccGlobal, rep.TestPrecisionGlobal,
		rep.TestRecallGlobal, rep.TestAUROCMeanPerClass)
	if r := rep.Reference; r != nil {
		fmt.Fprintf(w, "vs reference:    same C in %d of %d classes (%.1f%%; fitted only here %d, only there %d); Spearman of test decisions pooled %.4f, mean per class %.4f (%d constant classes left out)\n",
			r.CAgree, r.ClassesWithClassifier, 100*r.CAgreement, r.FittedOnlyHere, r.FittedOnlyThere, r.SpearmanPooled,
			r.SpearmanMeanPerClass, r.ConstantClasses)
	}
	if ev.Surfacing != nil {
		fmt.Fprintln(w, "top-K minority:  K      SVM  confidence  random")
		for _, p := range ev.Surfacing.Points {
			fmt.Fprintf(w, "                 %-5d %.3f  %.3f       %.3f\n", p.K, p.SVM, p.Confidence, p.Random)
		}
	}
}

// compareWithReference reads fit_svm_ref.py's JSON (per-class best C under "per_class" or
// "per_class_summary") and its decisions_<data>_<method>.npy, and compares them with ours.
func compareWithReference(path string, ourC []*float64, labels []int, ours []float32) (*refComparison, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ref struct {
		Data     string `json:"data"`
		Method   string `json:"method"`
		PerClass []struct {
			BestC *float64 `json:"best_C"`
		} `json:"per_class"`
		Summary *struct {
			BestC []*float64 `json:"best_C"`
		} `json:"per_class_summary"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var refC []*float64
	if ref.Summary != nil {
		refC = ref.Summary.BestC
	} else {
		for _, p := range ref.PerClass {
			refC = append(refC, p.BestC)
		}
	}
	if len(refC) == 0 {
		return nil, fmt.Errorf("%s: no per-class best C (per_class or per_class_summary)", path)
	}
	decPath := filepath.Join(filepath.Dir(path), "decisions_"+strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "svm_"), ".json")+".npy")
	arr, err := npy.Load(decPath)
	if err != nil {
		return nil, fmt.Errorf("reference decisions: %w", err)
	}
	refDec, err := arr.Float64()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", decPath, err)
	}
	if len(refDec) != len(ours) {
		return nil, fmt.Errorf("%s: %d decision values, this test split has %d", decPath, len(refDec), len(ours))
	}
	r := &refComparison{File: path, Decisions: decPath}
	both := map[int]bool{}
	for c, rc := range refC {
		var oc *float64
		if c < len(ourC) {
			oc = ourC[c]
		}
		switch {
		case rc != nil && oc != nil:
			r.ClassesWithClassifier++
			both[c] = true
			if math.Abs(*rc-*oc) <= 1e-9*math.Abs(*rc) {
				r.CAgree++
			}
		case rc != nil:
			r.ClassesWithClassifier++
			r.FittedOnlyThere++
		case oc != nil:
			r.FittedOnlyHere++
		}
	}
	if r.ClassesWithClassifier > 0 {
		r.CAgreement = float64(r.CAgree) / float64(r.ClassesWithClassifier)
	}
	a, b := make([]float64, len(ours)), make([]float64, len(ours))
	byClass := map[int][]int{}
	for i := range ours {
		a[i], b[i] = float64(ours[i]), refDec[i]
		if both[labels[i]] {
			byClass[labels[i]] = append(byClass[labels[i]], i)
		}
	}
	r.SpearmanPooled = distill.Spearman(a, b)
	var sum float64
	var n int
	for _, idx := range byClass {
		ca, cb := make([]float64, len(idx)), make([]float64, len(idx))
		for j, i := range idx {
			ca[j], cb[j] = a[i], b[i]
		}
		rho := distill.Spearman(ca, cb)
		if math.IsNaN(rho) {
			r.ConstantClasses++
			continue
		}
		sum += rho
		n++
	}
	if n > 0 {
		r.SpearmanMeanPerClass = sum / float64(n)
	}
	return r, nil
}

func parseKs(s string, nc int) ([]int, error) {
	if s == "" {
		if nc <= 10 {
			return []int{50, 100, 200}, nil
		}
		return []int{10}, nil
	}
	var ks []int
	for _, f := range strings.Split(s, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || k <= 0 || k > 1_000_000 {
			return nil, cli.Usagef("-ks: %q is not an integer in [1, 1000000]", f)
		}
		ks = append(ks, k)
	}
	sort.Ints(ks)
	return ks, nil
}

// readLoadAvg returns the 1, 5 and 15 minute load averages from /proc/loadavg ("" elsewhere).
func readLoadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// machineBusySeconds returns the CPU seconds all processes spent busy since boot (user+nice+system+irq+softirq+
// steal from /proc/stat), or −1 where unavailable.
func machineBusySeconds() float64 {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return -1
	}
	fields := strings.Fields(sc.Text())
	if len(fields) < 8 || fields[0] != "cpu" {
		return -1
	}
	var busy float64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		if i < len(fields) {
			v, _ := strconv.ParseFloat(fields[i], 64)
			busy += v
		}
	}
	return busy / 100 // USER_HZ is 100 on Linux
}

// selfCPUSeconds returns this process's user+system CPU seconds.
func selfCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
