// Package models holds the base classifiers whose failures faildirs explains, in GoMLX: an MLP (the fastest), a
// small CNN built from im2col convolutions so it trains on the Go backend, and ResNet-18 (for CelebA at 64–75 px,
// on a GPU in practice).
//
//	m, err := models.New(b, models.Config{Arch: models.MLP, NumClasses: 2, H: 28, W: 28}, seed)
//	stats, err := m.Train(ctx, ds.Train, models.TrainOptions{Epochs: 20})
//	out, err := m.Predict(ctx, ds.Test, models.PredictOptions{}) // out.Preds, out.Conf, out.Probs
//	err = m.Save("model.safetensors")                            // models.Load(b, path) reads it back
//
// A [Classifier] is built from a [Config] (stored in checkpoints) and trained with [Classifier.Train]: Adam on a
// softmax cross-entropy loss with optional per-example weights (for interventions), seeded initialisation and
// example order, one progress-bar step per batch, an optional evaluation and checkpoint after every epoch.
// [Classifier.Predict] returns, for every example, the predicted class, the softmax probability of the true class
// (the confidence baseline of the paper) and optionally the penultimate features. [Classifier.Save] and [Load]
// (or [Classifier.Write] and [Read]) use a safetensors file with the configuration in its metadata.
//
// On the Go backend convolutions are computed as im2col + matmul with zero padding by concatenation, and max
// pooling as reshape + ReduceMax or a maximum of strided slices, because the backend's native convolution is slow
// and MaxPool and Pad have no gradient there (README, "Go backend notes"); other backends use their native
// convolution. Both share the same kernel variables. Batch normalisation is written here, differentiating
// through the batch statistics (GoMLX's layer stops their gradient, which made ResNet training drift upwards in
// loss).
package models
