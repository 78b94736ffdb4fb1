// Package smoke writes small generated datasets in the on-disk layouts of CelebA and ILSVRC2012 (ImageNet), with
// a planted failure, so that the paper's analyses run end to end in seconds without the real data: the notebooks'
// smoke mode and the tests of the data loaders and the CLI.
//
//	dir := filepath.Join(os.TempDir(), "faildirs-smoke", "celeba")
//	err := smoke.WriteCelebA(dir, smoke.CelebAConfig{})   // img_align_celeba/, list_attr_celeba.txt, list_eval_partition.txt
//	spec := experiment.Spec{Data: experiment.CelebA, DataDir: dir, Latent: experiment.LatentRandom}
//
// The CelebA folder has the 40 attribute columns of the real list_attr_celeba.txt (Young and Male set by the
// group, the rest random) and images that show age weakly (a lighter face for young) and gender strongly (a blue
// band for men), so a small base model trained on the 4:1 age task leans on gender and fails more on the minority
// groups (old women, young men), as the paper's ResNet-18 does.
//
// The ImageNet folder has train/<wnid>/ and val/<wnid>/ JPEGs for a few real WordNet ids, and predictions CSVs
// (train.csv, val.csv, test.csv in preds/) of a made-up base model that fails mostly on each class's planted "hard"
// images: a dark image with a bright square, where the class's easy images are plain. [ImageNet.Hard] lists them,
// so a smoke run can check that the failure directions recover them.
//
// Both writers are deterministic given the configuration and skip the work when the folder already holds the same
// generated data (a manifest, smoke.json, written last, records the configuration): calling them at the top of
// every notebook cell costs nothing after the first.
package smoke
