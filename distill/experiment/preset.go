package experiment

// Quickstart returns the quick start's spec, the paper's CelebA experiment in miniature and offline: the planted
// spurious-colour experiment on Fashion-MNIST (T-shirt/top vs Shirt tinted red or green, 4:1 majority colour per
// class in train with opposite majorities, group-balanced validation, test at the natural mix with the minority
// colour a third of each class), an MLP base model (one hidden layer of 256 units, 20 epochs) and the tiny CLIP.
// Every default can be changed on the returned spec (e.g. Data = FashionRare for the rare-subclass experiment).
func Quickstart() Spec {
	return Spec{Data: FashionSpurious, Latent: LatentTiny}
}
