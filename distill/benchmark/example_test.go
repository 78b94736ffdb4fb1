package benchmark_test

import (
	"fmt"

	"github.com/faildirs/faildirs/distill/benchmark"
)

// The first settings drawn from a seed: the kinds in turn, every choice from the seed and the setting's index.
func ExampleGenerate() {
	settings, err := benchmark.Generate(1, 4, benchmark.Sizes{})
	if err != nil {
		panic(err)
	}
	for _, s := range settings {
		fmt.Printf("%d %s: %s\n", s.Index, s.Kind, s.Name)
		for c, slices := range s.Slices() {
			for _, sl := range slices {
				fmt.Printf("  class %d slice %q named by %q\n", c, sl.Name, sl.Words)
			}
		}
	}
	// Output:
	// 0 spurious: Shirt (green; minority blue) vs Coat (blue; minority green) at 7.3:1
	//   class 0 slice "Shirt, blue (minority)" named by ["blue"]
	//   class 1 slice "Coat, green (minority)" named by ["green"]
	// 1 spurious-triple: Sandal (cyan; minority green, purple) vs Coat (green; minority cyan, purple) vs Shirt (purple; minority cyan, green) at 4.2:1
	//   class 0 slice "Sandal, green (minority)" named by ["green"]
	//   class 0 slice "Sandal, purple (minority)" named by ["purple"]
	//   class 1 slice "Coat, cyan (minority)" named by ["cyan"]
	//   class 1 slice "Coat, purple (minority)" named by ["purple"]
	//   class 2 slice "Shirt, cyan (minority)" named by ["cyan"]
	//   class 2 slice "Shirt, green (minority)" named by ["green"]
	// 2 rare: {T-shirt/top|Shirt; rare Shirt} {Trouser|Ankle boot|Sandal; rare Sandal} at rare fraction 0.021
	//   class 0 slice "Shirt (minority)" named by ["shirt" "blouse" "button-down shirt"]
	//   class 1 slice "Sandal (minority)" named by ["sandal" "flip-flop" "open shoe"]
	// 3 rare-two: {Ankle boot|T-shirt/top|Pullover; rare Ankle boot, Pullover} {Sneaker|Bag; rare Sneaker} {Shirt|Dress; rare Dress} at rare fraction 0.051 and 0.074
	//   class 0 slice "Ankle boot (minority)" named by ["ankle boot" "boot" "bootie"]
	//   class 0 slice "Pullover (minority)" named by ["pullover" "sweater" "jumper"]
	//   class 1 slice "Sneaker (minority)" named by ["sneaker" "trainer" "running shoe"]
	//   class 2 slice "Dress (minority)" named by ["dress" "gown" "frock"]
}
