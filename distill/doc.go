// Package distill implements the method of "Distilling Model Failures as Directions in Latent Space" (Jain,
// Lawrence, Moitra, Madry, ICLR 2023) on latent vectors (e.g. CLIP image embeddings): for every class, a linear
// SVM trained on the validation split predicts from an example's latent vector whether the base model classifies
// it correctly; its normal vector is the class's failure direction, its decision value ranks examples from
// "hard" (negative, predicted failure) to "easy".
//
//	train := distill.Split{Name: "train", Latents: trainEmb}          // matrix.Dense, one row per image
//	val := distill.Split{Name: "val", Latents: valEmb, Labels: labels, Preds: preds}
//	m, err := distill.Fit(nil, train, val, distill.DefaultOptions())  // nil: package backend picks the backend
//	dec, err := m.Decision(test)                                      // < 0: predicted failure
//	hard, easy, err := m.Extremes(test, class, 10)                    // indices into test
//	err = m.Save("failure-model.json")                                // distill.Load reads it back
//
// The recipe follows the reference code (MadryLab/failure-directions):
//
//   - [FitWhitening]: per-feature mean and standard deviation (unbiased) of the train split; every vector is
//     whitened with them and scaled to unit L2 norm. Constant features are mapped to 0 and all-zero rows stay
//     zero, so nothing becomes NaN.
//   - [Fit]: per class, an SVM on that class's validation examples, target "base model correct" (+1) against
//     "wrong" (−1), class-balanced weights n / (2·count), objective ½‖w‖² + C Σ s_i max(0, 1 − y_i(w·x_i + b)).
//     C comes from {1e-6, …, 1} by 2-fold stratified cross-validation (scikit-learn's fold assignment,
//     [StratifiedFolds]) on balanced accuracy, then the SVM is refit on all of the class's validation data.
//     Every class × C × fold problem and every refit is solved in one batched GoMLX computation (package svm),
//     to a certified relative duality gap (default 1e-3).
//   - [FailureModel.Decision]: w·x + b of each example's own class; [FailureModel.Direction]: w/‖w‖;
//     [FailureModel.Extremes]: the most negative (hard) and most positive (easy) examples of a class;
//     [FailureModel.DecisionFor]: the same SVM applied to arbitrary vectors, e.g. CLIP text embeddings of
//     captions (the hard caption describes how the failing images look).
//   - [FitSequential]: several failure directions per class, each fitted with the earlier ones projected out on
//     the validation examples they do not flag, until cross-validation shows no more signal (a second failure
//     mode of a class; not in the paper).
//   - Evaluation: [ErrorPrediction] (accuracy, balanced accuracy, precision, recall, AUROC of predicting the base
//     model's errors, globally and per class) and [Surfacing] (the paper's metric: share of a known subgroup among
//     the K most negative decision values of each class, against the base model's confidence and random
//     selection), both plain functions; [FailureModel.Evaluate] combines them.
//   - Subgroup surfacing as the reference's CelebA notebook reports it, for any number of minority groups:
//     [TopKCurves] (minority fraction among the top K by decision value, by confidence and at the base rate, for
//     K = 10, 20, … per class and pooled) and [FlaggedMinority] (minority precision and recall of the flagged set,
//     decision ≤ 0, next to the minority share of the base model's errors); [FailureModel.EvaluateSubgroups] runs both.
//
// Choices where the reference code is silent or fails:
//
//   - A class with no errors, only errors, or fewer errors (or correct predictions) than folds gets no SVM and a
//     [Status] saying why; its examples get decision 0 (counted as predicted failures, as in the reference). A
//     class without validation examples has status "no-data".
//   - Cross-validation ties go to the larger C, and where the optimal bias is not unique (small C) the solver
//     returns any optimal one. The reference keeps the smallest C on ties, and libsvm's bias rule, rounding
//     included, makes its predictions constant below C ≈ 0.01 on small classes (cross-validated balanced accuracy
//     exactly 0.5), so many small classes end at C = 1e-6 with the class-mean-difference direction.
//     Options.Compat = [CompatReference] reproduces both (ties to the smaller C; libsvm's bias, see package svm,
//     on the reference's bit-exact grid [ReferenceCs]); the project README lists the agreement measured.
//   - A predicted failure is a decision value ≤ 0 (scikit-learn's SVC predicts the positive class only for
//     decision > 0).
//   - Degenerate data is reported, not fitted silently: [FailureModel.Warnings] says when no class has a failure
//     signal ([FailureModel.NoFailureSignal]) or some train features are constant; all features constant is an
//     error. The class count comes from Options.NumClasses when declared; otherwise from the largest label, which
//     must not exceed the number of validation examples (at most [MaxClasses]).
//   - [FitContext] stops the fit when its context is cancelled.
//
// Models are saved as versioned JSON ([FailureModel.Save] / [FailureModel.Write], read by [Load] / [Read]);
// splits in the benchmark's .npy layout are read by [LoadNPYSplit] (through package npy, which checks every
// header against the file's size; a <split>_correct.npy that disagrees with preds == labels is a warning).
package distill
