// Package clip is CLIP in GoMLX: the ViT image tower, the causal text tower, both projections and the logit
// scale, loaded from Hugging Face checkpoints (openai/clip-vit-base-patch32 by default; ViT-B/16, ViT-L/14 and
// anything else in the same layout work), with OpenAI's tokenizer and preprocessing, and a batched, cached
// embedder for notebooks and the CLI.
//
// # Loading
//
//	// nil backend: package backend chooses; the source may also be a local folder.
//	m, err := clip.Load(ctx, nil, "openai/clip-vit-base-patch32", clip.LoadOptions{})
//	res, err := m.EmbedImages(ctx, clip.Files(paths), clip.EmbedOptions{}) // res.Embeddings: one row per image
//	txt, err := m.EmbedTexts(ctx, []string{"a photo of a cat"}, clip.EmbedOptions{Normalize: true})
//
// A folder needs config.json (HF CLIPConfig; absent keys take HF's defaults, text_config_dict/vision_config_dict
// are merged over text_config/vision_config, the legacy eos_token_id 2 of the hub configs selects argmax
// pooling), model.safetensors or sharded safetensors with an index (F32, F16 or BF16; extra entries such as the
// I64 position_ids buffers are ignored; a missing or mis-shaped tensor is an error naming it), and optionally
// tokenizer.json or vocab.json + merges.txt and preprocessor_config.json. A repository id is fetched into the HF
// cache shared with Python (HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE/HF_HOME, HF_HUB_OFFLINE; see [LoadOptions]); an
// already filled cache works offline. [NewRandom] builds a model with fresh weights for any [Config]
// ([ViTB32Config], [TinyConfig]); [Model.Save] writes the HF layout back (config.json, model.safetensors,
// tokenizer files, preprocessor_config.json), which [LoadDir] and HF's from_pretrained read.
//
// # Graphs and training
//
// The weights live in a GoMLX model.Store, each under [VariablePath] of its HF name, with PyTorch's [out, in]
// linear layout. [ImageFeatures] and [TextFeatures] build the towers with graph ops on those variables, so
// gradients flow and the same code trains a small CLIP ([Logits], [ContrastiveLoss]). The patch embedding is a
// reshape + matmul ([PatchesFromPixels]), not a convolution, and q/k/v use one fused matmul. The forward pass
// matches OpenAI's reference on the golden fixtures in testdata to about 1e-5.
//
// On the Go backend each batch is split into two row blocks executed concurrently with the same compiled graph
// (Model.Streams), so that one block's single-threaded element-wise work overlaps the other's multi-threaded
// matmuls; results do not depend on it. The README lists measured tower speeds and the command that measures
// them (`faildirs bench-clip`).
//
// # Embedding
//
// [Model.EmbedImages] decodes and preprocesses images ([Files], [Images], [Uint8HWC] or any [ImageSource]) on
// worker goroutines one batch ahead of the model, runs full batches (the last one padded, so one compiled graph
// serves all), shows a progress bar (terminal, log lines, or HTML in GoNB; EmbedOptions.Progress), and skips
// and reports unreadable images when asked (otherwise the first one is an error naming it). Embeddings are the
// projected features, not L2-normalised unless EmbedOptions.Normalize is set (HF get_image_features /
// get_text_features). [Model.EmbedTexts] sorts texts by length and cuts each batch after its last EOS (exact,
// since attention is causal). Both implement [Embedder], which the pipeline uses so that a small CLIP trained
// offline or another model can stand in; [TextEncoder] fixes the options of an Embedder's text side.
//
// # Embedding cache
//
// With EmbedOptions.CachePath, image embeddings are kept in one safetensors file per (image set, model):
//
//	tensors:  "embeddings" F32 [N, E]  rows in source order (zeros where not done)
//	          "status"     U8  [N]     0 pending, 1 done, 2 failed
//	metadata: "format" = "faildirs-clip-embeddings", "version" = "1",
//	          "model", "model_revision", "model_fingerprint" (SHA-256 of config, preprocessing and all weights),
//	          "preprocess" (description), "inputs_fingerprint" (SHA-256 of the ordered image identities: path,
//	          size and modification time for files, a content hash for in-memory images),
//	          "count" N, "dim" E, "done", "names" (JSON array), "failed" (JSON array of {index, name, error}),
//	          "names_b64" (only when a name is not valid UTF-8: the exact bytes of every name, base64; JSON
//	          would have replaced the invalid bytes, and readers prefer this key).
//
// The file is rewritten atomically (temporary file + rename) every CheckpointEvery (30 s), when the run is
// interrupted (context cancelled, e.g. Ctrl-C in the CLI), on error and at the end; a rerun loads the finished
// rows and embeds only the rest, giving the same result as an uninterrupted run. A cache whose model,
// preprocessing or inputs fingerprint differs is stale and is an error naming what changed, unless
// RecomputeStale is set. A file at the cache path that is not an embedding cache is never overwritten, even with
// RecomputeStale. While a run works on a cache it holds "<cache>.lock" (flock, with its pid): a second run on the
// same cache fails at once, naming the first; a lock left by a killed run is stale and taken over. [LoadCache] and
// [ReadCache] read a cache file. Any program can read it with a safetensors reader.
package clip
