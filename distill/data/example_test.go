package data_test

import (
	"fmt"

	"github.com/faildirs/faildirs/distill/data"
)

// Image folders, ImageNet and `faildirs embed` collect files by one list of extensions, and DecodeFile reads
// every format in it.
func ExampleIsImageFile() {
	fmt.Println(data.ImageExtensions())
	for _, name := range []string{"cat.JPG", "scan.tiff", "notes.txt", "._cat.jpg"} {
		fmt.Println(name, data.IsImageFile(name))
	}
	// Output:
	// [.bmp .gif .jpeg .jpg .png .tif .tiff .webp]
	// cat.JPG true
	// scan.tiff true
	// notes.txt false
	// ._cat.jpg false
}
