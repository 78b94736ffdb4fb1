package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
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
	"github.com/faildirs/faildirs/internal/atomicfile"
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
	Env                         map[string]string                 `json:"env"`
}

func runBenchSVM(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench-svm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data", "", "folder of {train,val,test}_{features,labels,preds,confidence,subgroup}.npy (features float [N,D], the rest [N])")
	ksFlag := fs.String("ks", "", "comma-separated K of the top-K surfacing (default 50,100,200 with ≤10 classes, else 10)")
	jsonOut := fs.String("json", "", "write the report as JSON to this file")
	decOut := fs.String("decisions", "", "write the test decision values (float32 .npy, test order) to this file")
	modelOut := fs.String("model", "", "save the fitted model to this file")
	tol := fs.Float64("tol", 0, "solver tolerance: relative duality gap (default 1e-3)")
	maxIter := fs.Int("max-iter", 0, "solver iteration limit (default 5000)")
	showProgress := fs.Bool("progress", false, "show a progress bar of the solved SVM problems")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the fit to this file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: faildirs bench-svm --data DIR [--ks 50,100,200] [--json FILE] [--decisions FILE.npy]")
		fmt.Fprintln(stderr, "\nFits the failure SVMs (paper recipe, batched GoMLX solver) on DIR's val split, whitening with")
		fmt.Fprintln(stderr, "train's statistics, and reports fit time and test metrics comparable with scikit-learn's SVC on the same data.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dataDir == "" || fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("--data is required and no positional arguments are accepted")
	}
	splits, err := loadBenchSplits(*dataDir)
	if err != nil {
		return err
	}
	test := splits["test"]
	b, info, err := backend.New(backend.Options{})
	if err != nil {
		return err
	}
	defer b.Finalize()

	opts := distill.DefaultOptions()
	opts.Solver.Tol, opts.Solver.MaxIter = *tol, *maxIter
	opts.Progress = io.Discard
	if *showProgress {
		opts.Progress = stderr
	}
	nc := max(splits["val"].NumClasses(), test.NumClasses())
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
	model, err := distill.Fit(b, splits["train"], splits["val"], opts)
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
	printBenchSVM(stdout, rep, ev)
	if *jsonOut != "" {
		data, err := json.MarshalIndent(rep, "", " ")
		if err != nil {
			return err
		}
		if err := atomicfile.WriteBytes(*jsonOut, append(data, '\n')); err != nil {
			return err
		}
	}
	if *decOut != "" {
		if err := distill.SaveNPYFloat32(*decOut, ev.Decisions); err != nil {
			return err
		}
	}
	if *modelOut != "" {
		if err := model.Save(*modelOut); err != nil {
			return err
		}
	}
	return nil
}

// loadBenchSplits reads the train, val and test splits of a benchmark folder; test needs labels and predictions.
func loadBenchSplits(dir string) (map[string]distill.Split, error) {
	splits := map[string]distill.Split{}
	for _, name := range []string{"train", "val", "test"} {
		s, _, err := distill.LoadNPYSplit(dir, name)
		if err != nil {
			return nil, err
		}
		splits[name] = s
	}
	if test := splits["test"]; len(test.Labels) == 0 || len(test.Preds) == 0 {
		return nil, fmt.Errorf("%s: test labels and predictions are required", dir)
	}
	return splits, nil
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
		PreprocessS: stats.Preprocess.Seconds(), SolveS: stats.Solve.Seconds(), Problems: stats.Problems,
		LockstepIterations: stats.LockstepIterations, NotConverged: stats.NotConverged,
		SkippedClasses: ev.Skipped, SkippedReasons: map[string]int{}, BestCHist: map[string]int{},
		TestBalancedAccGlobal: ev.Global.BalancedAccuracy, TestAccGlobal: ev.Global.Accuracy,
		TestBalancedAccMeanPerClass: ev.MeanPerClass.BalancedAccuracy, TestAUROCMeanPerClass: ev.MeanPerClass.AUROC,
		TestPrecisionGlobal: ev.Global.Precision, TestRecallGlobal: ev.Global.Recall,
		TopKSurfacing: map[string]distill.SurfacingPoint{},
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
			continue
		}
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
	fmt.Fprintf(w, "backend:         %s\n", rep.Backend)
	fmt.Fprintf(w, "fit wall:        %.3f s (pre-processing %.3f s, solver %.3f s; %d problems, %d lock-step iterations, %d not converged)\n",
		rep.FitWallS, rep.PreprocessS, rep.SolveS, rep.Problems, rep.LockstepIterations, rep.NotConverged)
	fmt.Fprintf(w, "machine load:    %s before; other processes used %.2f cores during the fit; this one %.2f CPU s\n",
		rep.LoadAvgBefore, rep.FitOthersCores, rep.FitCPUS)
	fmt.Fprintf(w, "mean CV bal acc: %.4f   best C: %v\n", rep.MeanCVBalancedAcc, rep.BestCHist)
	fmt.Fprintf(w, "test bal acc:    global %.4f, mean per class %.4f (accuracy %.4f; error precision %.3f, recall %.3f; AUROC %.4f)\n",
		rep.TestBalancedAccGlobal, rep.TestBalancedAccMeanPerClass, rep.TestAccGlobal, rep.TestPrecisionGlobal,
		rep.TestRecallGlobal, rep.TestAUROCMeanPerClass)
	if ev.Surfacing != nil {
		fmt.Fprintln(w, "top-K minority:  K      SVM  confidence  random")
		for _, p := range ev.Surfacing.Points {
			fmt.Fprintf(w, "                 %-5d %.3f  %.3f       %.3f\n", p.K, p.SVM, p.Confidence, p.Random)
		}
	}
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
		if err != nil || k <= 0 {
			return nil, fmt.Errorf("--ks: %q is not a positive integer", f)
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
