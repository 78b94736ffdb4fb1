// Package intervene closes the paper's loop (§6 of "Distilling Model Failures as Directions in Latent Space"):
// the failure directions fitted on validation choose or reweight training data, the base model is retrained from
// scratch, and the retrained models are compared on their worst groups.
//
//	p, err := experiment.New(nil, experiment.Spec{Data: experiment.FashionSpurious, Majority: 0.95}, experiment.Options{})
//	res, err := intervene.Run(ctx, p, intervene.Options{Ks: []int{100, 200}, Out: "results/interventions"})
//	err = res.Write("results/interventions") // interventions.json, timing.json, charts, report.html
//	err = res.Fprint(os.Stdout)              // mean ± std over seeds per method and budget
//
// The protocol, as the reference code runs it:
//
//   - The per-class SVMs are fitted once, on validation, with the base model of the spec's seed (package
//     experiment's Fit stage). Each training and pool example is scored by the decision value of its true class's
//     SVM (negative: predicted failure, "flagged").
//   - Pool selection ([Selector]; the CIFAR interventions): per class, the K pool examples with the lowest decision
//     value (svm), the K with the lowest base-model confidence in the true class (confidence), or K at random
//     (random, seeded by the run's seed) — the same budget for every class and method — are added to the training
//     set with their labels ([Lowest], [Random]). A class without an SVM gets random examples under svm.
//   - Reweighting ([Scheme]; the CelebA intervention): per-example loss weights from the training set's decision
//     values — overweight_2, balanced, soft ([Weights]) — and the oracle, overweight_2 and balanced with the true
//     minority groups as the flagged examples ([OracleWeights]). The loss is the weighted mean of the per-example
//     cross-entropies (package models rescales the weights to mean 1).
//   - Every method (and the unchanged base model, "base") is retrained from scratch for each seed with the spec's
//     recipe through experiment.Pipeline.TrainBase, which caches each run by a fingerprint of its data, settings,
//     seed, weights and added examples: a rerun loads finished runs, an interrupted run resumes. Each run's
//     selection ("runs/selection-*.csv": the pool ids chosen with their decision value and confidence) or weights
//     ("runs/weights-*.csv", id,weight — usable as a spec's weights file) is saved under Options.Out.
//   - Each retrained model is evaluated on test: overall accuracy, per-group, worst-group and minority accuracy
//     (when the data has ground-truth groups), and hard-subset accuracy — per class, the Spec.CaptionK test images
//     nearest the class's hardest caption in the CLIP space, the measure the paper uses without group labels
//     (when the analysis has captions). [Result.Summary] gives mean ± std over seeds per method and budget;
//     [Result.Comparisons] judges SVM selection against random on minority accuracy (else hard subset): it beats
//     random when its mean exceeds random's by more than the larger of the two standard deviations.
//
// Training is deterministic for a seed, so the same spec and options give the same interventions.json byte for byte;
// timings go to timing.json.
package intervene
