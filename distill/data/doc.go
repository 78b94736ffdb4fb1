// Package data turns image datasets into the labelled splits the failure-direction method works on: images,
// labels and, for the planted and CelebA experiments, ground-truth subgroups (used for evaluation only).
//
//	f, err := data.LoadFashion("")                                      // Debian's Fashion-MNIST, or $FAILDIRS_FASHION_MNIST
//	ds, err := data.Spurious(f, data.SpuriousConfig{})                  // the planted colour experiment
//	batch, err := ds.Train.Batch([]int{0, 1, 2}, 28, 28)                // *Images, RGB
//	ds, err = data.ImageFolder("photos/", data.FolderConfig{})          // any folder of class folders
//	preds, err := data.LoadPredictions("pred-test.csv")                 // bring your own model
//
// # Containers
//
// [Images] is the one pixel container: N same-sized 8-bit images, row-major N×H×W×C ("channels last"), C = 1 or 3
// (RGB). [Images.Image] gives an image.Image for galleries and for CLIP preprocessing; [Images.Float32] gives the
// [0, 1] tensor layout GoMLX models read.
//
// A [Dataset] has Train, Val, Test and an optional Pool [ImageSplit]. A split holds IDs (stable, the join key of
// predictions and embeddings), Labels, optional Groups and per-example attributes (Attrs, value names in
// Dataset.AttrValues, e.g. "color" → "red"), and either in-memory Images or image Files decoded on demand by
// [ImageSplit.Batch] (centre crop to the target aspect ratio, antialiased bilinear resize, RGB). Dataset.Groups
// describes each group: its name in words, its class and whether it is a minority group.
//
// # Datasets
//
//   - Fashion-MNIST ([LoadFashion]): IDX files, gzipped or raw, from /usr/share/datasets/fashion-mnist (Debian's
//     dataset-fashion-mnist), $FAILDIRS_FASHION_MNIST or a given directory; when missing, the error says how to
//     install or download them (with the upstream MD5 checksums). Gzipped files are inflated once into the user
//     cache ([InflatedIDXDir], about 55 MB for Fashion-MNIST) and read from there afterwards.
//   - Planted experiments on Fashion-MNIST, deterministic from a seed: [Spurious] (two close classes tinted with
//     two colours, 4:1 majority colour per class in train, opposite majorities; group = label*2 + minority) and
//     [Rare] (superclasses of Fashion-MNIST classes with one subclass per superclass rare in train; one group per
//     subclass). [Planted] is their general form: any number of classes, each made of groups (a Fashion-MNIST
//     item in one tint or gray, with its own count per split), so colour and subclass slices mix freely.
//     [FashionDataset] is plain ten-class Fashion-MNIST.
//   - CelebA ([CelebAAge]): the paper's age task (old/young from "Young", groups by "Male": old women and young
//     men are the minorities), 4:1 train, group-balanced validation, optional unlabeled pool.
//   - ImageNet ([ImageNet]): the ILSVRC2012 folder layout, classes = sorted wnids, names from WordNet 3.0
//     (package wordnet).
//   - Any image folder ([ImageFolder]): class folders, optionally under train/val/test.
//
// Predictions of any base model are exchanged as CSV "id,label,pred,conf[,group]" ([Predictions]).
//
// Loaders fail with errors that name the file (and line) at fault; files are written atomically. Images are decoded
// within a pixel budget ([Decoder], [DefaultMaxPixels]: an image whose header claims more is refused before any
// pixel is decoded), parallel decoders share it ([PixelGate]), and no reader allocates from a header more than
// the file holds.
package data
