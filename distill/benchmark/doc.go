// Package benchmark measures slice finders on many planted problems nobody tuned for: N settings generated from
// Fashion-MNIST from one seed, each a task with planted slices (spurious colours or rare subclasses, one or two
// per class), a base model trained on it, and every finder run on the same embeddings, labels, predictions and
// confidences, measured against the planted slices.
//
//	res, err := benchmark.Run(ctx, nil, benchmark.Options{Settings: 40, Seed: 2027}) // nil: package backend's choice
//	err = res.Write("results/benchmark")                                              // benchmark.json, charts, report.html
//	fmt.Println(res.Summary.All.Rows[0].Mean.PrecisionAtK)
//
// The parts:
//
//   - Settings ([Generate]): kinds in turn — spurious (two items, two colours, majority:minority ratio 3:1 to
//     9:1 in train), spurious-triple (three items and colours; each class's minority wears the two other
//     colours: two slices per class), rare (two or three superclasses of two or three gray items, one rare
//     member each at a fraction 0.02–0.10 of a common member's train count) and rare-two (one superclass with two
//     rare members); every choice drawn from the seed and the setting's index. Validation is group-balanced,
//     test a natural mix (a third of each class is its slices). The data are built by data.Planted.
//   - Embeddings: one CLIP image embedding (the default tiny CLIP, or any) of every (Fashion-MNIST image, tint)
//     any setting uses, computed once and cached under Options.Work (one file per Fashion-MNIST file and tint),
//     shared by all settings; a rerun computes none.
//   - Base model: an MLP per setting (package models), trained on the setting's train split, seeded.
//   - Finders ([Finder]), the same [Input] for all: failure directions ([FailureDirections], default and
//     reference-compatible), several failure directions per class ([KDirections], distill.FitSequential), an
//     error-aware Gaussian mixture in the style of Domino ([Domino], [FitMixture]), the base model's confidence
//     ([Confidence], the paper's baseline) and [Random]. Each returns per test example a score (lower = more in
//     its class's failure slice), a flagged set and, where it can, a caption scorer; captions of non-SVM finders
//     describe the mean of their slice as Domino does.
//   - Metrics per setting and finder ([MethodResult]): precision at K (10, 25, 50) of the planted slices, the
//     area under the top-K minority curve, the flagged set's precision and recall, whether the hard caption names
//     the planted attribute; for several-direction finders, whether the second direction finds a class's second
//     planted slice ([SecondSlice]). [Summarize] gives the means and wins per method over all settings and over
//     those whose slices make the base model fail.
//
// Results are deterministic: the same options, Fashion-MNIST and CLIP give the same benchmark.json byte for byte
// ([Result.Write]); timings go to timing.json.
package benchmark
