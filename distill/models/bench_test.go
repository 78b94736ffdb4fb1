package models

import (
	"context"
	"io"
	"testing"
)

// benchmarkTrainEpoch times one epoch of 8 steps of 128 RGB 28×28 images (Fashion-MNIST size) after a warm-up
// epoch that compiles the graph. Reports images/s.
func benchmarkTrainEpoch(b *testing.B, cfg Config) {
	be := goBackend(b)
	s := colorSplit(1024, 28, 1)
	m, err := New(be, cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	opts := TrainOptions{Epochs: 1, BatchSize: 128, Progress: io.Discard}
	if _, err := m.Train(context.Background(), s, opts); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := m.Train(context.Background(), s, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*s.Len())/b.Elapsed().Seconds(), "images/s")
}

func BenchmarkTrainMLP(b *testing.B) {
	benchmarkTrainEpoch(b, Config{Arch: MLP, NumClasses: 2, H: 28, W: 28})
}

func BenchmarkTrainCNN(b *testing.B) {
	benchmarkTrainEpoch(b, Config{Arch: CNN, NumClasses: 2, H: 28, W: 28})
}

func BenchmarkTrainResNet18(b *testing.B) {
	benchmarkTrainEpoch(b, Config{Arch: ResNet18, NumClasses: 2, H: 28, W: 28, Stem: StemSmall})
}
