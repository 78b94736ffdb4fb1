// Package tinyclip trains a tiny CLIP offline on Fashion-MNIST, so the failure-direction pipeline (embeddings,
// captions, caption check) runs without downloading OpenAI's CLIP.
//
// The model is the [clip] package's CLIP with a small configuration ([Recipe.Config]: 28 px images in 7 px
// patches, two 64-wide layers per tower with ReLU MLPs, 64-d embeddings by default), trained from scratch with
// Adam (linear warm-up, cosine decay) on a symmetric contrastive loss with a learned logit scale. The pairs are
// Fashion-MNIST train images, each tinted with a palette colour exactly as the data package's planted
// experiments tint images ([data.TintGray]) or left gray, and a generated caption: one of several templates ("a
// photo of a red sneaker", "a picture of a sneaker in red", ...), item synonyms from the caption package, and
// often only the item or only the colour, so that each concept is learned on its own. Generated captions repeat
// within a batch, so the loss counts every caption that is true of an image as a positive
// ([MultiPositiveLoss]); with distinct captions it is CLIP's loss. Each step's batch is split into
// [Options.Replicas] contrastive batches whose gradients are computed concurrently and averaged into one Adam step
// (data parallelism: on the Go backend one execution of this small model keeps about one core busy).
//
// The tokenizer is CLIP's byte-level BPE with merges learned from the generated captions ([NewTokenizer]): every
// caption word is one token and the vocabulary has a few hundred entries. Words outside it still tokenize, into
// pieces the model never trained on, so only the words of this package's captions (the caption package's Fashion
// nouns and colours, the templates' words) are meaningful to the tiny CLIP. The context length stays 77, so the
// clip package's text pipeline applies unchanged.
//
// [Save] writes the HF layout (config.json, model.safetensors, preprocessor_config.json, vocab.json, merges.txt,
// tokenizer configs) plus a training record (tinyclip.json); clip.LoadDir reads the folder like any CLIP. [Ensure]
// keeps trained models under the user cache dir, named by the fingerprint of the [Recipe] (seed, steps, sizes,
// ...), and trains only when the folder is missing. [Evaluate] measures zero-shot item and colour accuracy on the
// tinted test set.
//
// Untinted (gray) images equal images tinted "white" pixel for pixel, so they are labelled white. Training is
// deterministic given the seed and the backend. On the pure Go backend, training needs the node-sequential
// schedule that the backend package gives it ("go:ops_sequential"; see the README's "Go backend notes").
//
//	dir, err := tinyclip.Ensure(ctx, nil, tinyclip.Options{}) // trains once (minutes), then reuses the cache
//	m, err := clip.LoadDir(nil, dir)
package tinyclip
