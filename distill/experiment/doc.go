// Package experiment is the staged, cached pipeline of the failure-direction method for any data source, base
// model and latent space.
//
//	p, err := experiment.New(nil, experiment.Quickstart(), experiment.Options{}) // nil: package backend's choice
//	defer p.Close()
//	err = p.WriteOutputs(ctx, "results/quickstart") // every stage; summary.json, figures, report.html, ...
//
// A [Spec] names everything (plain data, a JSON file, or `faildirs analyze` flags):
//
//   - the data: the planted Fashion-MNIST experiments (fashion-spurious, fashion-rare), CelebA's age task, an
//     ILSVRC2012-layout ImageNet folder, or any folder of class folders (package data); each knows its image
//     size, classes, ground-truth groups when it has them, and is fingerprinted for the caches;
//   - the base model: trained here in GoMLX (mlp, cnn, resnet18; optional per-example training weights, which
//     enter its cache key; [Pipeline.TrainBase] retrains with weights or added pool examples), or predictions
//     CSVs "id,label,pred,conf[,group]" from any framework, which then define the splits (id = the image path
//     relative to the data folder);
//   - the latent space: a CLIP in the HF layout (hub id or folder; ViT-B/32 by default), the tiny CLIP trained
//     offline on Fashion-MNIST, an untrained CLIP for smoke tests, or the base model's penultimate features;
//     embedding files written by `faildirs embed --shard i/n` can stand in for embedding here;
//   - the caption vocabulary: the source's own (Fashion, CelebA and ImageNet as the reference code has them) or
//     the user's word lists ([WordLists]);
//   - the SVM fit options and the evaluations.
//
// Stages (each method runs what it needs first; results are fields of [Pipeline]): LoadData, BaseModel,
// LoadLatent, Embed, Fit, Captions, CaptionCheck. The expensive ones are cached under Spec.Work, keyed by
// fingerprints of everything they depend on, so a rerun (or the next notebook cell, a fresh program under GoNB)
// reloads them: the base model's checkpoint and predictions, and the image embeddings in package clip's
// resumable cache (Ctrl-C saves it; a rerun continues). Every stage is timed.
//
// Embeddings are fed to the method raw, image and text alike (no L2 normalisation before the SVMs' own whitening
// and normalisation), as the reference code does.
//
// [Pipeline.Summary] gathers the results (summary.json): the base model's accuracy per group, each class's SVM,
// and, when the data has ground-truth groups, the paper's surfacing metrics — the top-K minority-fraction curves
// (SVM vs confidence vs base rate, K = 10, 20, … up to the class size) and the flagged set's minority precision
// and recall next to the minority share of the base model's errors — on the test split as it is (the natural mix)
// and on two resampled views (group-balanced, and the training mix); the hard and easy captions and the caption
// check. [Pipeline.WriteOutputs] writes summary.json, the fitted model (model.json), decisions.csv, captions.json,
// PNG figures and a self-contained report.html. [WritePage] writes other results (the benchmark's) as a page in
// the same style, from [Section]s and [Figure.HTML].
package experiment
