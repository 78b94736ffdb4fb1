package benchmark

import "math"

// Summary is the benchmark's table: per method, the mean of every metric over the settings and the number of
// settings it wins, over all settings and over those whose planted slices fail; and the second-direction
// judgement of the several-direction finders.
type Summary struct {
	Ks      []int    `json:"ks"`
	Methods []string `json:"methods"`
	// All covers every setting; Failing the settings whose base model fails on the planted slices
	// (BaseResult.Fails).
	All     Table `json:"all"`
	Failing Table `json:"failing"`
	// Second has one entry per several-direction finder.
	Second []SecondSummary `json:"second,omitempty"`
}

// Table summarises the methods over a set of settings.
type Table struct {
	// Settings is the number of settings summarised; Rows has one row per method, in Summary.Methods order.
	Settings int   `json:"settings"`
	Rows     []Row `json:"rows"`
	// CaptionChance is the mean of the settings' caption chance levels (see SettingResult.CaptionChance).
	CaptionChance float64 `json:"caption_chance"`
}

// Row is one method's line of a [Table].
type Row struct {
	Method string `json:"method"`
	// Mean holds the means over the settings.
	Mean Metrics `json:"mean"`
	// Wins counts, per metric, the settings where the method has the best value; tied best values (within
	// 1e-9) all count as wins, so a column's wins can sum to more than the settings.
	Wins Wins `json:"wins"`
}

// Metrics are the summarised metrics (see [MethodResult]).
type Metrics struct {
	PrecisionAtK     []float64 `json:"precision_at_k"`
	CurveArea        float64   `json:"curve_area"`
	FlaggedPrecision float64   `json:"flagged_precision"`
	FlaggedRecall    float64   `json:"flagged_recall"`
	FlaggedF1        float64   `json:"flagged_f1"`
	CaptionNames     float64   `json:"caption_names"`
}

// Wins counts the settings won on each metric: precision at each K, curve area, flagged-set F1 and captions
// naming the planted attribute.
type Wins struct {
	PrecisionAtK []int `json:"precision_at_k"`
	CurveArea    int   `json:"curve_area"`
	FlaggedF1    int   `json:"flagged_f1"`
	CaptionNames int   `json:"caption_names"`
}

// SecondSummary counts, for a several-direction finder, the classes with two planted slices: how many have a
// second direction, in how many it finds the second slice (at least half of its SecondK first-ranked test
// examples), and in how many its hard caption names the second slice; with the mean share of the second slice
// among the SecondK first-ranked examples of each direction.
type SecondSummary struct {
	Method       string `json:"method"`
	Classes      int    `json:"classes"`
	WithSecond   int    `json:"with_second"`
	Found        int    `json:"found"`
	CaptionNames int    `json:"caption_names"`
	// FirstOnSecond is the mean share of the second slice among the first direction's SecondK (how much the
	// first direction already surfaces it); SecondOnSecond the same for the second direction (0 where none).
	FirstOnSecond  float64 `json:"first_on_second"`
	SecondOnSecond float64 `json:"second_on_second"`
}

// Summarize builds the summary of settings' results for the methods (their order in each setting's Methods).
func Summarize(settings []SettingResult, ks []int, methods []string) Summary {
	s := Summary{Ks: ks, Methods: methods}
	var failing []SettingResult
	for _, sr := range settings {
		if sr.Base.Fails {
			failing = append(failing, sr)
		}
	}
	s.All = table(settings, len(ks), methods)
	s.Failing = table(failing, len(ks), methods)
	for j, m := range methods {
		var ss *SecondSummary
		var first, second []float64
		for _, sr := range settings {
			r := sr.Methods[j]
			for _, c := range r.Second {
				if ss == nil {
					ss = &SecondSummary{Method: m}
				}
				ss.Classes++
				other := 1 - c.First
				first = append(first, c.FirstPrecision[other])
				second = append(second, c.SecondPrecision[other])
				if c.HasSecond {
					ss.WithSecond++
				}
				if c.Found {
					ss.Found++
				}
				if c.CaptionNames {
					ss.CaptionNames++
				}
			}
		}
		if ss != nil {
			ss.FirstOnSecond, ss.SecondOnSecond = mean(first), mean(second)
			s.Second = append(s.Second, *ss)
		}
	}
	return s
}

// table summarises the settings.
func table(settings []SettingResult, nk int, methods []string) Table {
	t := Table{Settings: len(settings)}
	for _, m := range methods {
		t.Rows = append(t.Rows, Row{Method: m, Mean: Metrics{PrecisionAtK: make([]float64, nk)}, Wins: Wins{PrecisionAtK: make([]int, nk)}})
	}
	if len(settings) == 0 {
		return t
	}
	n := float64(len(settings))
	// values returns each method's value of one metric in setting sr.
	win := func(sr SettingResult, get func(MethodResult) float64, count func(*Wins)) {
		best := math.Inf(-1)
		for _, r := range sr.Methods {
			best = max(best, get(r))
		}
		for j, r := range sr.Methods {
			if get(r) >= best-1e-9 {
				count(&t.Rows[j].Wins)
			}
		}
	}
	for _, sr := range settings {
		t.CaptionChance += sr.CaptionChance / n
		for j, r := range sr.Methods {
			mm := &t.Rows[j].Mean
			for k := range nk {
				mm.PrecisionAtK[k] += r.PrecisionAtK[k] / n
			}
			mm.CurveArea += r.CurveArea / n
			mm.FlaggedPrecision += r.FlaggedPrecision / n
			mm.FlaggedRecall += r.FlaggedRecall / n
			mm.FlaggedF1 += r.FlaggedF1 / n
			mm.CaptionNames += r.CaptionNames / n
		}
		for k := range nk {
			win(sr, func(r MethodResult) float64 { return r.PrecisionAtK[k] }, func(w *Wins) { w.PrecisionAtK[k]++ })
		}
		win(sr, func(r MethodResult) float64 { return r.CurveArea }, func(w *Wins) { w.CurveArea++ })
		win(sr, func(r MethodResult) float64 { return r.FlaggedF1 }, func(w *Wins) { w.FlaggedF1++ })
		win(sr, func(r MethodResult) float64 { return r.CaptionNames }, func(w *Wins) { w.CaptionNames++ })
	}
	return t
}
