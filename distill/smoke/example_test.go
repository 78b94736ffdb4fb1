package smoke_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/faildirs/faildirs/distill/data"
	"github.com/faildirs/faildirs/distill/smoke"
)

// ExampleWriteCelebA writes the notebooks' smoke CelebA and reads it back as the paper's age task.
func ExampleWriteCelebA() {
	dir, _ := os.MkdirTemp("", "smoke")
	defer os.RemoveAll(dir)
	root := filepath.Join(dir, "celeba")
	if err := smoke.WriteCelebA(root, smoke.CelebAConfig{}); err != nil {
		panic(err)
	}
	d, err := data.CelebAAge(root, data.CelebAConfig{})
	if err != nil {
		panic(err)
	}
	for _, s := range d.Splits() {
		fmt.Println(s.Name, s.GroupCounts(len(d.Groups)))
	}
	fmt.Println(d.Groups[1].Name)
	// Output:
	// train [200 50 200 50]
	// val [40 40 40 40]
	// test [60 30 60 30]
	// old, female (minority)
}
